package dev.tandem.runtime.plugins;

import java.nio.file.Path;
import java.util.List;
import org.pf4j.ClassLoadingStrategy;
import org.pf4j.CompoundPluginLoader;
import org.pf4j.DefaultPluginLoader;
import org.pf4j.DefaultPluginManager;
import org.pf4j.JarPluginLoader;
import org.pf4j.PluginClassLoader;
import org.pf4j.PluginDescriptor;
import org.pf4j.PluginLoader;
import org.pf4j.PluginManager;
import org.pf4j.PluginWrapper;

/**
 * PF4J's plugin manager with one change: the packages plugins share with the runtime always come from the
 * runtime's class loader. PF4J loads plugin-first; a plugin that bundled its own copy of the API or Vert.x would
 * otherwise get its own {@code EntityPlugin} class, and the runtime would silently find no extension in it.
 */
public final class TandemPluginManager extends DefaultPluginManager {

  /** Package prefixes always loaded from the runtime. */
  static final List<String> SHARED_PACKAGES = List.of(
      "dev.tandem.api.", "io.vertx.", "io.netty.", "com.fasterxml.jackson.", "io.micrometer.", "org.slf4j.",
      "org.pf4j.");

  /** @param pluginsDir where plugin jars and zips are */
  public TandemPluginManager(Path pluginsDir) {
    super(pluginsDir);
  }

  @Override
  protected PluginLoader createPluginLoader() {
    return new CompoundPluginLoader()
        .add(new SharedJarPluginLoader(this))
        .add(new SharedDirectoryPluginLoader(this));
  }

  /** @return the plugin jars and directories found (zips are expanded into directories first) */
  public List<Path> pluginPaths() {
    return pluginRepository.getPluginPaths();
  }

  /** PF4J 3.15's stopPlugins() throws ConcurrentModificationException: stop them one by one, then unload. */
  public void stopAndUnloadAll() {
    for (PluginWrapper p : List.copyOf(getStartedPlugins())) {
      try {
        stopPlugin(p.getPluginId());
      } catch (RuntimeException e) {
        System.getLogger(TandemPluginManager.class.getName())
            .log(System.Logger.Level.WARNING, "stopping plugin " + p.getPluginId() + " failed: " + e);
      }
    }
    unloadPlugins();
  }

  static PluginClassLoader sharedClassLoader(PluginManager manager, PluginDescriptor descriptor) {
    return new PluginClassLoader(manager, descriptor, TandemPluginManager.class.getClassLoader(),
        ClassLoadingStrategy.PDA) {
      @Override
      protected boolean shouldDelegateToParent(String className) {
        for (String prefix : SHARED_PACKAGES) {
          if (className.startsWith(prefix)) {
            return true;
          }
        }
        return false;
      }
    };
  }

  /** Loads plugin jars. */
  private static final class SharedJarPluginLoader extends JarPluginLoader {
    SharedJarPluginLoader(PluginManager manager) {
      super(manager);
    }

    @Override
    protected PluginClassLoader createPluginClassLoader(Path pluginPath, PluginDescriptor descriptor) {
      return sharedClassLoader(pluginManager, descriptor);
    }
  }

  /** Loads plugin directories, which is what PF4J expands plugin zips into. */
  private static final class SharedDirectoryPluginLoader extends DefaultPluginLoader {
    SharedDirectoryPluginLoader(PluginManager manager) {
      super(manager);
    }

    @Override
    protected PluginClassLoader createPluginClassLoader(Path pluginPath, PluginDescriptor descriptor) {
      return sharedClassLoader(pluginManager, descriptor);
    }
  }
}
