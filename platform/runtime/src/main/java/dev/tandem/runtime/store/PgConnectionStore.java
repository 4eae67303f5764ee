package dev.tandem.runtime.store;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The stored connection (one row of settings, its sealed secrets, the last check results) and the setup guide's
 * state, in PostgreSQL. Secrets arrive sealed: this class never sees them in clear. Every change fires the
 * schema's connection channel ({@link #channel(String)}), on which every node reloads.
 */
public final class PgConnectionStore {

  private final Pool pool;

  /** @param pool the pool */
  public PgConnectionStore(Pool pool) {
    this.pool = pool;
  }

  /**
   * @param schema the schema
   * @return the NOTIFY channel of its connection changes
   */
  public static String channel(String schema) {
    return PgNodeRegistry.jobChannel(schema).replace("tandem_jobs_", "tandem_conn_");
  }

  /**
   * A sealed secret as stored.
   *
   * @param sealed nonce, ciphertext and tag
   * @param keyId the key that sealed it
   * @param changedAt when it was last set
   */
  public record Sealed(byte[] sealed, String keyId, Instant changedAt) {
    /** Never shows the bytes. */
    @Override
    public String toString() {
      return "Sealed[keyId=" + keyId + ", changedAt=" + changedAt + "]";
    }
  }

  /**
   * The stored connection.
   *
   * @param settings the non-secret settings
   * @param enabled the Enabled switch
   * @param disabledReason why it is off
   * @param revision bumped by every change
   * @param updatedAt when it last changed
   * @param secrets the sealed secrets by name
   */
  public record Stored(JsonObject settings, boolean enabled, String disabledReason, long revision, Instant updatedAt,
      Map<String, Sealed> secrets) {}

  /** @return the stored connection, if any */
  public Future<Optional<Stored>> load() {
    return pool.withConnection(c -> c.query("SELECT settings, enabled, disabled_reason, revision, updated_at "
            + "FROM connection_setting WHERE id = 1").execute()
        .compose(rows -> {
          if (rows.size() == 0) {
            return Future.succeededFuture(Optional.<Stored>empty());
          }
          Row r = rows.iterator().next();
          return c.query("SELECT name, sealed, key_id, changed_at FROM connection_secret").execute().map(s -> {
            Map<String, Sealed> secrets = new LinkedHashMap<>();
            s.forEach(x -> secrets.put(x.getString("name"), new Sealed(x.getBuffer("sealed").getBytes(),
                x.getString("key_id"), x.getOffsetDateTime("changed_at").toInstant())));
            Object json = r.getValue("settings");
            return Optional.of(new Stored(json instanceof JsonObject j ? j : new JsonObject(String.valueOf(json)),
                r.getBoolean("enabled"), r.getString("disabled_reason"), r.getLong("revision"),
                r.getOffsetDateTime("updated_at").toInstant(), secrets));
          });
        }));
  }

  /**
   * Saves the connection in one transaction: the settings, the secrets given (sealed), and drops the secrets the
   * settings no longer refer to.
   *
   * @param settings non-secret settings
   * @param enabled the switch
   * @param disabledReason why it is off
   * @param changed newly sealed secrets by name
   * @param keyId the key that sealed them
   * @param keep every secret name the settings refer to
   * @return the new revision
   */
  public Future<Long> save(JsonObject settings, boolean enabled, String disabledReason, Map<String, byte[]> changed,
      String keyId, Set<String> keep) {
    return pool.withTransaction(c -> c.preparedQuery("INSERT INTO connection_setting (id, settings, enabled, "
            + "disabled_reason) VALUES (1, $1, $2, $3) ON CONFLICT (id) DO UPDATE SET settings = $1, enabled = $2, "
            + "disabled_reason = $3, revision = connection_setting.revision + 1, updated_at = now() RETURNING revision")
        .execute(Tuple.of(settings, enabled, disabledReason))
        .compose(rows -> {
          long revision = rows.iterator().next().getLong(0);
          List<Tuple> batch = new ArrayList<>();
          changed.forEach((name, sealed) -> batch.add(Tuple.of(name, Buffer.buffer(sealed), keyId)));
          Future<?> put = batch.isEmpty() ? Future.succeededFuture()
              : c.preparedQuery("INSERT INTO connection_secret (name, sealed, key_id) VALUES ($1, $2, $3) "
                  + "ON CONFLICT (name) DO UPDATE SET sealed = $2, key_id = $3, changed_at = now()").executeBatch(batch);
          return put.compose(v -> c.preparedQuery("DELETE FROM connection_secret WHERE NOT (name = ANY($1))")
                  .execute(Tuple.of(keep.toArray(new String[0]))))
              .map(v -> revision);
        }));
  }

