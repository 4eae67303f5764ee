package dev.tandem.api;

/** Where in a job a failure happened; every error carries one. */
public enum Stage {
  /** Reading rows from the source side. */
  READ,
  /** Transforming a row through field mappings and option mappings. */
  TRANSFORM,
  /** Resolving a reference through the couplings of another mapping. */
  LOOKUP,
  /** Writing to the destination side. */
  WRITE,
  /** Storing couplings, results and the checkpoint in PostgreSQL. */
  COMMIT,
  /** Dispatching the job to its verticle. */
  DISPATCH
}
