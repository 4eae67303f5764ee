package dev.tandem.runtime;

import static com.tngtech.archunit.base.DescribedPredicate.describe;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaCall;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The runtime's package rules (docs/architecture.md, "Packages"): SQL only in {@code store}; {@code store} and
 * {@code connectors} built on the api and their libraries only; no package cycles.
 */
class ArchitectureTest {

  private static final String RUNTIME = "dev.tandem.runtime";
  private static final String STORE = RUNTIME + ".store..";

  private static final JavaClasses CLASSES = new ClassFileImporter()
      .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
      .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_JARS)
      .importPackages(RUNTIME);

  /**
   * What may pass through the engine outside {@code store}: the pool and a transaction's connection, as handles.
   * A page commits couplings, results, errors and its checkpoint through several stores in one transaction fenced
   * by the job's lease, so the engine opens the transaction ({@code Pool.withTransaction}) and hands the connection
   * to each store; nothing outside {@code store} issues a statement or reads a row. The connect options travel from
   * the configuration to the LISTEN connections ({@code store.PgChannelListener}).
   */
  private static final Set<String> HANDLES = Set.of("io.vertx.sqlclient.Pool", "io.vertx.sqlclient.SqlClient",
      "io.vertx.sqlclient.SqlConnection", "io.vertx.pgclient.PgConnectOptions");

  /**
   * Outside {@code store} and still allowed the PostgreSQL client: {@code TandemRuntime} creates the pool (it wires
   * the node) and {@code DatabaseSettings} turns the configuration into connect options (SSL mode included).
   */
  private static final Set<String> WIRING = Set.of(RUNTIME + ".TandemRuntime", RUNTIME + ".config.DatabaseSettings");

  private static final DescribedPredicate<JavaClass> SQL_API = describe(
      "the PostgreSQL client's statements, rows and errors (io.vertx.sqlclient / io.vertx.pgclient but " + HANDLES + ")",
      c -> (c.getPackageName().startsWith("io.vertx.sqlclient") || c.getPackageName().startsWith("io.vertx.pgclient"))
          && !HANDLES.contains(c.getName()));

  private static final DescribedPredicate<JavaClass> OUTSIDE_STORE = describe("are outside store and not wiring",
      c -> !c.getPackageName().startsWith(RUNTIME + ".store") && !WIRING.contains(c.getName())
          && !WIRING.contains(c.getName().replaceFirst("\\$.*", "")));

  @Test
  void sqlOnlyInTheStore() {
    noClasses().that(OUTSIDE_STORE).should().dependOnClassesThat(SQL_API)
        .because("SQL lives in the store package (Pg* classes); the engine only passes transactions along")
        .check(CLASSES);
    noClasses().that(OUTSIDE_STORE).should().callMethodWhere(describe("a statement on a PostgreSQL client",
            (JavaCall<?> call) -> call.getTargetOwner().isAssignableTo("io.vertx.sqlclient.SqlClient")
                && Set.of("query", "preparedQuery", "prepare").contains(call.getName())))
        .because("SQL lives in the store package")
        .check(CLASSES);
  }

  @Test
  void storeDependsOnTheApiAndItsLibrariesOnly() {
    classes().that().resideInAPackage(STORE).should().onlyDependOnClassesThat(describe(
            "are the store itself, the api, the JDK, Vert.x core, the PostgreSQL client or Flyway",
            c -> inAny(c, RUNTIME + ".store", "dev.tandem.api", "java", "io.vertx.core", "io.vertx.sqlclient",
                "io.vertx.pgclient", "org.flywaydb")
                // As designed: the migrator reads its connection from the database settings (a value of config,
                // which depends on nothing of the store).
                || c.getName().equals(RUNTIME + ".config.DatabaseSettings")))
        .check(CLASSES);
  }

  @Test
  void connectorsDependOnTheApiAndTheirLibrariesOnly() {
    classes().that().resideInAPackage(RUNTIME + ".connectors..").should().onlyDependOnClassesThat(describe(
            "are the connectors themselves, the api, the JDK (its XML parser too), Vert.x core and web client, Netty or "
                + "Micrometer",
            c -> inAny(c, RUNTIME + ".connectors", "dev.tandem.api", "java", "javax.xml", "org.w3c.dom", "org.xml.sax",
                "io.vertx.core", "io.vertx.ext.web.client", "io.vertx.ext.web.codec", "io.vertx.uritemplate", "io.netty",
                "io.micrometer")))
        .check(CLASSES);
  }

  /** One event-bus protocol: every request goes out through {@code bus.Bus} as a {@code bus.BusMessages} record. */
  @Test
  void requestsGoThroughTheBusPackage() {
    noClasses().that().resideOutsideOfPackage(RUNTIME + ".bus..").should().callMethodWhere(describe(
            "a request on the event bus", (JavaCall<?> call) -> call.getTargetOwner().isAssignableTo(
                "io.vertx.core.eventbus.EventBus") && call.getName().equals("request")))
        .because("requests are typed (bus.BusMessages) and their failures read one way (bus.BusError)")
        .check(CLASSES);
    classes().that().resideInAPackage(RUNTIME + ".bus..").should().onlyDependOnClassesThat(describe(
            "are the bus itself, the api, the JDK or Vert.x core",
            c -> inAny(c, RUNTIME + ".bus", "dev.tandem.api", "java", "io.vertx.core")))
        .check(CLASSES);
  }

  /** No package cycles at all: a dependency that closes one fails here. */
  @Test
  void noPackageCycles() {
    slices().matching(RUNTIME + ".(*)..").namingSlices("$1").should().beFreeOfCycles().check(CLASSES);
  }

  private static boolean inAny(JavaClass c, String... packages) {
    JavaClass base = c.isArray() ? c.getBaseComponentType() : c;
    if (base.isPrimitive()) {
      return true;
    }
    String p = base.getPackageName();
    for (String root : packages) {
      if (p.equals(root) || p.startsWith(root + ".")) {
        return true;
      }
    }
    return false;
  }
}