  /**
   * @param enabled the switch
   * @param reason why it is off (null when on)
   * @return whether a stored connection was there to switch
   */
  public Future<Boolean> enable(boolean enabled, String reason) {
    return pool.preparedQuery("UPDATE connection_setting SET enabled = $1, disabled_reason = $2, "
            + "revision = revision + 1, updated_at = now() WHERE id = 1")
        .execute(Tuple.of(enabled, enabled ? null : reason)).map(r -> r.rowCount() > 0);
  }

  /**
   * @param checks the results, each {name, ok, message, remedy}
   * @return done
   */
  public Future<Void> saveChecks(JsonArray checks) {
    List<Tuple> batch = new ArrayList<>();
    for (Object o : checks) {
      JsonObject c = (JsonObject) o;
      batch.add(Tuple.of(c.getString("name"), c.getBoolean("ok"), c.getString("message"), c.getString("remedy"),
          c.getJsonObject("detail")));
    }
    return batch.isEmpty() ? Future.succeededFuture()
        : pool.preparedQuery("INSERT INTO connection_check (name, ok, message, remedy, detail) "
            + "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO UPDATE SET ok = $2, message = $3, remedy = $4, "
            + "detail = $5, checked_at = now()")
            .executeBatch(batch).mapEmpty();
  }

  /** @return the last result of every check, by name */
  public Future<JsonArray> checks() {
    return pool.query("SELECT name, ok, message, remedy, detail, checked_at FROM connection_check ORDER BY name")
        .execute().map(rows -> {
          JsonArray out = new JsonArray();
          rows.forEach(r -> {
            JsonObject c = new JsonObject().put("name", r.getString("name")).put("ok", r.getBoolean("ok"))
                .put("message", r.getString("message")).put("remedy", r.getString("remedy"))
                .put("checkedAt", r.getOffsetDateTime("checked_at").toInstant().toString());
            if (r.getValue("detail") instanceof JsonObject d) {
              c.put("detail", d);
            }
            out.add(c);
          });
          return out;
        });
  }

  /** @return the setup guide's state, or an empty object when it was never begun */
  public Future<JsonObject> guide() {
    return pool.query("SELECT state FROM setup_guide WHERE id = 1").execute().map(rows -> {
      if (rows.size() == 0) {
        return new JsonObject();
      }
      Object v = rows.iterator().next().getValue("state");
      return v instanceof JsonObject j ? j : new JsonObject(String.valueOf(v));
    });
  }

  /**
   * @param state the guide's state (never a secret)
   * @return done
   */
  public Future<Void> saveGuide(JsonObject state) {
    return pool.preparedQuery("INSERT INTO setup_guide (id, state) VALUES (1, $1) ON CONFLICT (id) DO UPDATE "
        + "SET state = $1, updated_at = now()").execute(Tuple.of(state)).mapEmpty();
  }

  /**
   * Re-seals every secret with another key, in one JDBC transaction (the {@code tandem secrets rotate-key} command
   * runs without Vert.x).
   *
   * @param jdbc an open JDBC connection to the schema
   * @param reseal opens with the old key and seals with the new: (name, sealed) → sealed
   * @param newKeyId the new key's id
   * @return how many secrets were re-sealed
   * @throws java.sql.SQLException on a database failure (nothing is changed)
   */
  public static int rotate(java.sql.Connection jdbc, java.util.function.BiFunction<String, byte[], byte[]> reseal,
      String newKeyId) throws java.sql.SQLException {
    boolean auto = jdbc.getAutoCommit();
    jdbc.setAutoCommit(false);
    try {
      Map<String, byte[]> resealed = new LinkedHashMap<>();
      try (java.sql.Statement st = jdbc.createStatement();
           java.sql.ResultSet rs = st.executeQuery("SELECT name, sealed, key_id FROM connection_secret FOR UPDATE")) {
        while (rs.next()) {
          // A secret a node already sealed with the new key (it ran with the new key during the rotation) stays.
          if (!newKeyId.equals(rs.getString(3))) {
            resealed.put(rs.getString(1), reseal.apply(rs.getString(1), rs.getBytes(2)));
          }
        }
      }
      try (java.sql.PreparedStatement ps = jdbc.prepareStatement(
          "UPDATE connection_secret SET sealed = ?, key_id = ? WHERE name = ?")) {
        for (Map.Entry<String, byte[]> e : resealed.entrySet()) {
          ps.setBytes(1, e.getValue());
          ps.setString(2, newKeyId);
          ps.setString(3, e.getKey());
          ps.addBatch();
        }
        ps.executeBatch();
      }
      jdbc.commit();
      return resealed.size();
    } catch (java.sql.SQLException | RuntimeException e) {
      jdbc.rollback();
      throw e;
    } finally {
      jdbc.setAutoCommit(auto);
    }
  }
}
