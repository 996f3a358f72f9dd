package dev.cascade.bench;

import dev.cascade.encoder.Encoder;
import dev.cascade.encoder.EncoderBatch;
import dev.cascade.encoder.EncoderModel;
import dev.cascade.encoder.EncoderOptions;
import dev.cascade.model.BertConfig;
import dev.cascade.model.ModelSpec;
import dev.cascade.tokenize.TokenizedInput;
import dev.cascade.vector.Vectors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.tensorflow.TensorFlow;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The engine benchmark: full-depth throughput and latency of the TensorFlow encoder against ONNX
 * Runtime on the same model and token ids, the cost of running layer by layer, and how much of the
 * machine's matrix-product rate the encoder reaches. Prints a table and rewrites the {@code engine}
 * section of {@code BENCHMARKS.md}.
 */
@Command(
    name = "engine-benchmark",
    mixinStandardHelpOptions = true,
    description = "TensorFlow encoder vs ONNX Runtime on the same model, interleaved.")
public final class EngineBenchmark implements Callable<Integer> {
  static final String SECTION = "engine";
  static final String COMMAND = "bench/engine.sh";
  static final double MIN_COSINE = 0.9999;
  static final int PROBE_ROWS = 32 * 150;

  @Option(names = "--model", description = "Built-in model (default: ${DEFAULT-VALUE}).")
  String model = ModelSpec.DEFAULT;

  @Option(names = "--batch-sizes", split = ",", description = "Default: ${DEFAULT-VALUE}.")
  int[] batchSizes = {1, 8, 32};

  @Option(
      names = "--rounds",
      description = "Timed rounds per setting, at most (default: ${DEFAULT-VALUE}).")
  int rounds = 5;

  @Option(
      names = "--sample-seconds",
      description = "About how long one timed sample runs (default: ${DEFAULT-VALUE}).")
  double sampleSeconds = 0.5;

  @Option(
      names = "--budget-seconds",
      description =
          "About how long the rounds of one setting may take; fewer rounds (not under 3) when"
              + " they would take longer (default: ${DEFAULT-VALUE}).")
  double budgetSeconds = 40;

  @Option(
      names = "--threads",
      description = "Intra-op threads of both engines (default: all cores, ${DEFAULT-VALUE}).")
  int threads = Runtime.getRuntime().availableProcessors();

  @Option(
      names = "--ort-spinning",
      description =
          "Let ONNX Runtime's idle threads spin (its default). Off by default, as in the engine:"
              + " spinning threads steal the cores they wait for when the machine is shared.")
  boolean ortSpinning;

  @Mixin ReportOptions output;

  /** One measured setting. */
  record Row(
      Workload workload,
      int batch,
      double paddedLength,
      double flopsPerText,
      Samples ort,
      Samples fused,
      Samples layered) {

    double throughputRatio() {
      return fused.medianTextsPerSecond() / ort.medianTextsPerSecond();
    }

    double latencyRatio() {
      return fused.p50LatencyMs() / ort.p50LatencyMs();
    }

    /** Time per text layer by layer over time per text fused. */
    double layeredOverhead() {
      return fused.medianTextsPerSecond() / layered.medianTextsPerSecond();
    }
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new EngineBenchmark()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    long begin = System.nanoTime();
    String loadBefore = loadAverage();
    Path dataDir = output.dataDir();
    ModelSpec spec = ModelSpec.builtIn(model);
    try (EncoderModel engine = EncoderModel.load(spec, new EncoderOptions(threads, 1));
        OrtEncoder ort =
            OrtEncoder.open(spec.name() + ".onnx", spec.pooling(), threads, ortSpinning)) {
      Encoder encoder = engine.encoder();
      BertConfig config = encoder.config();
      List<Workload> workloads =
          List.of(
              Workload.select(
                  "short",
                  engine.tokenizer(),
                  List.of(dataDir.resolve("javadoc-dev/queries.jsonl")),
                  12,
                  20,
                  256),
              Workload.select(
                  "long",
                  engine.tokenizer(),
                  List.of(
                      dataDir.resolve("man/corpus.jsonl"),
                      dataDir.resolve("javadoc-dev/corpus.jsonl")),
                  136,
                  164,
                  256));

      Contender ortContender = new Contender("ort", ort::encode);
      Contender fused = new Contender("tf", encoder::encode);
      Contender layered = new Contender("tf-layered", inputs -> layerByLayer(encoder, inputs));
      List<Contender> contenders = List.of(ortContender, fused, layered);
      double worst = sanityCheck(workloads, contenders);
      System.out.printf(Locale.ROOT, "sanity: min cosine vs ONNX Runtime %.7f%n", worst);

      MatMulProbe.Rate matmul =
          MatMulProbe.measure(
              PROBE_ROWS, config.hiddenSize(), config.intermediateSize(), threads, 2);
      System.out.printf(
          Locale.ROOT,
          "matmul [%d,%d]x[%d,%d]: median %.1f GFLOP/s, best %.1f%n",
          PROBE_ROWS,
          config.hiddenSize(),
          config.hiddenSize(),
          config.intermediateSize(),
          matmul.median(),
          matmul.best());

      List<Row> rows = new ArrayList<>();
      for (Workload w : workloads) {
        for (int b : batchSizes) {
          List<List<TokenizedInput>> batches = w.batches(b);
          Map<String, Samples> result =
              Race.run(contenders, batches, rounds, sampleSeconds, budgetSeconds);
          Row row =
              new Row(
                  w,
                  b,
                  w.meanPaddedLength(b),
                  usefulFlopsPerText(config, w.inputs()),
                  result.get("ort"),
                  result.get("tf"),
                  result.get("tf-layered"));
          rows.add(row);
          System.out.printf(
              Locale.ROOT,
              "%-5s b=%-2d ort %7.1f/s  tf %7.1f/s  (%.2fx)  layered %.2fx%n",
              w.name(),
              b,
              row.ort().medianTextsPerSecond(),
              row.fused().medianTextsPerSecond(),
              row.throughputRatio(),
              row.layeredOverhead());
        }
      }
      double minutes = (System.nanoTime() - begin) / 60e9;
      String markdown =
          Report.markdown(
              new Report.Context(
                  spec,
                  config,
                  workloads,
                  threads,
                  ortSpinning,
                  TensorFlow.version(),
                  ort.version(),
                  worst,
                  matmul,
                  rounds,
                  sampleSeconds,
                  loadBefore,
                  loadAverage(),
                  minutes),
              rows);
      output.publish(SECTION, markdown);
    }
    return 0;
  }

