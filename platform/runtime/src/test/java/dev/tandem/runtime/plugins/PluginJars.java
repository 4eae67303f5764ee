package dev.tandem.runtime.plugins;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

/**
 * Builds real PF4J plugin jars and zips inside a test: compiles the sources with javac (PF4J's annotation
 * processor writes META-INF/extensions.idx, as in a plugin's own build) and packs them with a descriptor.
 */
public final class PluginJars {

  private PluginJars() {}

  public static Path compile(Path work, Map<String, String> sources) throws IOException {
    Path src = Files.createDirectories(work.resolve("src"));
    Path out = Files.createDirectories(work.resolve("classes"));
    List<String> args = new ArrayList<>(List.of("-d", out.toString(), "-classpath",
        System.getProperty("java.class.path"), "--release", "17", "-proc:full"));
    for (Map.Entry<String, String> e : sources.entrySet()) {
      Path file = src.resolve(e.getKey().replace('.', '/') + ".java");
      Files.createDirectories(file.getParent());
      Files.writeString(file, e.getValue());
      args.add(file.toString());
    }
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    int rc = javac.run(null, null, System.err, args.toArray(new String[0]));
    if (rc != 0) {
      throw new IllegalStateException("javac failed for " + sources.keySet());
    }
    return out;
  }

  /** A plugin jar with its descriptor in the manifest. */
  public static Path jar(Path pluginsDir, String id, String pluginClass, Map<String, String> sources, Path work)
      throws IOException {
    Path classes = compile(work.resolve(id), sources);
    Manifest mf = new Manifest();
    Attributes a = mf.getMainAttributes();
    a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
    a.putValue("Plugin-Id", id);
    a.putValue("Plugin-Version", "1.0.0");
    a.putValue("Plugin-Provider", "Tandem tests");
    a.putValue("Plugin-Description", "test plugin " + id);
    if (pluginClass != null) {
      a.putValue("Plugin-Class", pluginClass);
    }
    Path jar = pluginsDir.resolve(id + "-1.0.0.jar");
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), mf)) {
      copyTree(classes, "", out);
    }
    return jar;
  }

  /** A plugin zip: plugin.properties at the root, classes under classes/, as PF4J expands it. */
  public static Path zip(Path pluginsDir, String id, Map<String, String> sources, Path work) throws IOException {
    Path classes = compile(work.resolve(id), sources);
    Path zip = pluginsDir.resolve(id + "-1.0.0.zip");
    try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(zip))) {
      out.putNextEntry(new ZipEntry("plugin.properties"));
      out.write(("plugin.id=" + id + "\nplugin.version=1.0.0\nplugin.provider=Tandem tests\n"
          + "plugin.description=zipped test plugin\n").getBytes());
      out.closeEntry();
      copyTree(classes, "classes/", out);
    }
    return zip;
  }

  private static void copyTree(Path root, String prefix, ZipOutputStream out) throws IOException {
    try (Stream<Path> files = Files.walk(root)) {
      for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
        out.putNextEntry(new ZipEntry(prefix + root.relativize(f).toString().replace('\\', '/')));
        try (OutputStream ignored = null) {
          out.write(Files.readAllBytes(f));
        }
        out.closeEntry();
      }
    }
  }

  /** Source of a plugin declaring one mapping and a sync verticle that replies with fixed counts. */
  public static String entityPlugin(String pkg, String cls, String mapping, String dependsOn) {
    return """
        package %1$s;

        import dev.tandem.api.*;
        import io.vertx.core.Future;
        import io.vertx.core.VerticleBase;
        import java.util.List;
        import org.pf4j.Extension;

        @Extension
        public class %2$s implements EntityPlugin {
          @Override
          public List<MappingDefinition> mappings() {
            MappingDefinition.Builder b = MappingDefinition.builder("%3$s")
                .erp("Customer", "No").crm("accounts", "accountid");
            %4$s
            return List.of(b.build());
          }

          @Override
          public List<VerticleContribution> verticles(PluginContext ctx) {
            return List.of(VerticleContribution.sync("%3$s", () -> new VerticleBase() {
              @Override
              public Future<?> start() {
                return vertx.eventBus().consumer(Addresses.sync("%3$s"), m -> {
                  ctx.metrics().count("jobs.served", 1, "mapping", "%3$s");
                  m.reply(new JobOutcome(2, 1, 0, 5, 0, 0, 0, 0, "served by " + ctx.pluginId()).toJson());
                }).completion();
              }
            }));
          }
        }
        """.formatted(pkg, cls, mapping, dependsOn == null ? "" : "b.dependsOn(\"" + dependsOn + "\");");
  }

  /**
   * Source of a plugin whose one mapping, ACCOUNTS, copies ERP customers (name and number) to CRM accounts.
   *
   * @param pkg the package; the class is {@code Accounts}
   * @return the source
   */
  public static String accountsToCrm(String pkg) {
    return """
        package %s;

        import dev.tandem.api.*;
        import java.util.List;
        import org.pf4j.Extension;

        @Extension
        public class Accounts implements EntityPlugin {
          @Override
          public List<MappingDefinition> mappings() {
            return List.of(MappingDefinition.builder("ACCOUNTS")
                .erp("Customer", "No").crm("accounts", "accountid").direction(Direction.TO_CRM)
                .field("Name", "name", Direction.TO_CRM)
                .field("No", "accountnumber", Direction.TO_CRM)
                .build());
          }
        }
        """.formatted(pkg);
  }
}
