package dev.tandem.api;

import io.vertx.core.Deployable;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * A verticle a plugin contributes for one of its mappings. The runtime deploys it with the plugin's class
 * loader; {@code instances} copies share the mapping's address, so jobs are spread over them.
 *
 * @param kind whether the verticle serves sync jobs ({@link JobKind#SYNC}, {@link JobKind#FULL_SYNC}) or
 *     coupling jobs ({@link JobKind#SYNC} or {@link JobKind#COUPLE}); {@code null} for a service verticle that
 *     serves no job address of its own (see {@link #service})
 * @param mapping the mapping it serves
 * @param factory creates one instance per deployment copy
 * @param instances how many copies to deploy, at least 1
 */
public record VerticleContribution(JobKind kind, String mapping, Supplier<? extends Deployable> factory,
    int instances) {

  /** Validates. */
  public VerticleContribution {
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

  /**
   * A verticle that belongs with a mapping but serves no job: it answers something else on the event bus
   * (item availability on {@link Addresses#AVAILABILITY}). It is deployed while the mapping is enabled; the
   * mapping's jobs are still run by the runtime's engine unless another contribution serves them.
   *
   * @param mapping the mapping it belongs with
   * @param factory creates the verticle
   * @return the contribution
   */
  public static VerticleContribution service(String mapping, Supplier<? extends Deployable> factory) {
    return new VerticleContribution(null, mapping, factory, 1);
  }

  /** @return the event-bus address the verticle should consume */
  public String address() {
    if (kind == null) {
      return null;
    }
    return kind.address(mapping);
  }
}
