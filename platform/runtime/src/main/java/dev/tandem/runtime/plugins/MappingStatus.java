package dev.tandem.runtime.plugins;

import dev.tandem.api.MappingDefinition;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/** A mapping as loaded: its definition, which plugin gave it, whether it may run and why not. */
public final class MappingStatus {

  private final MappingDefinition definition;
  private final String pluginId;
  private String disabledReason;
  private final List<String> notes = new ArrayList<>();

  MappingStatus(MappingDefinition definition, String pluginId) {
    this.definition = definition;
    this.pluginId = pluginId;
  }

  /** @return the definition */
  public MappingDefinition definition() {
    return definition;
  }

  /** @return the providing plugin's id */
  public String pluginId() {
    return pluginId;
  }

  /** @return the mapping's name */
  public String name() {
    return definition.name();
  }

  /** @return true when the mapping may run */
  public boolean enabled() {
    return disabledReason == null;
  }

  /** @return why the mapping is disabled, or null */
  public String disabledReason() {
    return disabledReason;
  }

  /** @return remarks that do not disable it (an optional dependency that is absent) */
  public List<String> notes() {
    return List.copyOf(notes);
  }

  void disable(String reason) {
    if (disabledReason == null) {
      disabledReason = reason;
    }
  }

  void note(String note) {
    notes.add(note);
  }

  /** @return the admin API's view */
  public JsonObject toJson() {
    JsonArray deps = new JsonArray();
    definition.dependencies().forEach(d -> deps.add(new JsonObject().put("mapping", d.mapping())
        .put("optional", d.optional())));
    return new JsonObject()
        .put("name", name())
        .put("plugin", pluginId)
        .put("erpEntitySet", definition.erpEntitySet())
        .put("crmEntitySet", definition.crmEntitySet())
        .put("direction", definition.direction().name())
        .put("dependencies", deps)
        .put("state", enabled() ? "ENABLED" : "DISABLED")
        .put("reason", disabledReason)
        .put("notes", new JsonArray(notes()));
  }
}
