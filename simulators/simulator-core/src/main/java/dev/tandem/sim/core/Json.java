package dev.tandem.sim.core;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.Map;

/** JSON for the simulators: rows are {@code Map<String, Object>} with JSON-compatible values. */
public final class Json {

  /** The shared mapper. */
  public static final ObjectMapper MAPPER = new ObjectMapper();

  private Json() {}

  /**
   * @param value any value
   * @return its JSON text
   */
  public static String write(Object value) {
    try {
      return MAPPER.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * @param text a JSON object
   * @return it as a map
   * @throws IllegalArgumentException when it is not a JSON object
   */
  public static Map<String, Object> object(String text) {
    try {
      return MAPPER.readValue(text, new TypeReference<java.util.LinkedHashMap<String, Object>>() {});
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("the body is not a JSON object: " + e.getOriginalMessage());
    }
  }

  /**
   * @param value a value read from JSON
   * @return it as a list of objects
   */
  @SuppressWarnings("unchecked")
  public static List<Map<String, Object>> objects(Object value) {
    return (List<Map<String, Object>>) value;
  }
}
