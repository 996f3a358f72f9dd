package dev.cascade.bench;

import dev.cascade.data.Document;
import dev.cascade.data.RetrievalSet;
import dev.cascade.encoder.EncoderOptions;
import dev.cascade.eval.EmbeddingCache;
import dev.cascade.eval.RetrievalMetrics;
import dev.cascade.eval.VectorIndex;
import dev.cascade.model.ModelSpec;
import dev.cascade.policy.ExitBounds;
import dev.cascade.policy.Profile;
import dev.cascade.runtime.CascadeEngine;
import dev.cascade.runtime.CascadeRuntime;
import dev.cascade.server.CascadeServer;
import dev.cascade.server.ServerOptions;
import dev.cascade.server.metrics.ServerMetrics;
import dev.cascade.server.scheduler.SchedulerOptions;
import dev.cascade.server.scheduler.StepPolicy;
import dev.cascade.tokenize.TokenizedInput;
import dev.cascade.tokenize.Truncation;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.DoubleSupplier;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The serving benchmark, end to end in one run on one machine: ONNX Runtime in-process at its best
 * batch size (the peer), the engine in-process with the {@code exact} profile, then a Cascade
 * server on loopback driven by closed-loop clients sending single-input requests, for {@code exact}
 * and {@code balanced}, with {@code balanced}'s Recall@10 on the javadoc-dev evaluation half;
 * streaming latency; and the layer-wise scheduler's step policies against static batching under the
 * same load. Prints a table and rewrites the {@code serving} section of {@code BENCHMARKS.md}.
 */
@Command(
    name = "serving-benchmark",
    mixinStandardHelpOptions = true,
    description = "Served throughput and latency against in-process ONNX Runtime, in one run.")
public final class ServingBenchmark implements Callable<Integer> {
  static final String SECTION = "serving";
  static final String COMMAND = "bench/serving.sh";

  @Option(names = "--model", description = "Built-in model (default: ${DEFAULT-VALUE}).")
  String model = ModelSpec.DEFAULT;

  @Option(names = "--heads", description = "Heads file (default: the model's shipped heads).")
  Path heads;

  @Option(names = "--profiles", description = "Directory of extra profiles.")
  Path profiles;

  @Option(
      names = "--profile",
      description = "The early-exit profile to serve beside exact (default: ${DEFAULT-VALUE}).")
  String earlyProfile = "balanced";

  @Option(names = "--clients", split = ",", description = "Default: ${DEFAULT-VALUE}.")
  int[] clients = {1, 4, 16, 64};

  @Option(
      names = "--peer-batch-sizes",
      split = ",",
      description = "Batch sizes tried for the peer (default: ${DEFAULT-VALUE}).")
  int[] peerBatches = {1, 8, 32};

  @Option(names = "--seconds", description = "Timed seconds per load run (${DEFAULT-VALUE}).")
  double seconds = 12;

  @Option(
      names = "--peer-seconds",
      description =
          "Seconds the peer is timed again at its best batch right before and right after each"
              + " load run, for that run's ratio (${DEFAULT-VALUE}).")
  double peerSeconds = 3;

  @Option(names = "--warmup", description = "Untimed seconds before each run (${DEFAULT-VALUE}).")
  double warmup = 3;

  @Option(
      names = "--threads",
      description = "Cores for the engines (default: all, ${DEFAULT-VALUE}).")
  int threads = Runtime.getRuntime().availableProcessors();

  @Option(names = "--policy", description = "The server's step policy (default: the server's).")
  String policy;

  @Option(
      names = "--policy-clients",
      description = "Clients for the step-policy comparison (default: ${DEFAULT-VALUE}).")
  int policyClients = 16;

  @Option(
      names = "--compare-workers",
      description =
          "Also run the policy comparison's load with this many workers, the cores split among"
              + " them; 1 = skip (default: ${DEFAULT-VALUE}).")
  int workers = 2;

  @Option(
      names = "--cache",
      description =
          "Directory caching the corpus's full-depth embeddings between runs (default:"
              + " ${DEFAULT-VALUE}).")
  Path cache = Path.of("bench/target/embedding-cache");

  @Option(
      names = "--policy-rounds",
      description = "Runs per step policy, in rotating order, pooled (default: ${DEFAULT-VALUE}).")
  int policyRounds = 2;

  @Mixin ReportOptions output;

  /** The peer and the in-process engine on one workload. */
  record PeerRow(
      String workload,
      double meanTokens,
      Map<Integer, Double> ortByBatch,
      Map<Integer, Double> engineByBatch,
      int bestBatch) {
    double ort() {
      return ortByBatch.get(bestBatch);
    }

    /** The engine's best throughput over the batch sizes tried. */
    double engineBest() {
      return engineByBatch.values().stream().mapToDouble(Double::doubleValue).max().orElseThrow();
    }
  }

