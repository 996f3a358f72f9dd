package dev.cascade.server.cli;

import dev.cascade.encoder.EncoderOptions;
import dev.cascade.model.ModelSpec;
import dev.cascade.runtime.CascadeRuntime;
import dev.cascade.server.CascadeServer;
import dev.cascade.server.ServerOptions;
import dev.cascade.server.metrics.MetricsEndpoint;
import dev.cascade.server.metrics.ServerMetrics;
import dev.cascade.server.scheduler.SchedulerOptions;
import dev.cascade.server.scheduler.StepPolicy;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code cascade serve}: loads a model with its heads and profiles, and serves it over gRPC until
 * SIGTERM or SIGINT, which drains it gracefully.
 */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    description = {
      "Serve embeddings with early exit over gRPC (Embedder, health, reflection) and Prometheus"
          + " metrics over HTTP.",
      "Every option can also be set as CASCADE_<OPTION> in the environment (CASCADE_PORT,"
          + " CASCADE_METRICS_PORT, ...) or as option=value in the --config file."
    })
public final class ServeCommand implements Callable<Integer> {
  @Option(names = "--config", description = "Properties file of option defaults (port=50051 ...).")
  Path config;

  @Option(names = "--host", defaultValue = "0.0.0.0", description = "Address to listen on.")
  String host;

  @Option(names = "--port", defaultValue = "50051", description = "gRPC port.")
  int port;

  @Option(
      names = "--metrics-port",
      defaultValue = "9464",
      description = "HTTP port of /metrics; -1 = no metrics endpoint.")
  int metricsPort;

  @Option(
      names = {"-m", "--model"},
      defaultValue = ModelSpec.DEFAULT,
      description =
          "Built-in model (bge-small-en-v1.5, all-minilm-l6-v2) or path to a BERT-style .onnx"
              + " file or directory with tokenizer.json.")
  String model;

  @Option(names = "--heads", description = "Heads file (default: the model's shipped heads).")
  Path heads;

  @Option(names = "--profiles", description = "Directory of extra *.json threshold profiles.")
  Path profiles;

  @Option(names = "--max-inputs", defaultValue = "64", description = "Most inputs per request.")
  int maxInputs;

  @Option(names = "--max-chars", defaultValue = "20000", description = "Most characters per input.")
  int maxChars;

  @Option(
      names = "--queue-size",
      defaultValue = "256",
      description = "Requests admitted and not finished; one more is refused (RESOURCE_EXHAUSTED).")
  int queueSize;

  @Option(
      names = "--queue-tokens",
      defaultValue = "131072",
      description = "Tokens of the requests admitted and not finished; more are refused.")
  long queueTokens;

  @Option(
      names = "--workers",
      defaultValue = "0",
      description = "Engine workers taking layer steps at once; 0 = one per 8 cores, at least one.")
  int workers;

  @Option(
      names = "--batch-tokens",
      defaultValue = "0",
      description =
          "Most tokens in one layer step (inputs x longest); 0 = 1024 per core, 2048 to 16384.")
  int batchTokens;

  @Option(
      names = "--step-policy",
      defaultValue = "oldest",
      description =
          "Layer to run next: oldest (default; the oldest waiting input's layer), deepest, fullest"
              + " (most waiting inputs); static"
              + " and static_shrinking (whole batches) for comparison.")
  String stepPolicy;

  @Option(
      names = "--intra-op-threads",
      defaultValue = "0",
      description = "Threads per TensorFlow operation; 0 = the cores divided among the workers.")
  int intraOpThreads;

  @Option(
      names = "--stream-buffer",
      defaultValue = "64",
      description =
          "Events a stream holds for a client that is not reading before its inputs wait.")
  int streamBuffer;

  @Option(
      names = "--grace-seconds",
      defaultValue = "30",
      description = "On SIGTERM, time calls in flight get to finish.")
  int graceSeconds;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    int cores = Runtime.getRuntime().availableProcessors();
    SchedulerOptions defaults = SchedulerOptions.forCores(cores);
    SchedulerOptions scheduling =
        new SchedulerOptions(
            workers == 0 ? defaults.workers() : workers,
            batchTokens == 0 ? defaults.batchTokens() : batchTokens,
            queueSize,
            queueTokens,
            StepPolicy.parse(stepPolicy));
    ServerOptions options = new ServerOptions(maxInputs, maxChars, streamBuffer, scheduling);
    Duration grace = Duration.ofSeconds(graceSeconds);
    ModelSpec modelSpec = ModelSpec.resolve(model, null);
    int threads = intraOpThreads == 0 ? Math.max(1, cores / scheduling.workers()) : intraOpThreads;
    ServerMetrics metrics = new ServerMetrics();
    CascadeServer server =
        new CascadeServer(CascadeServer.netty(host, port, grace), options, metrics).start();
    MetricsEndpoint endpoint =
        metricsPort < 0 ? null : MetricsEndpoint.start(metrics, host, metricsPort);
    CountDownLatch drained = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    server.drain(grace);
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  } finally {
                    if (endpoint != null) {
                      endpoint.close();
                    }
                    drained.countDown();
                  }
                },
                "cascade-drain"));
    out.printf(
        "cascade: listening on %s:%d (health NOT_SERVING), loading %s%n",
        host, server.port(), modelSpec.name());
    out.flush();
    try (CascadeRuntime runtime =
        CascadeRuntime.load(modelSpec, new EncoderOptions(threads, 1), heads, profiles)) {
      server.attach(runtime);
      server.warmUp();
      out.printf(
          "cascade: serving %s (%d layers, exits %s) on %s:%d over %s; profiles %s (default %s)%n",
          runtime.model().spec().name(),
          runtime.model().encoder().config().layers(),
          Arrays.toString(runtime.engine().exitLayers()),
          host,
          server.port(),
          transport(),
          runtime.profiles().keySet(),
          runtime.defaultProfile());
      if (endpoint != null) {
        out.printf("cascade: metrics on http://%s:%d/metrics%n", host, endpoint.port());
      }
      out.flush();
      server.blockUntilShutdown();
      drained.await();
    } catch (RuntimeException | IOException e) {
      server.stop();
      throw e;
    }
    return 0;
  }

  private static String transport() {
    try {
      Object available =
          Class.forName("io.netty.channel.epoll.Epoll").getMethod("isAvailable").invoke(null);
      return Boolean.TRUE.equals(available) ? "netty/epoll" : "netty/nio";
    } catch (ReflectiveOperationException | LinkageError e) {
      return "netty/nio";
    }
  }
}
