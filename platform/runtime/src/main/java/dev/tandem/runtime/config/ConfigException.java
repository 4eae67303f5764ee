package dev.tandem.runtime.config;

import java.util.List;

/** Thrown when the configuration cannot be used; lists every problem, each naming the setting. */
public final class ConfigException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final List<String> problems;

  /** @param problems one line per bad or missing setting */
  public ConfigException(List<String> problems) {
    super("Invalid configuration:\n  - " + String.join("\n  - ", problems));
    this.problems = List.copyOf(problems);
  }

  /** @return one line per problem */
  public List<String> problems() {
    return problems;
  }
}