  /**
   * One closed-loop run against the server, with the peer's short-text throughput measured just
   * before and just after it (the mean of the two), so that the ratio does not drift with the
   * machine's load over the run.
   */
  record LoadRow(
      String profile,
      String setup,
      StepPolicy policy,
      LoadGenerator.Run run,
      double inputsPerStep,
      double peer) {
    double ratio() {
      return run.requestsPerSecond() / peer;
    }

    /** Two runs of the same setup as one: their requests, time and steps pooled. */
    LoadRow pool(LoadRow other) {
      LoadGenerator.Run a = run;
      LoadGenerator.Run b = other.run;
      double[] latencies = new double[a.latenciesMs().length + b.latenciesMs().length];
      System.arraycopy(a.latenciesMs(), 0, latencies, 0, a.latenciesMs().length);
      System.arraycopy(
          b.latenciesMs(), 0, latencies, a.latenciesMs().length, b.latenciesMs().length);
      double wa = a.latenciesMs().length;
      double wb = b.latenciesMs().length;
      return new LoadRow(
          profile,
          setup,
          policy,
          new LoadGenerator.Run(
              a.clients(),
              a.seconds() + b.seconds(),
              latencies,
              a.errors() + b.errors(),
              a.firstError() != null ? a.firstError() : b.firstError(),
              (a.meanLayers() * wa + b.meanLayers() * wb) / (wa + wb)),
          (inputsPerStep + other.inputsPerStep) / 2,
          (peer + other.peer) / 2);
    }
  }

  /** Recall@10 of the server's answers for one profile. */
  record RecallRow(String profile, RetrievalMetrics metrics, double meanLayers) {}

  /** Streaming timings for one profile. */
  record StreamRow(String profile, double firstP50, double finalP50, double events) {}

