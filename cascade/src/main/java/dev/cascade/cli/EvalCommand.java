package dev.cascade.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cascade.data.Document;
import dev.cascade.data.RetrievalSet;
import dev.cascade.encoder.EncoderModel;
import dev.cascade.encoder.EncoderOptions;
import dev.cascade.eval.EmbeddingCache;
import dev.cascade.eval.ExitEvaluation;
import dev.cascade.eval.RetrievalMetrics;
import dev.cascade.exit.DefaultHeads;
import dev.cascade.exit.ExitHeads;
import dev.cascade.exit.HeadsFile;
import dev.cascade.policy.Profile;
import dev.cascade.policy.Profiles;
import dev.cascade.tune.CalibrationTraces;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code cascade eval}: retrieval quality with documents at full depth and queries at each exit, as
 * a table and JSON.
 */
@Command(
    name = "eval",
    mixinStandardHelpOptions = true,
    description =
        "Score retrieval with documents at full depth and queries at each exit (through its head).")
public final class EvalCommand implements Callable<Integer> {
  @Mixin ModelOptions modelOptions;

  @Option(
      names = "--data",
      required = true,
      description = "Directory with queries.jsonl, corpus.jsonl and qrels.tsv.")
  Path data;

  @Option(
      names = "--heads",
      description = "Heads file (default: the model's shipped heads, if any).")
  Path headsFile;

  @Option(
      names = "--split",
      defaultValue = "all",
      description =
          "Queries to score: all, or half 0 or 1 of a deterministic split keyed by the relevant"
              + " document's source page when the corpus names sources, else by query id; 0.0"
              + " and 0.1 (1.0, 1.1) split a half in two again."
              + " Default: ${DEFAULT-VALUE}.")
  String split;

  @Option(
      names = "--profile",
      split = ",",
      description =
          "Profiles to score beside the fixed exits: names of the model's profiles or JSON files.")
  List<String> profiles = List.of();

  @Option(names = "--pooled", description = "Also score the plain pooled vector at each exit.")
  boolean pooled;

  @Option(
      names = "--cache",
      description =
          "Directory to keep document embeddings in, keyed by model and corpus, so that reruns"
              + " skip re-embedding the corpus.")
  Path cache;

