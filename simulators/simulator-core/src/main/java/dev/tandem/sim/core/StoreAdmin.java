package dev.tandem.sim.core;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * The admin routes every simulator has over its store ({@code reset}, {@code counts}, {@code seed},
 * {@code rows/{entitySet}}), and the standalone main loop.
 */
public final class StoreAdmin {

  private StoreAdmin() {}

  /**
   * Registers {@code POST reset}, {@code GET counts}, {@code POST seed} and {@code GET rows/{entitySet}}.
   *
   * @param server the server
   * @param store the store
   * @param reset empties the store (and whatever else the simulator resets)
   * @param seeder generates data from a seed and counts per entity set
   * @param defaultSeed used when a seed request names none
   * @param present turns a stored row into what the rows read-back shows
   */
  public static void register(SimulatorServer server, EntityStore store, Runnable reset,
      BiConsumer<Long, Map<String, Integer>> seeder, long defaultSeed,
      Function<Map<String, Object>, Map<String, Object>> present) {
    server.adminRoute("POST", "/sim/reset", (r, p) -> {
      reset.run();
      return SimResponse.json(200, store.counts());
    });
    server.adminRoute("GET", "/sim/counts", (r, p) -> SimResponse.json(200, store.counts()));
    server.adminRoute("POST", "/sim/seed", (r, p) -> {
      Map<String, Object> body = Json.object(r.bodyText());
      Map<String, Integer> counts = new LinkedHashMap<>();
      if (body.get("counts") instanceof Map<?, ?> m) {
        m.forEach((k, v) -> counts.put(String.valueOf(k), ((Number) v).intValue()));
      }
      seeder.accept(body.get("seed") instanceof Number n ? n.longValue() : defaultSeed, counts);
      return SimResponse.json(200, store.counts());
    });
    server.adminRoute("GET", "/sim/rows/{entitySet}", (r, p) -> {
      EntityStore.Table t = store.table(p.get("entitySet"));
      if (t == null) {
        return SimResponse.json(404, Map.of("error", Map.of("code", "not_found", "message",
            "no entity set " + p.get("entitySet") + "; known: " + store.counts().keySet())));
      }
      int skip = Integer.parseInt(r.query().getOrDefault("skip", "0"));
      int top = Integer.parseInt(r.query().getOrDefault("top", "1000"));
      return store.read(() -> {
        List<Map<String, Object>> all = t.all(null, null);
        List<Map<String, Object>> out = all.subList(Math.min(skip, all.size()), Math.min(all.size(), skip + top))
            .stream().map(present).toList();
        return SimResponse.json(200, Map.of("total", all.size(), "rows", out));
      });
    });
  }

  /**
   * Keeps a standalone simulator running until the process is stopped.
   *
   * @param simulator a started simulator
   * @throws InterruptedException when interrupted
   */
  public static void runUntilStopped(Simulator simulator) throws InterruptedException {
    CountDownLatch stop = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      simulator.stop();
      stop.countDown();
    }));
    stop.await();
  }
}