  public static void main(String[] args) {
    System.exit(new CommandLine(new ServingBenchmark()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    long begin = System.nanoTime();
    String loadBefore = EngineBenchmark.loadAverage();
    Path dataDir = output.dataDir();
    ModelSpec spec = ModelSpec.builtIn(model);
    SchedulerOptions scheduling = SchedulerOptions.forCores(threads);
    if (policy != null) {
      scheduling = scheduling.withPolicy(StepPolicy.parse(policy));
    }
    RetrievalSet set = RetrievalSet.read(dataDir.resolve("javadoc-dev")).half(1);
    List<String> queries = set.queries().stream().map(Document::text).toList();
    int intraOp = Math.max(1, threads / scheduling.workers());
    try (CascadeRuntime runtime =
            CascadeRuntime.load(spec, new EncoderOptions(intraOp, 1), heads, profiles);
        OrtEncoder ort = OrtEncoder.open(spec.name() + ".onnx", spec.pooling(), threads, false)) {
      Profile exact = runtime.profile("exact");
      runtime.profile(earlyProfile);
      List<TokenizedInput> shortInputs =
          runtime.model().tokenizer().tokenize(queries, Truncation.TRUNCATE);
      Workload shortWork = new Workload("short (javadoc-dev queries)", shortInputs);
      Workload longWork =
          Workload.select(
              "long (136-164 tokens)",
              runtime.model().tokenizer(),
              List.of(
                  dataDir.resolve("man/corpus.jsonl"), dataDir.resolve("javadoc-dev/corpus.jsonl")),
              136,
              164,
              256);

      List<PeerRow> peers = new ArrayList<>();
      for (Workload w : List.of(shortWork, longWork)) {
        peers.add(peer(w, ort, runtime.engine(), exact));
      }
      List<List<TokenizedInput>> peerBatches = shortWork.batches(peers.get(0).bestBatch());
      DoubleSupplier peerNow = () -> timed(ort::encode, peerBatches, peerSeconds);

      System.out.println("embedding the corpus at full depth for Recall@10 ...");
      VectorIndex index = corpusIndex(runtime, set, cache);

      List<LoadRow> loads = new ArrayList<>();
      List<RecallRow> recalls = new ArrayList<>();
      List<StreamRow> streams = new ArrayList<>();
      try (Served served = new Served(runtime, scheduling)) {
        for (String profile : List.of("exact", earlyProfile)) {
          for (int n : clients) {
            loads.add(served.load(queries, profile, n, warmup, seconds, peerNow));
            print(loads.get(loads.size() - 1));
          }
          recalls.add(served.recall(set, index, queries, profile));
          streams.add(served.streaming(queries, profile));
        }
      }
      Map<StepPolicy, LoadRow> byPolicy = new LinkedHashMap<>();
      StepPolicy[] order = StepPolicy.values();
      for (int round = 0; round < policyRounds; round++) {
        for (int k = 0; k < order.length; k++) {
          StepPolicy p = order[(round + k) % order.length];
          try (Served served = new Served(runtime, scheduling.withPolicy(p))) {
            LoadRow row =
                served.load(queries, earlyProfile, policyClients, warmup, seconds, peerNow);
            print(row);
            byPolicy.merge(p, row, LoadRow::pool);
          }
        }
      }
      List<LoadRow> policies = new ArrayList<>();
      for (StepPolicy p : order) {
        policies.add(byPolicy.get(p));
      }
      if (workers > 1) {
        SchedulerOptions parallel = scheduling.withWorkers(workers);
        try (CascadeRuntime split =
                CascadeRuntime.load(
                    spec, new EncoderOptions(Math.max(1, threads / workers), 1), heads, profiles);
            Served served = new Served(split, parallel)) {
          LoadRow row = served.load(queries, earlyProfile, policyClients, warmup, seconds, peerNow);
          policies.add(row);
          print(row);
        }
      }
      double minutes = (System.nanoTime() - begin) / 60e9;
      String markdown =
          ServingReport.markdown(
              new ServingReport.Context(
                  spec,
                  runtime.engine().exitLayers(),
                  heads == null ? "shipped" : "`" + heads.getFileName() + "`",
                  earlyProfile,
                  scheduling,
                  intraOp,
                  threads,
                  ort.version(),
                  seconds,
                  warmup,
                  policyRounds,
                  set.queries().size(),
                  loadBefore,
                  EngineBenchmark.loadAverage(),
                  minutes),
              peers,
              loads,
              recalls,
              streams,
              policies);
      output.publish(SECTION, markdown);
    }
    return 0;
  }

  /** The peer at each batch size, interleaved with the engine's exact profile at the same size. */
  private PeerRow peer(Workload w, OrtEncoder ort, CascadeEngine engine, Profile exact) {
    Function<List<TokenizedInput>, float[][]> cascade =
        inputs -> {
          float[][] out = new float[inputs.size()][];
          engine.run(
              inputs,
              exact,
              ExitBounds.NONE,
              e -> {
                if (e.isFinal()) {
                  out[e.input()] = e.embedding();
                }
              },
              () -> null);
          return out;
        };
    Map<Integer, Double> ortByBatch = new LinkedHashMap<>();
    Map<Integer, Double> engineByBatch = new LinkedHashMap<>();
    for (int b : peerBatches) {
      Map<String, Samples> result =
          Race.run(
              List.of(new Contender("ort", ort::encode), new Contender("engine", cascade)),
              w.batches(b),
              5,
              1.5,
              16);
      ortByBatch.put(b, result.get("ort").medianTextsPerSecond());
      engineByBatch.put(b, result.get("engine").medianTextsPerSecond());
      System.out.printf(
          Locale.ROOT,
          "%s batch %d: ort %.1f/s, engine exact %.1f/s%n",
          w.name(),
          b,
          ortByBatch.get(b),
          engineByBatch.get(b));
    }
    int best =
        ortByBatch.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
    return new PeerRow(w.name(), w.meanTokens(), ortByBatch, engineByBatch, best);
  }

  /** The corpus at full depth, embedded in length order so that batches carry little padding. */
  private static VectorIndex corpusIndex(CascadeRuntime runtime, RetrievalSet set, Path cache) {
    List<Document> docs = set.corpus();
    List<String> ids = docs.stream().map(Document::id).toList();
    String checksum = runtime.model().checksum();
    var cached = EmbeddingCache.load(cache, checksum, docs);
    if (cached.isPresent()) {
      return new VectorIndex(ids, cached.get());
    }
    List<TokenizedInput> inputs =
        runtime
            .model()
            .tokenizer()
            .tokenize(docs.stream().map(Document::text).toList(), Truncation.TRUNCATE);
    Integer[] order = new Integer[docs.size()];
    Arrays.setAll(order, i -> i);
    Arrays.sort(order, Comparator.comparingInt(i -> inputs.get(i).length()));
    float[][] vectors = new float[docs.size()][];
    for (int from = 0; from < order.length; from += 32) {
      List<Integer> chunk = Arrays.asList(order).subList(from, Math.min(order.length, from + 32));
      float[][] out = runtime.model().encoder().encode(chunk.stream().map(inputs::get).toList());
      for (int k = 0; k < chunk.size(); k++) {
        vectors[chunk.get(k)] = out[k];
      }
    }
    EmbeddingCache.store(cache, checksum, docs, vectors);
    return new VectorIndex(ids, vectors);
  }

  /** Texts per second of {@code encode} over the batches, run for about {@code seconds}. */
  static double timed(
      Function<List<TokenizedInput>, float[][]> encode,
      List<List<TokenizedInput>> batches,
      double seconds) {
    encode.apply(batches.get(0));
    long start = System.nanoTime();
    long until = start + (long) (seconds * 1e9);
    int texts = 0;
    for (int i = 0; System.nanoTime() < until; i++) {
      List<TokenizedInput> batch = batches.get(i % batches.size());
      encode.apply(batch);
      texts += batch.size();
    }
    return texts / ((System.nanoTime() - start) / 1e9);
  }

  private static void print(LoadRow row) {
    LoadGenerator.Run r = row.run;
    System.out.printf(
        Locale.ROOT,
        "%-8s %-18s %2d clients: %7.1f req/s (%.2fx ORT at %.1f)  p50 %6.1f ms  p99 %6.1f ms  layers %.2f"
            + "  inputs/step %.1f  errors %d%n",
        row.profile,
        row.setup,
        r.clients(),
        r.requestsPerSecond(),
        row.ratio(),
        row.peer,
        r.p50(),
        r.p99(),
        r.meanLayers(),
        row.inputsPerStep,
        r.errors());
  }

  /** A server on loopback with its own metrics, and a load generator connected to it. */
  private static final class Served implements AutoCloseable {
    private final ServerMetrics metrics = new ServerMetrics();
    private final CascadeServer server;
    private final LoadGenerator generator;
    private final StepPolicy policy;
    private final String setup;

    Served(CascadeRuntime runtime, SchedulerOptions scheduling) throws Exception {
      this.policy = scheduling.policy();
      this.setup =
          scheduling.policy().name().toLowerCase(Locale.ROOT)
              + (scheduling.workers() == 1 ? "" : ", " + scheduling.workers() + " workers");
      ServerOptions options = ServerOptions.defaults().withScheduler(scheduling);
      server =
          new CascadeServer(
                  CascadeServer.netty("127.0.0.1", 0, Duration.ofSeconds(1)),
                  runtime,
                  options,
                  metrics)
              .start();
      server.warmUp();
      generator = new LoadGenerator("127.0.0.1:" + server.port(), 4);
    }

    LoadRow load(
        List<String> texts,
        String profile,
        int clients,
        double warmup,
        double seconds,
        DoubleSupplier peerNow)
        throws InterruptedException {
      double before = peerNow.getAsDouble();
      long steps0 = metrics.stepCount();
      double inputs0 = metrics.stepInputsSum();
      LoadGenerator.Run run = generator.closedLoop(texts, profile, clients, warmup, seconds);
      double peer = (before + peerNow.getAsDouble()) / 2;
      long steps = metrics.stepCount() - steps0;
      double perStep = steps == 0 ? Double.NaN : (metrics.stepInputsSum() - inputs0) / steps;
      if (run.errors() > 0) {
        System.out.println("errors: " + run.errors() + ", first: " + run.firstError());
      }
      return new LoadRow(profile, setup, policy, run, perStep, peer);
    }

    RecallRow recall(RetrievalSet set, VectorIndex index, List<String> queries, String profile)
        throws InterruptedException {
      long layers0 = metrics.layersComputed();
      Map<Integer, float[]> embedded = generator.embedAll(queries, profile, 16);
      double meanLayers = (double) (metrics.layersComputed() - layers0) / queries.size();
      List<List<String>> rankings = new ArrayList<>();
      List<Set<String>> relevant = new ArrayList<>();
      for (int i = 0; i < queries.size(); i++) {
        rankings.add(index.search(embedded.get(i), 10));
        relevant.add(set.relevant().get(set.queries().get(i).id()));
      }
      return new RecallRow(profile, RetrievalMetrics.of(rankings, relevant), meanLayers);
    }

    StreamRow streaming(List<String> queries, String profile) {
      int n = 40;
      double[] first = new double[n];
      double[] last = new double[n];
      double events = 0;
      for (int i = 0; i < n + 5; i++) {
        LoadGenerator.StreamTiming t = generator.stream(queries.get(i % queries.size()), profile);
        if (i >= 5) {
          first[i - 5] = t.firstMs();
          last[i - 5] = t.finalMs();
          events += t.events();
        }
      }
      return new StreamRow(
          profile, Samples.percentile(first, 50), Samples.percentile(last, 50), events / n);
    }

    @Override
    public void close() throws Exception {
      generator.close();
      server.stop();
    }
  }
}
