package dev.cascade.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cascade.data.Document;
import dev.cascade.data.Splits;
import dev.cascade.data.Texts;
import dev.cascade.encoder.EncoderModel;
import dev.cascade.exit.HeadType;
import dev.cascade.exit.HeadWeights;
import dev.cascade.exit.HeadsFile;
import dev.cascade.model.BertWeights;
import dev.cascade.model.OnnxBertReader;
import dev.cascade.train.AgreementEstimator;
import dev.cascade.train.HeadTrainer;
import dev.cascade.train.QueryDeriver;
import dev.cascade.train.TeacherNeighbours;
import dev.cascade.train.TeacherTraces;
import dev.cascade.train.TrainedHead;
import dev.cascade.train.TrainingListener;
import dev.cascade.train.TrainingOptions;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code cascade train-heads}: trains exit heads on a corpus by self-distillation and writes a
 * heads file.
 */
@Command(
    name = "train-heads",
    mixinStandardHelpOptions = true,
    description =
        "Train exit heads on your corpus (documents only, no labels): the model's final embedding"
            + " teaches heads on its earlier layers.")
public final class TrainHeadsCommand implements Callable<Integer> {
  @Mixin ModelOptions modelOptions;

  @Option(
      names = "--corpus",
      required = true,
      split = ",",
      description =
          "Training texts: .jsonl files (field text, optional source) or plain text (documents"
              + " separated by blank lines). Repeatable.")
  List<Path> corpora;

  @Option(
      names = "--exits",
      split = ",",
      defaultValue = "4,6,8",
      description = "Exit layers to train heads for. Default: ${DEFAULT-VALUE}.")
  int[] exits;

  @Option(
      names = "--head-type",
      split = ",",
      defaultValue = "narrow",
      description =
          "full, narrow or attention; several train one file each (TYPE is inserted before the"
              + " output's extension) from one pass of the backbone. LAYER:TYPE for every exit"
              + " (4:narrow,6:full,8:narrow) trains one file with a type per exit. Default:"
              + " ${DEFAULT-VALUE}.")
  List<String> headTypes;

  @Option(names = "--epochs", defaultValue = "40", description = "Default: ${DEFAULT-VALUE}.")
  int epochs;

  @Option(names = "--batch-size", defaultValue = "32", description = "Default: ${DEFAULT-VALUE}.")
  int batchSize;

  @Option(
      names = "--learning-rate",
      defaultValue = "2e-4",
      description =
          "Adam's peak learning rate, decayed by a cosine schedule to a tenth. Default:"
              + " ${DEFAULT-VALUE}.")
  float learningRate;

  @Option(
      names = "--ranking-weight",
      defaultValue = "1",
      description =
          "Weight of the ranking term: each text's nearest documents, as the final embedding ranks"
              + " them, are to be ranked the same way by the head; 0 leaves it out. Default:"
              + " ${DEFAULT-VALUE}.")
  float rankingWeight;

  @Option(
      names = "--neighbours",
      defaultValue = "16",
      description =
          "How many of each text's nearest documents the ranking term compares. Default:"
              + " ${DEFAULT-VALUE}.")
  int neighbours;

  @Option(
      names = "--max-tokens",
      defaultValue = "256",
      description = "Truncate training texts to this many tokens. Default: ${DEFAULT-VALUE}.")
  int maxTokens;

  @Option(names = "--seed", defaultValue = "42", description = "Default: ${DEFAULT-VALUE}.")
  long seed;

  @Option(
      names = "--max-texts",
      defaultValue = "0",
      description = "Use at most this many documents per corpus (a seeded sample); 0 = all.")
  int maxTexts;

  @Option(
      names = "--source-half",
      defaultValue = "-1",
      description =
          "Of documents that name a source page, keep only those whose page falls in this half (0"
              + " or 1) of the deterministic split that eval --split uses; -1 keeps all.")
  int sourceHalf;

  @Option(
      names = "--no-derive",
      description = "Do not add query-like texts derived from the documents.")
  boolean noDerive;

  @Option(names = "--checkpoints", description = "Directory for checkpoints; a rerun resumes.")
  Path checkpoints;

  @Option(
      names = {"-o", "--out"},
      required = true,
      description = "Heads file to write.")
  Path out;

  static Path withType(Path file, HeadType type) {
    String name = file.getFileName().toString();
    int dot = name.lastIndexOf('.');
    String typed =
        dot < 0
            ? name + "-" + type.id()
            : name.substring(0, dot) + "-" + type.id() + name.substring(dot);
    return file.resolveSibling(typed);
  }

