package dev.cascade.eval;

import dev.cascade.data.Document;
import dev.cascade.data.RetrievalSet;
import dev.cascade.encoder.EncoderBatch;
import dev.cascade.encoder.EncoderModel;
import dev.cascade.exit.ExitHeads;
import dev.cascade.exit.HeadGraph;
import dev.cascade.exit.HeadOutput;
import dev.cascade.model.BertConfig;
import dev.cascade.policy.Profile;
import dev.cascade.tokenize.TokenizedInput;
import dev.cascade.tokenize.Truncation;
import dev.cascade.tune.CalibrationTraces;
import dev.cascade.tune.CascadeSimulation;
import dev.cascade.tune.RiskDefinition;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.IntConsumer;

/**
 * Embeds a retrieval set's documents at full depth and its queries at every exit (through the
 * exit's head, and optionally the plain pooled vector), and scores each exit's retrieval against
 * full depth.
 */
public final class ExitEvaluation {
  private final EncoderModel model;
  private final ExitHeads heads;
  private final boolean includePooled;

  /**
   * @param heads trained heads, or null to evaluate pooled vectors only
   * @param includePooled also score the plain pooled vector at each exit layer
   */
  public ExitEvaluation(EncoderModel model, ExitHeads heads, boolean includePooled) {
    this.model = model;
    this.heads = heads;
    this.includePooled = includePooled || heads == null;
  }

  /**
   * One line of the evaluation.
   *
   * @param name what was scored, e.g. {@code head@6}, {@code pooled@6}, {@code full}
   * @param layer exit layer
   * @param meanLayers mean cost per query in encoder layers, heads counted by their multiply-adds
   * @param metrics retrieval quality
   * @param meanCosine mean cosine of the query embedding to its full-depth embedding
   * @param p5Cosine 5th percentile of that cosine
   * @param realisedRisk for a profile, the fraction of these queries that stopped early with a risk
   *     event as its tuning defined them (cosine or top-10, searched in this corpus); NaN for rows
   *     that are not profiles and for profiles whose risk is unknown
   */
  public record Row(
      String name,
      int layer,
      double meanLayers,
      RetrievalMetrics metrics,
      double meanCosine,
      double p5Cosine,
      double realisedRisk) {}

  /** Query embeddings of every scored variant, by row name, plus the full-depth ones. */
  public record QueryEmbeddings(Map<String, float[][]> byName, Map<String, Double> meanLayers) {}

  /**
   * Embeds every document at full depth, in corpus order, telling {@code progress} how many are
   * done.
   */
  public float[][] embedCorpus(List<Document> corpus, IntConsumer progress) {
    List<TokenizedInput> inputs = new ArrayList<>();
    for (int i = 0; i < corpus.size(); i++) {
      inputs.add(model.tokenizer().tokenize(corpus.get(i).text(), i, Truncation.TRUNCATE));
    }
    Integer[] order = sortedByLength(inputs);
    float[][] out = new float[inputs.size()][];
    int batch = 32;
    for (int start = 0; start < order.length; start += batch) {
      List<TokenizedInput> chunk = new ArrayList<>();
      for (int i = start; i < Math.min(order.length, start + batch); i++) {
        chunk.add(inputs.get(order[i]));
      }
      float[][] embedded = model.encoder().encode(chunk);
      for (int i = 0; i < chunk.size(); i++) {
        out[order[start + i]] = embedded[i];
      }
      progress.accept(Math.min(order.length, start + batch));
    }
    return out;
  }

  /** Embeds every query at every exit and at full depth ({@code "full"}). */
  public QueryEmbeddings embedQueries(List<Document> queries) {
    BertConfig config = model.encoder().config();
    int last = config.layers();
    int[] exits = heads == null ? new int[0] : heads.layers();
    List<TokenizedInput> inputs = new ArrayList<>();
    for (int i = 0; i < queries.size(); i++) {
      inputs.add(model.tokenizer().tokenize(queries.get(i).text(), i, Truncation.TRUNCATE));
    }
    Map<String, float[][]> byName = new LinkedHashMap<>();
    Map<String, Double> cost = new LinkedHashMap<>();
    int[] pooledLayers = includePooled ? poolLayers(exits, last) : new int[0];
    for (int layer : exits) {
      byName.put("head@" + layer, new float[queries.size()][]);
      double headLayers = 0;
      for (TokenizedInput in : inputs) {
        headLayers +=
            (double) HeadGraph.macs(config, heads.file().head(layer).type(), in.length())
                / HeadGraph.layerMacs(config, in.length());
      }
      cost.put("head@" + layer, layer + headLayers / inputs.size());
    }
    for (int layer : pooledLayers) {
      byName.put("pooled@" + layer, new float[queries.size()][]);
      cost.put("pooled@" + layer, (double) layer);
    }
    byName.put("full", new float[queries.size()][]);
    cost.put("full", (double) last);

    Integer[] order = sortedByLength(inputs);
    int batchSize = 64;
    for (int start = 0; start < order.length; start += batchSize) {
      List<TokenizedInput> chunk = new ArrayList<>();
      for (int i = start; i < Math.min(order.length, start + batchSize); i++) {
        chunk.add(inputs.get(order[i]));
      }
      try (EncoderBatch batch = model.encoder().start(chunk)) {
        while (!batch.atLastLayer()) {
          batch.advance();
          int layer = batch.layer();
          if (heads != null && heads.has(layer)) {
            HeadOutput out = heads.apply(batch);
            store(byName.get("head@" + layer), out.embeddings(), order, start);
          }
          if (Arrays.stream(pooledLayers).anyMatch(l -> l == layer)) {
            store(byName.get("pooled@" + layer), batch.pool(), order, start);
          }
        }
        store(byName.get("full"), batch.pool(), order, start);
      }
    }
    return new QueryEmbeddings(byName, cost);
  }

