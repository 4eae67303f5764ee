package dev.tandem.sim.core;

import java.util.function.Function;
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

  private final Function<Class<?>, S> factory;
  private S simulator;

  /** @param factory creates the simulator (on port 0) */
  public SimulatorExtension(Supplier<S> factory) {
    this.factory = testClass -> factory.get();
  }

  private SimulatorExtension(Function<Class<?>, S> factory, boolean perClass) {
    this.factory = factory;
  }

  /**
   * For an extension declared in an abstract test class: the simulator is made for each concrete test class, so a
   * subclass can choose its settings (an annotation it carries, say).
   *
   * @param factory creates the simulator for the test class being run
   * @param <S> the simulator type
   * @return the extension
   */
  public static <S extends Simulator> SimulatorExtension<S> perTestClass(Function<Class<?>, S> factory) {
    return new SimulatorExtension<>(factory, true);
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    simulator = factory.apply(context.getRequiredTestClass());
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
