package dev.cascade.tune;

import dev.cascade.confidence.ExitObservation;
import dev.cascade.encoder.EncoderBatch;
import dev.cascade.encoder.EncoderModel;
import dev.cascade.exit.ExitHeads;
import dev.cascade.exit.HeadGraph;
import dev.cascade.exit.HeadOutput;
import dev.cascade.model.BertConfig;
import dev.cascade.tokenize.TokenizedInput;
import dev.cascade.tokenize.Truncation;
import dev.cascade.vector.Vectors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * For every calibration input: its embedding and head norm at every exit, its final embedding, and
 * what each exit costs, recorded once so that any threshold can be simulated without running the
 * model again.
 *
 * @param exits exit layers, ascending
 * @param layers the model's layers
 * @param tokens token count per input
 * @param embeddings {@code [input][exit]} head embeddings
 * @param norms {@code [input][exit]} head norms before normalisation
 * @param estimates {@code [input][exit]} heads' agreement estimates, NaN where a head has none
 * @param finals final embeddings per input
 * @param headCost {@code [input][exit]} cost of the exit's head, in layers
 */
public record CalibrationTraces(
    int[] exits,
    int layers,
    int[] tokens,
    float[][][] embeddings,
    float[][] norms,
    double[][] estimates,
    float[][] finals,
    double[][] headCost) {

  /** Number of inputs. */
  public int size() {
    return tokens.length;
  }

  /** Runs every text through the model and heads. */
  public static CalibrationTraces record(
      EncoderModel model, ExitHeads heads, List<String> texts, IntConsumer progress) {
    BertConfig config = model.encoder().config();
    int[] exits = heads.layers();
    int n = texts.size();
    List<TokenizedInput> inputs = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      inputs.add(model.tokenizer().tokenize(texts.get(i), i, Truncation.TRUNCATE));
    }
    Integer[] order = new Integer[n];
    Arrays.setAll(order, i -> i);
    Arrays.sort(order, Comparator.comparingInt(i -> inputs.get(i).length()));
    int[] tokens = new int[n];
    float[][][] embeddings = new float[n][exits.length][];
    float[][] norms = new float[n][exits.length];
    double[][] estimates = new double[n][exits.length];
    float[][] finals = new float[n][];
    double[][] cost = new double[n][exits.length];
    int batchSize = 64;
    for (int start = 0; start < n; start += batchSize) {
      List<TokenizedInput> chunk = new ArrayList<>();
      for (int i = start; i < Math.min(n, start + batchSize); i++) {
        chunk.add(inputs.get(order[i]));
      }
      try (EncoderBatch batch = model.encoder().start(chunk)) {
        int e = 0;
        while (!batch.atLastLayer()) {
          batch.advance();
          if (e < exits.length && batch.layer() == exits[e]) {
            HeadOutput out = heads.apply(batch);
            for (int r = 0; r < chunk.size(); r++) {
              int id = order[start + r];
              embeddings[id][e] = out.embeddings()[r];
              norms[id][e] = out.norms()[r];
              estimates[id][e] = out.estimates()[r];
              cost[id][e] =
                  (double)
                          HeadGraph.macs(
                              config, heads.file().head(exits[e]).type(), chunk.get(r).length())
                      / HeadGraph.layerMacs(config, chunk.get(r).length());
            }
            e++;
          }
        }
        float[][] pooled = batch.pool();
        for (int r = 0; r < chunk.size(); r++) {
          int id = order[start + r];
          finals[id] = pooled[r];
          tokens[id] = chunk.get(r).length();
        }
      }
      progress.accept(Math.min(n, start + batchSize));
    }
    return new CalibrationTraces(
        exits, config.layers(), tokens, embeddings, norms, estimates, finals, cost);
  }

  /** What the confidence scorer sees of input {@code i} at exit {@code e}. */
  public ExitObservation observation(int i, int e) {
    return new ExitObservation(
        e,
        exits[e],
        layers,
        tokens[i],
        embeddings[i][e],
        e == 0 ? null : embeddings[i][e - 1],
        norms[i][e],
        estimates[i][e]);
  }

  /** Whether every exit's head gave an agreement estimate. */
  public boolean hasEstimates() {
    for (double[] row : estimates) {
      for (double v : row) {
        if (Double.isNaN(v)) {
          return false;
        }
      }
    }
    return true;
  }

  /** Cosine of input {@code i}'s embedding at exit {@code e} to its final embedding. */
  public double cosineToFinal(int i, int e) {
    return Vectors.dot(embeddings[i][e], finals[i]);
  }

  /** The traces of the inputs at {@code rows}, in that order. */
  public CalibrationTraces subset(int[] rows) {
    int[] t = new int[rows.length];
    float[][][] emb = new float[rows.length][][];
    float[][] nrm = new float[rows.length][];
    double[][] est = new double[rows.length][];
    float[][] fin = new float[rows.length][];
    double[][] cst = new double[rows.length][];
    for (int k = 0; k < rows.length; k++) {
      t[k] = tokens[rows[k]];
      emb[k] = embeddings[rows[k]];
      nrm[k] = norms[rows[k]];
      est[k] = estimates[rows[k]];
      fin[k] = finals[rows[k]];
      cst[k] = headCost[rows[k]];
    }
    return new CalibrationTraces(exits, layers, t, emb, nrm, est, fin, cst);
  }
}
