package dev.tandem.api;

import io.vertx.core.Deployable;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * A verticle a plugin contributes for one of its mappings. The runtime deploys it with the plugin's class
 * loader; {@code instances} copies share the mapping's address, so jobs are spread over them.
 *
 * @param kind whether the verticle serves sync jobs ({@link JobKind#SYNC}, {@link JobKind#FULL_SYNC}) or
 *     coupling jobs; use {@link JobKind#SYNC} or {@link JobKind#COUPLE}
 * @param mapping the mapping it serves
 * @param factory creates one instance per deployment copy
 * @param instances how many copies to deploy, at least 1
 */
public record VerticleContribution(JobKind kind, String mapping, Supplier<? extends Deployable> factory,
    int instances) {

  /** Validates. */
  public VerticleContribution {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(mapping, "mapping");
    Objects.requireNonNull(factory, "factory");
    if (instances < 1) {
      throw new IllegalArgumentException("instances must be at least 1");
    }
  }

  /**
   * @param mapping mapping served
   * @param factory creates the verticle
   * @return a single-instance sync verticle contribution
   */
  public static VerticleContribution sync(String mapping, Supplier<? extends Deployable> factory) {
    return new VerticleContribution(JobKind.SYNC, mapping, factory, 1);
  }

  /**
   * @param mapping mapping served
   * @param factory creates the verticle
   * @return a single-instance coupling verticle contribution
   */
  public static VerticleContribution coupling(String mapping, Supplier<? extends Deployable> factory) {
    return new VerticleContribution(JobKind.COUPLE, mapping, factory, 1);
  }

  /** @return the event-bus address the verticle should consume */
  public String address() {
    return kind.address(mapping);
  }
}