  /**
   * What one output file holds: a head type per exit layer.
   *
   * @param id the type's name when every exit has it, else {@code LAYER:TYPE} entries
   */
  record Plan(Map<Integer, HeadType> byLayer, String id) {}

  /**
   * The files {@code --head-type} asks for: one per listed type, or a single file with the type of
   * each exit when every entry is {@code LAYER:TYPE}.
   */
  static List<Plan> plans(List<String> specs, int[] layers) {
    boolean perExit = specs.stream().anyMatch(s -> s.contains(":"));
    if (!perExit) {
      List<Plan> plans = new ArrayList<>();
      for (HeadType type : specs.stream().map(HeadType::parse).distinct().toList()) {
        Map<Integer, HeadType> byLayer = new TreeMap<>();
        for (int layer : layers) {
          byLayer.put(layer, type);
        }
        plans.add(new Plan(byLayer, type.id()));
      }
      return plans;
    }
    Map<Integer, HeadType> byLayer = new TreeMap<>();
    for (String spec : specs) {
      int colon = spec.indexOf(':');
      if (colon < 0) {
        throw new IllegalArgumentException(
            "--head-type mixes a plain type (" + spec + ") with LAYER:TYPE entries");
      }
      int layer;
      try {
        layer = Integer.parseInt(spec.substring(0, colon).strip());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("--head-type " + spec + ": the layer is not a number");
      }
      if (Arrays.stream(layers).noneMatch(l -> l == layer)) {
        throw new IllegalArgumentException(
            "--head-type "
                + spec
                + ": layer "
                + layer
                + " is not among --exits "
                + Arrays.toString(layers));
      }
      if (byLayer.put(layer, HeadType.parse(spec.substring(colon + 1).strip())) != null) {
        throw new IllegalArgumentException("--head-type names layer " + layer + " twice");
      }
    }
    for (int layer : layers) {
      if (!byLayer.containsKey(layer)) {
        throw new IllegalArgumentException("--head-type gives no type for exit layer " + layer);
      }
    }
    StringBuilder id = new StringBuilder();
    byLayer.forEach(
        (l, t) -> id.append(id.length() == 0 ? "" : ",").append(l).append(':').append(t.id()));
    return List.of(new Plan(byLayer, id.toString()));
  }

