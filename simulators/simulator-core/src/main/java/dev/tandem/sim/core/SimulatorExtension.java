package dev.tandem.sim.core;

import java.util.function.Supplier;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Starts a simulator in-process on a free port for a test class and stops it afterwards:
 * {@code @RegisterExtension static SimulatorExtension<ErpSimulator> erp = new SimulatorExtension<>(ErpSimulator::new);}.
 *
 * @param <S> the simulator type
 */
public class SimulatorExtension<S extends Simulator> implements BeforeAllCallback, AfterAllCallback {

  private final Supplier<S> factory;
  private S simulator;

  /** @param factory creates the simulator (on port 0) */
  public SimulatorExtension(Supplier<S> factory) {
    this.factory = factory;
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    simulator = factory.get();
    simulator.start();
  }

  @Override
  public void afterAll(ExtensionContext context) {
    if (simulator != null) {
      simulator.stop();
    }
  }

  /** @return the running simulator */
  public S get() {
    return simulator;
  }
}
