package dev.tandem.testkit;

import dev.tandem.testkit.orders.TestOrdersPlugin;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;

/**
 * The parent/child acceptance suite on a test-only header-with-lines plugin ({@link TestOrdersPlugin}), whose jar
 * this class packs from the test classes before the node starts.
 */
class TestOrdersAcceptanceIT extends HeaderLinesAcceptanceSuite {

  /**
   * Registered so that JUnit reads a field of this class, which initializes it (and packs the jar) before the
   * suite's node starts; the suite's own fields only initialize the superclass.
   */
  @org.junit.jupiter.api.extension.RegisterExtension
  static final org.junit.jupiter.api.extension.BeforeAllCallback PACKED = context -> { };

  static {
    pack(Path.of(System.getProperty("tandem.plugin.jar", "target/plugin.jar")));
  }

  private static String account;
  private static String currency;
  private static String priceList;

  /** A real PF4J plugin jar: descriptor in the manifest, the extension index, the plugin's classes only. */
  private static void pack(Path jar) {
    try {
      Path classes = Path.of(TestOrdersPlugin.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      Path dir = classes.resolve("dev/tandem/testkit/orders");
      Manifest mf = new Manifest();
      Attributes a = mf.getMainAttributes();
      a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
      a.putValue("Plugin-Id", "test-orders");
      a.putValue("Plugin-Version", "1.0.0");
      a.putValue("Plugin-Provider", "Tandem tests");
      a.putValue("Plugin-Description", "header-with-lines test plugin");
      Files.createDirectories(jar.toAbsolutePath().getParent());
      try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), mf);
          Stream<Path> files = Files.list(dir)) {
        out.putNextEntry(new JarEntry("META-INF/extensions.idx"));
        out.write((TestOrdersPlugin.class.getName() + "\n").getBytes());
        out.closeEntry();
        for (Path f : files.filter(p -> p.toString().endsWith(".class")).toList()) {
          out.putNextEntry(new JarEntry("dev/tandem/testkit/orders/" + f.getFileName()));
          out.write(Files.readAllBytes(f));
          out.closeEntry();
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (java.net.URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  protected String mapping() {
    return TestOrdersPlugin.ORDERS;
  }

  @Override
  protected String linesMapping() {
    return TestOrdersPlugin.LINES;
  }

  @Override
  protected void prepare() throws Exception {
    // The ERP customer and write-in item the plugin's settings name, as a person would set them up.
    erp("POST", "UnitOfMeasure", new JsonObject().put("Code", "PCS").put("Description", "Piece"));
    int c = erp("POST", "Customer", new JsonObject().put("No", "C-ORDERS").put("Name", "Orders test customer"));
    int i = erp("POST", "Item", new JsonObject().put("No", "WRITE-IN").put("Description", "Write-in product")
        .put("Base_Unit_of_Measure", "PCS"));
    if (c != 201 || i != 201) {
      throw new AssertionError("ERP customer " + c + ", item " + i);
    }
    account = crmCreate("accounts", new JsonObject().put("name", "Orders test account"));
    List<Object> eur = crmGet("transactioncurrencies?$filter=isocurrencycode%20eq%20'EUR'").getJsonArray("value")
        .getList();
    currency = eur.isEmpty() ? crmCreate("transactioncurrencies", new JsonObject().put("isocurrencycode", "EUR")
        .put("currencyname", "Euro").put("currencysymbol", "€").put("exchangerate", 1.0))
        : String.valueOf(((java.util.Map<?, ?>) eur.get(0)).get("transactioncurrencyid"));
    priceList = crmCreate("pricelevels", new JsonObject().put("name", "Orders test prices")
        .put("transactioncurrencyid@odata.bind", "/transactioncurrencies(" + currency + ")"));
  }

  @Override
  protected JsonObject crmHeader(String number) {
    return new JsonObject().put("name", "Order " + number).put("ordernumber", number)
        .put("customerid_account@odata.bind", "/accounts(" + account + ")")
        .put("pricelevelid@odata.bind", "/pricelevels(" + priceList + ")")
        .put("transactioncurrencyid@odata.bind", "/transactioncurrencies(" + currency + ")");
  }
}
