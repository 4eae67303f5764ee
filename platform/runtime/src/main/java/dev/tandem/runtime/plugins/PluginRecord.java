package dev.tandem.runtime.plugins;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/** What the runtime knows of one installed plugin: identity, state and the reason for it, its mappings. */
public final class PluginRecord {

  private final String id;
  private final String version;
  private final String provider;
  private final String description;
  private final String path;
  private PluginState state;
  private String reason;
  private final List<MappingStatus> mappings = new ArrayList<>();
  private final List<String> deployments = new ArrayList<>();

  PluginRecord(String id, String version, String provider, String description, String path) {
    this.id = id;
    this.version = version;
    this.provider = provider;
    this.description = description;
    this.path = path;
    this.state = PluginState.STARTED;
  }

  /** @return plugin id */
  public String id() {
    return id;
  }

  /** @return state */
  public PluginState state() {
    return state;
  }

  /** @return why it is not fully started, or null */
  public String reason() {
    return reason;
  }

  /** @return its mappings */
  public List<MappingStatus> mappings() {
    return List.copyOf(mappings);
  }

  List<MappingStatus> mappingsMutable() {
    return mappings;
  }

  List<String> deployments() {
    return deployments;
  }

  void fail(String why) {
    state = PluginState.FAILED;
    reason = why;
  }

  void state(PluginState s, String why) {
    state = s;
    reason = why;
  }

  /**
   * @return the admin API's view: the plugin's file by name only, and no absolute path of the node's file system in
   *     the reason either (an anonymous probe of the layout learns nothing)
   */
  public JsonObject toJson() {
    JsonArray ms = new JsonArray();
    mappings.forEach(m -> ms.add(m.toJson()));
    String file = path;
    String shownReason = reason;
    if (path != null) {
      java.nio.file.Path p = java.nio.file.Path.of(path);
      file = p.getFileName() == null ? path : p.getFileName().toString();
      java.nio.file.Path dir = p.toAbsolutePath().getParent();
      if (shownReason != null && dir != null) {
        shownReason = shownReason.replace(dir.toString() + java.io.File.separator, "")
            .replace(dir.toString(), "<plugins>");
      }
    }
    return new JsonObject()
        .put("id", id)
        .put("version", version)
        .put("provider", provider)
        .put("description", description)
        .put("path", file)
        .put("state", state.name())
        .put("reason", shownReason)
        .put("mappings", ms);
  }
}