  /** Embeds by starting a batch and advancing it one layer per session run. */
  static float[][] layerByLayer(Encoder encoder, List<TokenizedInput> inputs) {
    try (EncoderBatch batch = encoder.start(inputs)) {
      while (!batch.atLastLayer()) {
        batch.advance();
      }
      return batch.pool();
    }
  }

  /**
   * The smallest cosine between the first contender (the reference) and each other one on a batch
   * of 16 texts per workload; fails when it is not above {@value #MIN_COSINE}.
   */
  private static double sanityCheck(List<Workload> workloads, List<Contender> contenders) {
    double worst = 1;
    for (Workload w : workloads) {
      List<TokenizedInput> batch = w.inputs().subList(0, 16);
      float[][] expected = contenders.get(0).encode().apply(batch);
      for (Contender c : contenders.subList(1, contenders.size())) {
        float[][] actual = c.encode().apply(batch);
        for (int i = 0; i < batch.size(); i++) {
          double cosine = Vectors.cosine(expected[i], actual[i]);
          worst = Math.min(worst, cosine);
          if (!(cosine > MIN_COSINE)) {
            throw new IllegalStateException(
                String.format(
                    Locale.ROOT,
                    "%s disagrees with %s on %s text %d: cosine %.7f",
                    c.name(),
                    contenders.get(0).name(),
                    w.name(),
                    i,
                    cosine));
          }
        }
      }
    }
    return worst;
  }

  /**
   * Matrix-product FLOPs of one forward pass over {@code t} tokens: per layer {@code 2T(4H^2 +
   * 2HI)} for the QKV, attention-output and feed-forward products plus {@code 4T^2H} for scores and
   * context. Embeddings, LayerNorm, softmax, GELU, biases and pooling are not counted.
   */
  static double forwardFlops(BertConfig c, int t) {
    double h = c.hiddenSize();
    double perLayer = 2.0 * t * (4 * h * h + 2 * h * c.intermediateSize()) + 4.0 * t * t * h;
    return c.layers() * perLayer;
  }

  /** Mean FLOPs per text at each text's own length: the work padding adds is not counted. */
  static double usefulFlopsPerText(BertConfig c, List<TokenizedInput> texts) {
    return texts.stream().mapToDouble(t -> forwardFlops(c, t.length())).average().orElse(0);
  }

  /** The 1, 5 and 15 minute load averages from {@code /proc/loadavg}. */
  static String loadAverage() {
    try {
      String[] fields = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return fields[0] + " " + fields[1] + " " + fields[2];
    } catch (IOException | RuntimeException e) {
      return "unknown";
    }
  }

  /**
   * The CPU as /proc/cpuinfo names it, with its family and model numbers and its widest vector
   * extension, since "AMD EPYC" alone spans CPUs several times apart in speed.
   */
  static String cpuModel() {
    String name = "unknown";
    String family = null;
    String model = null;
    String vectors = "";
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        String value = line.substring(line.indexOf(':') + 1).strip();
        if (line.startsWith("model name")) {
          name = value;
        } else if (line.startsWith("cpu family")) {
          family = value;
        } else if (line.startsWith("model") && model == null) {
          model = value;
        } else if (line.startsWith("flags")) {
          List<String> flags = List.of(value.split("\\s+"));
          vectors =
              flags.contains("avx512f") ? "AVX-512" : flags.contains("avx2") ? "AVX2" : "no AVX2";
          break;
        }
      }
    } catch (IOException | RuntimeException e) {
      return name;
    }
    return family == null
        ? name
        : name + " (family " + family + " model " + model + ", " + vectors + ")";
  }
}
