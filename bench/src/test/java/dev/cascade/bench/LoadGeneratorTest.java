package dev.cascade.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cascade.encoder.EncoderOptions;
import dev.cascade.model.ModelSpec;
import dev.cascade.runtime.CascadeRuntime;
import dev.cascade.server.CascadeServer;
import dev.cascade.server.ServerOptions;
import dev.cascade.server.metrics.ServerMetrics;
import dev.cascade.vector.Vectors;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The load generator against a real server on loopback (MiniLM, exact only). */
class LoadGeneratorTest {
  static final List<String> TEXTS =
      List.of("read a file line by line", "sort a list of strings", "parse an integer", "x");

  static CascadeRuntime runtime;
  static CascadeServer server;
  static ServerMetrics metrics = new ServerMetrics();

  @BeforeAll
  static void start() throws Exception {
    runtime =
        CascadeRuntime.load(
            ModelSpec.builtIn("all-minilm-l6-v2"), new EncoderOptions(2, 1), null, null);
    server =
        new CascadeServer(
                CascadeServer.netty("127.0.0.1", 0, Duration.ofSeconds(1)),
                runtime,
                ServerOptions.defaults(),
                metrics)
            .start();
    server.warmUp();
  }

  @AfterAll
  static void stop() throws Exception {
    server.stop();
    runtime.close();
  }

  @Test
  void closedLoop_countsOnlyTimedRequestsAndEveryOneSucceeds() throws Exception {
    try (LoadGenerator generator = new LoadGenerator("127.0.0.1:" + server.port(), 2)) {
      long before = metrics.callCount("Embed", io.grpc.Status.Code.OK);
      LoadGenerator.Run run = generator.closedLoop(TEXTS, "exact", 3, 0.3, 1.0);
      long served = metrics.callCount("Embed", io.grpc.Status.Code.OK) - before;
      assertEquals(0, run.errors(), run.firstError());
      assertTrue(run.latenciesMs().length > 0, "some requests were timed");
      assertTrue(run.latenciesMs().length < served, "warm-up requests are served but not timed");
      assertEquals(6.0, run.meanLayers(), "exact runs all 6 layers");
      assertTrue(run.p99() >= run.p50() && run.p50() > 0);
    }
  }

  @Test
  void embedAllAndStream_returnEveryTextsFinalEmbedding() throws Exception {
    try (LoadGenerator generator = new LoadGenerator("127.0.0.1:" + server.port(), 1)) {
      Map<Integer, float[]> embedded = generator.embedAll(TEXTS, "", 3);
      assertEquals(TEXTS.size(), embedded.size());
      float[][] reference = runtime.model().embed(TEXTS, dev.cascade.tokenize.Truncation.TRUNCATE);
      for (int i = 0; i < TEXTS.size(); i++) {
        assertTrue(Vectors.cosine(reference[i], embedded.get(i)) > 0.9999);
      }
      LoadGenerator.StreamTiming timing = generator.stream(TEXTS.get(0), "exact");
      assertEquals(1, timing.events(), "without heads, exact sends the final event only");
      assertTrue(timing.finalMs() >= timing.firstMs() && timing.firstMs() > 0);
    }
  }
}
