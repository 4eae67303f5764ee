package dev.tandem.api;

/** The direction a mapping, a field or a job synchronizes in. */
public enum Direction {
  /** ERP to CRM. */
  TO_CRM,
  /** CRM to ERP. */
  FROM_CRM,
  /** Both ways; conflicts are settled by the mapping's conflict policy. */
  BIDIRECTIONAL;

  /**
   * Whether data moving in {@code flow} (a one-way direction) is allowed by this direction.
   *
   * @param flow {@link #TO_CRM} or {@link #FROM_CRM}
   * @return true when this direction includes {@code flow}
   */
  public boolean includes(Direction flow) {
    if (flow == BIDIRECTIONAL) {
      throw new IllegalArgumentException("a flow is one-way: TO_CRM or FROM_CRM");
    }
    return this == BIDIRECTIONAL || this == flow;
  }
}
