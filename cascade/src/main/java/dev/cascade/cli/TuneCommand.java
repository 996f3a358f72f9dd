package dev.cascade.cli;

import dev.cascade.confidence.LogisticConfidence;
import dev.cascade.data.Document;
import dev.cascade.data.RetrievalSet;
import dev.cascade.data.Texts;
import dev.cascade.encoder.EncoderModel;
import dev.cascade.encoder.EncoderOptions;
import dev.cascade.eval.EmbeddingCache;
import dev.cascade.eval.ExitEvaluation;
import dev.cascade.eval.VectorIndex;
import dev.cascade.exit.DefaultHeads;
import dev.cascade.exit.ExitHeads;
import dev.cascade.exit.HeadsFile;
import dev.cascade.tune.CalibrationTraces;
import dev.cascade.tune.LearnThenTest;
import dev.cascade.tune.RiskDefinition;
import dev.cascade.tune.TuneReport;
import dev.cascade.tune.Tuner;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code cascade tune}: certifies a profile's thresholds on calibration texts so that, with
 * probability at least 1 - ε, the fraction of inputs that stop early with a bad embedding is at
 * most δ.
 */
@Command(
    name = "tune",
    mixinStandardHelpOptions = true,
    description =
        "Certify exit thresholds on calibration texts (Learn-then-Test) and write a profile and a"
            + " report.")
public final class TuneCommand implements Callable<Integer> {
  @Mixin ModelOptions modelOptions;

  @Option(
      names = "--data",
      description =
          "A retrieval set directory (queries.jsonl, corpus.jsonl, qrels.tsv): its queries of"
              + " --split calibrate, its corpus is searched for the top10 risk.")
  Path data;

  @Option(
      names = "--split",
      defaultValue = "0",
      description =
          "With --data: the queries to calibrate on: a half (0 or 1), a half of a half (0.0,"
              + " 0.1, 1.0, 1.1) or all.")
  String split;

  @Option(names = "--calibration", description = "Calibration texts (.jsonl or plain text).")
  Path calibration;

  @Option(names = "--corpus", description = "Corpus to search for the top10 risk (.jsonl).")
  Path corpus;

  @Option(names = "--heads", description = "Heads file (default: the model's shipped heads).")
  Path headsFile;

  @Option(
      names = "--risk",
      defaultValue = "top10",
      description =
          "cosine:TAU (early embedding's cosine to the final one below TAU), top10 (top-10"
              + " neighbours differ from full depth) or top10:M (one of the full-depth top M is"
              + " not in the early top 10). Default: ${DEFAULT-VALUE}.")
  String risk;

  @Option(names = "--delta", defaultValue = "0.05", description = "Risk level δ.")
  double delta;

  @Option(names = "--epsilon", defaultValue = "0.05", description = "1 - confidence, ε.")
  double epsilon;

  @Option(names = "--seed", defaultValue = "42", description = "Seeds the fit/certify split.")
  long seed;

  @Option(names = "--name", required = true, description = "Profile name, e.g. balanced.")
  String name;

  @Option(
      names = {"-o", "--out"},
      required = true,
      description = "Profile JSON to write.")
  Path out;

  @Option(names = "--report", description = "HTML report to write.")
  Path report;

  @Option(names = "--cache", description = "Directory for cached corpus embeddings.")
  Path cache;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    List<Document> texts;
    List<Document> searched = null;
    if (data != null) {
      RetrievalSet set = EvalCommand.select(RetrievalSet.read(data), split);
      texts = set.queries();
      searched = set.corpus();
    } else if (calibration != null) {
      texts = Texts.read(calibration);
    } else {
      throw new IllegalArgumentException("give calibration texts with --data or --calibration");
    }
    if (corpus != null) {
      searched = Texts.read(corpus);
    }
    try (EncoderModel model = modelOptions.load()) {
      HeadsFile file =
          DefaultHeads.resolve(headsFile, model.spec().name(), model.checksum())
              .orElseThrow(
                  () ->
                      new IllegalArgumentException(
                          "model " + model.spec().name() + " has no shipped heads: give --heads"));
      try (ExitHeads heads =
          new ExitHeads(
              file, model.encoder().config(), model.spec().pooling(), EncoderOptions.defaults())) {
        VectorIndex index = null;
        if (RiskDefinition.searchesCorpus(risk)) {
          if (searched == null) {
            throw new IllegalArgumentException(
                "risk " + risk + " needs --data or --corpus to search");
          }
          List<Document> docs = searched;
          ProgressBar bar = new ProgressBar(System.err);
          float[][] vectors =
              EmbeddingCache.load(cache, model.checksum(), docs)
                  .orElseGet(
                      () ->
                          new ExitEvaluation(model, null, false)
                              .embedCorpus(
                                  docs, done -> bar.show("documents", done, docs.size(), "")));
          EmbeddingCache.store(cache, model.checksum(), docs, vectors);
          index = new VectorIndex(docs.stream().map(Document::id).toList(), vectors);
        }
        RiskDefinition definition = RiskDefinition.parse(risk, index);
        ProgressBar bar = new ProgressBar(System.err);
        CalibrationTraces traces =
            CalibrationTraces.record(
                model,
                heads,
                texts.stream().map(Document::text).toList(),
                done -> bar.show("calibration", done, texts.size(), ""));
        bar.finish();
        Tuner.Result result =
            Tuner.tune(
                traces,
                definition,
                delta,
                epsilon,
                seed,
                name,
                model.spec().name(),
                model.checksum(),
                file.checksum(),
                checksum(texts));
        print(out, result);
        result.profile().write(this.out);
        out.printf("wrote %s%n", this.out);
        if (report != null) {
          TuneReport.write(report, result, traces.layers());
          out.printf("wrote %s%n", report);
        }
      }
    }
    out.flush();
    return 0;
  }

  private static void print(PrintWriter out, Tuner.Result result) {
    LearnThenTest.Outcome o = result.outcome();
    out.printf(
        Locale.ROOT,
        "%-8s %8s %10s %10s %9s  %s%n",
        "lambda",
        "risk",
        "p-value",
        "layers",
        "certified",
        "");
    for (int k = 0; k < o.candidates().size(); k++) {
      LearnThenTest.Candidate c = o.candidates().get(k);
      if (!c.tested() && k % 20 != 0) {
        continue;
      }
      out.printf(
          Locale.ROOT,
          "%-8.3f %8.4f %10.2e %10.2f %9s  %s%n",
          c.lambda(),
          c.risk(),
          c.pValue(),
          c.meanLayers(),
          c.tested() ? (c.certified() ? "yes" : "no") : "untested",
          k == o.chosen() ? "<- chosen" : "");
    }
    int[] h = result.stopHistogram();
    int[] exits = result.profile().exits();
    StringBuilder hist = new StringBuilder("stops on the certification part:");
    for (int e = 0; e < h.length; e++) {
      hist.append(' ')
          .append(e < exits.length ? "layer " + exits[e] : "last layer")
          .append(": ")
          .append(h[e]);
      if (e + 1 < h.length) {
        hist.append(',');
      }
    }
    out.println(hist);
    if (result.profile().confidence() instanceof LogisticConfidence scorer) {
      out.println("confidence: logistic on " + String.join(", ", scorer.features()));
    }
    out.println(result.profile().description());
  }

  private static String checksum(List<Document> texts) throws Exception {
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    for (Document d : texts) {
      sha.update(d.text().getBytes(StandardCharsets.UTF_8));
      sha.update((byte) 0);
    }
    return HexFormat.of().formatHex(sha.digest());
  }
}