  /** Scores every variant of {@code embeddings} against documents embedded at full depth. */
  public List<Row> score(
      RetrievalSet set, float[][] documents, List<Document> queries, QueryEmbeddings embeddings) {
    VectorIndex index =
        new VectorIndex(set.corpus().stream().map(Document::id).toList(), documents);
    List<Set<String>> relevant = queries.stream().map(q -> set.relevant().get(q.id())).toList();
    float[][] full = embeddings.byName().get("full");
    List<Row> rows = new ArrayList<>();
    for (var entry : embeddings.byName().entrySet()) {
      String name = entry.getKey();
      float[][] vectors = entry.getValue();
      List<List<String>> rankings = new ArrayList<>();
      double[] cosines = new double[vectors.length];
      for (int q = 0; q < vectors.length; q++) {
        rankings.add(index.search(vectors[q], 10));
        cosines[q] = VectorIndex.dot(vectors[q], full[q]);
      }
      Arrays.sort(cosines);
      int layer =
          name.equals("full")
              ? model.encoder().config().layers()
              : Integer.parseInt(name.substring(name.indexOf('@') + 1));
      rows.add(
          new Row(
              name,
              layer,
              embeddings.meanLayers().get(name),
              RetrievalMetrics.of(rankings, relevant),
              Arrays.stream(cosines).average().orElse(Double.NaN),
              cosines[(int) Math.floor(0.05 * (cosines.length - 1))],
              Double.NaN));
    }
    rows.sort(Comparator.comparingInt(Row::layer).thenComparing(Row::name));
    return rows;
  }

  /**
   * Scores a profile: each query at the exit where the profile stops it (documents at full depth),
   * its cost in layers with every evaluated head counted.
   *
   * @param traces the queries' traces, in query order, recorded with the heads the profile uses
   */
  public Row scoreProfile(
      RetrievalSet set,
      float[][] documents,
      List<Document> queries,
      CalibrationTraces traces,
      Profile profile) {
    if (!Arrays.equals(traces.exits(), profile.exits())) {
      throw new IllegalArgumentException(
          "profile "
              + profile.name()
              + " uses exits "
              + Arrays.toString(profile.exits())
              + " but the heads cover "
              + Arrays.toString(traces.exits()));
    }
    CascadeSimulation simulation = new CascadeSimulation(traces, profile.confidence());
    VectorIndex index =
        new VectorIndex(set.corpus().stream().map(Document::id).toList(), documents);
    List<List<String>> rankings = new ArrayList<>();
    List<Set<String>> relevant = new ArrayList<>();
    double[] cosines = new double[queries.size()];
    double layers = 0;
    Optional<RiskDefinition> risk =
        RiskDefinition.fromId(profile.tunedFor().path("risk").asText(""), index);
    int violations = 0;
    for (int q = 0; q < queries.size(); q++) {
      int stop = simulation.stopExit(q, profile.thresholds());
      float[] vector = stop < 0 ? traces.finals()[q] : traces.embeddings()[q][stop];
      rankings.add(index.search(vector, 10));
      relevant.add(set.relevant().get(queries.get(q).id()));
      cosines[q] = VectorIndex.dot(vector, traces.finals()[q]);
      if (stop >= 0 && risk.isPresent() && risk.get().violatedBy(traces.finals()[q]).test(vector)) {
        violations++;
      }
      layers += simulation.cost(q, stop);
    }
    Arrays.sort(cosines);
    return new Row(
        "profile:" + profile.name(),
        0,
        layers / queries.size(),
        RetrievalMetrics.of(rankings, relevant),
        Arrays.stream(cosines).average().orElse(Double.NaN),
        cosines[(int) Math.floor(0.05 * (cosines.length - 1))],
        risk.isPresent() ? (double) violations / queries.size() : Double.NaN);
  }

  private static int[] poolLayers(int[] exits, int last) {
    if (exits.length > 0) {
      return exits;
    }
    int[] all = new int[last - 1];
    Arrays.setAll(all, i -> i + 1);
    return all;
  }

  private static void store(float[][] into, float[][] rows, Integer[] order, int start) {
    for (int i = 0; i < rows.length; i++) {
      into[order[start + i]] = rows[i];
    }
  }

  private static Integer[] sortedByLength(List<TokenizedInput> inputs) {
    Integer[] order = new Integer[inputs.size()];
    Arrays.setAll(order, i -> i);
    Arrays.sort(order, Comparator.comparingInt(i -> inputs.get(i).length()));
    return order;
  }
}