  @Override
  public Integer call() throws Exception {
    PrintStream err = System.err;
    int[] layers = Arrays.stream(exits).sorted().distinct().toArray();
    List<Plan> plans = plans(headTypes, layers);
    TrainingOptions options =
        new TrainingOptions(
            epochs, batchSize, learningRate, 0.05f, 0.1f, rankingWeight, seed, 0.1, maxTokens);
    Random random = new Random(seed);
    List<String> texts = new ArrayList<>();
    List<Integer> documentRows = new ArrayList<>();
    int documents = 0;
    int derived = 0;
    for (Path corpus : corpora) {
      List<Document> docs = new ArrayList<>(Texts.read(corpus));
      if (sourceHalf >= 0) {
        docs.removeIf(
            d -> !d.source().isEmpty() && Splits.half(Splits.page(d.source())) != sourceHalf);
      }
      if (maxTexts > 0 && docs.size() > maxTexts) {
        Collections.shuffle(docs, new Random(seed));
        docs = docs.subList(0, maxTexts);
      }
      for (Document doc : docs) {
        documentRows.add(texts.size());
        texts.add(doc.text());
        documents++;
        if (!noDerive) {
          List<String> queries = QueryDeriver.derive(doc.text(), random);
          texts.addAll(queries);
          derived += queries.size();
        }
      }
    }
    err.printf("%d documents, %d derived query-like texts%n", documents, derived);

    try (EncoderModel model = modelOptions.load()) {
      BertWeights weights;
      try (InputStream in = model.spec().openWeights()) {
        weights = OnnxBertReader.read(in);
      }
      ProgressBar bar = new ProgressBar(err);
      long started = System.nanoTime();
      TeacherTraces traces =
          TeacherTraces.collect(
              model,
              texts,
              layers,
              options.maxTokens(),
              done -> bar.show("encoding", done, texts.size(), ""));
      bar.finish();
      double encodeSeconds = (System.nanoTime() - started) / 1e9;
      TeacherNeighbours near =
          rankingWeight > 0
              ? TeacherNeighbours.find(
                  traces,
                  documentRows.stream().mapToInt(Integer::intValue).toArray(),
                  Math.min(neighbours, documentRows.size()))
              : null;

      for (Plan plan : plans) {
        List<HeadWeights> heads = new ArrayList<>();
        ArrayNode report = new ObjectMapper().createArrayNode();
        for (int layer : layers) {
          HeadType type = plan.byLayer().get(layer);
          HeadWeights init = HeadWeights.fromLastLayer(weights, layer, type);
          TrainedHead trained;
          try (HeadTrainer trainer =
              new HeadTrainer(weights.config(), model.spec().pooling(), init, options)) {
            trained =
                trainer.train(
                    traces,
                    near,
                    checkpoints == null ? null : checkpoints.resolve(type.id()),
                    new TrainingListener() {
                      double lastValidation = Double.NaN;

                      @Override
                      public void onStep(int l, int epoch, int step, int steps, double loss) {
                        bar.show(
                            "layer " + l,
                            (long) (epoch - 1) * steps + step,
                            (long) options.epochs() * steps,
                            String.format(
                                Locale.ROOT,
                                "epoch %d/%d loss %.4f val cos %.4f",
                                epoch,
                                options.epochs(),
                                loss,
                                lastValidation));
                      }

                      @Override
                      public void onEpoch(
                          int l, int epoch, double loss, double validation, boolean best) {
                        lastValidation = validation;
                      }
                    });
          }
          bar.finish();
          err.printf(
              Locale.ROOT,
              "layer %d: validation cosine %.4f -> %.4f (best epoch %d) in %.0f s%n",
              layer,
              trained.initialValidationCosine(),
              trained.validationCosine(),
              trained.bestEpoch(),
              trained.seconds());
          heads.add(trained.weights());
          ObjectNode exit = report.addObject();
          exit.put("layer", layer);
          exit.put("head_type", type.id());
          exit.put("validation_cosine_untrained", trained.initialValidationCosine());
          exit.put("validation_cosine", trained.validationCosine());
          exit.put("best_epoch", trained.bestEpoch());
          exit.put("seconds", trained.seconds());
        }
        ObjectNode training = new ObjectMapper().createObjectNode();
        ArrayNode files = training.putArray("corpora");
        corpora.forEach(c -> files.add(c.getFileName().toString()));
        training.put("documents", documents);
        training.put("derived_texts", derived);
        training.put("derivation", noDerive ? "none" : QueryDeriver.DESCRIPTION);
        training.put("head_type", plan.id());
        training.put("source_half", sourceHalf);
        training.put("epochs", epochs);
        training.put("batch_size", batchSize);
        training.put("learning_rate", learningRate);
        training.put("ranking_weight", rankingWeight);
        if (near != null) {
          training.put("neighbours", near.k());
        }
        training.put("seed", seed);
        training.put("max_tokens", options.maxTokens());
        training.put("encode_seconds", encodeSeconds);
        training.put("date", Instant.now().toString());
        training.set("exits", report);
        List<AgreementEstimator.Fit> fits =
            AgreementEstimator.fit(
                new HeadsFile(model.spec().name(), model.checksum(), heads, training),
                weights.config(),
                model.spec().pooling(),
                modelOptions.encoderOptions(),
                traces);
        List<HeadWeights> estimated = new ArrayList<>();
        for (int i = 0; i < fits.size(); i++) {
          AgreementEstimator.Fit fit = fits.get(i);
          estimated.add(fit.head());
          ObjectNode estimate = ((ObjectNode) report.get(i)).putObject("agreement_estimate");
          estimate.put("ridge", AgreementEstimator.RIDGE);
          estimate.put("fit_texts", fit.fitTexts());
          estimate.put("held_out_texts", fit.heldOut());
          estimate.put("held_out_correlation", fit.correlation());
          estimate.put("held_out_mean_absolute_error", fit.meanAbsoluteError());
          err.printf(
              Locale.ROOT,
              "layer %d: agreement estimate, correlation %.3f with the cosine to final on %d"
                  + " held-out texts (mean error %.4f)%n",
              fit.head().layer(),
              fit.correlation(),
              fit.heldOut(),
              fit.meanAbsoluteError());
        }
        Path file = plans.size() == 1 ? out : withType(out, plan.byLayer().get(layers[0]));
        new HeadsFile(model.spec().name(), model.checksum(), estimated, training).write(file);
        err.printf("wrote %s%n", file);
      }
      return 0;
    }
  }
}