  @Option(names = "--json", description = "Write the results as JSON to this file.")
  Path json;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    RetrievalSet set = select(RetrievalSet.read(data), split);
    try (EncoderModel model = modelOptions.load()) {
      Optional<HeadsFile> heads =
          DefaultHeads.resolve(headsFile, model.spec().name(), model.checksum());
      try (ExitHeads exitHeads =
          heads
              .map(
                  h ->
                      new ExitHeads(
                          h,
                          model.encoder().config(),
                          model.spec().pooling(),
                          EncoderOptions.defaults()))
              .orElse(null)) {
        ExitEvaluation evaluation = new ExitEvaluation(model, exitHeads, pooled);
        ProgressBar bar = new ProgressBar(System.err);
        float[][] docs =
            EmbeddingCache.load(cache, model.checksum(), set.corpus())
                .orElseGet(
                    () ->
                        evaluation.embedCorpus(
                            set.corpus(),
                            done -> bar.show("documents", done, set.corpus().size(), "")));
        EmbeddingCache.store(cache, model.checksum(), set.corpus(), docs);
        bar.finish();
        ExitEvaluation.QueryEmbeddings queries = evaluation.embedQueries(set.queries());
        List<ExitEvaluation.Row> rows =
            new java.util.ArrayList<>(evaluation.score(set, docs, set.queries(), queries));
        if (!profiles.isEmpty()) {
          if (exitHeads == null) {
            throw new IllegalArgumentException("profiles need exit heads: give --heads");
          }
          CalibrationTraces traces =
              CalibrationTraces.record(
                  model, exitHeads, set.queries().stream().map(Document::text).toList(), d -> {});
          String headsChecksum = heads.map(HeadsFile::checksum).orElse("");
          Map<String, Profile> offered =
              Profiles.load(
                  model.spec().name(), model.checksum(), exitHeads.layers(), headsChecksum, null);
          for (String p : profiles) {
            Profile profile = offered.containsKey(p) ? offered.get(p) : Profile.read(Path.of(p));
            profile.requireBackbone(model.spec().name(), model.checksum());
            profile.requireHeads(headsChecksum);
            rows.add(evaluation.scoreProfile(set, docs, set.queries(), traces, profile));
          }
        }
        print(out, model, set, rows);
        if (json != null) {
          writeJson(model, set, rows, heads.orElse(null));
        }
      }
    }
    return 0;
  }

  static RetrievalSet select(RetrievalSet set, String split) {
    if (split.equals("all")) {
      return set;
    }
    if (split.matches("[01]")) {
      return set.half(Integer.parseInt(split));
    }
    if (split.matches("[01]\\.[01]")) {
      return set.part(split.charAt(0) - '0', split.charAt(2) - '0');
    }
    throw new IllegalArgumentException(
        "--split must be all, 0, 1, or a half of a half: 0.0, 0.1, 1.0 or 1.1; was " + split);
  }

  private static void print(
      PrintWriter out, EncoderModel model, RetrievalSet set, List<ExitEvaluation.Row> rows) {
    RetrievalMetrics full =
        rows.stream().filter(r -> r.name().equals("full")).findFirst().orElseThrow().metrics();
    out.printf(
        "%s: %d queries, %d documents (documents at full depth)%n%n",
        model.spec().name(), set.queries().size(), set.corpus().size());
    out.printf(
        "%-10s %7s %7s %7s %7s %8s %9s %9s %8s %7s%n",
        "queries",
        "layers",
        "R@1",
        "R@10",
        "MRR@10",
        "nDCG@10",
        "R@10/full",
        "cos mean",
        "cos p5",
        "risk");
    for (ExitEvaluation.Row r : rows) {
      RetrievalMetrics m = r.metrics();
      out.printf(
          Locale.ROOT,
          "%-10s %7.2f %7.3f %7.3f %7.3f %8.3f %8.1f%% %9.4f %8.4f %7s%n",
          r.name(),
          r.meanLayers(),
          m.recallAt1(),
          m.recallAt10(),
          m.mrrAt10(),
          m.ndcgAt10(),
          100 * m.recallAt10() / full.recallAt10(),
          r.meanCosine(),
          r.p5Cosine(),
          Double.isNaN(r.realisedRisk())
              ? ""
              : String.format(Locale.ROOT, "%.4f", r.realisedRisk()));
    }
    out.flush();
  }

  private void writeJson(
      EncoderModel model, RetrievalSet set, List<ExitEvaluation.Row> rows, HeadsFile heads)
      throws java.io.IOException {
    ObjectMapper mapper = new ObjectMapper();
    ObjectNode root = mapper.createObjectNode();
    root.put("model", model.spec().name());
    root.put("data", data.toString());
    root.put("split", split);
    root.put("queries", set.queries().size());
    root.put("documents", set.corpus().size());
    if (heads != null) {
      root.set("heads_training", heads.training());
    }
    ArrayNode array = root.putArray("rows");
    for (ExitEvaluation.Row r : rows) {
      ObjectNode row = array.addObject();
      row.put("name", r.name());
      row.put("layer", r.layer());
      row.put("mean_layers", r.meanLayers());
      row.put("recall_at_1", r.metrics().recallAt1());
      row.put("recall_at_10", r.metrics().recallAt10());
      row.put("mrr_at_10", r.metrics().mrrAt10());
      row.put("ndcg_at_10", r.metrics().ndcgAt10());
      row.put("cosine_mean", r.meanCosine());
      row.put("cosine_p5", r.p5Cosine());
      if (!Double.isNaN(r.realisedRisk())) {
        row.put("realised_risk", r.realisedRisk());
      }
    }
    mapper.writerWithDefaultPrettyPrinter().writeValue(json.toFile(), root);
  }
}
