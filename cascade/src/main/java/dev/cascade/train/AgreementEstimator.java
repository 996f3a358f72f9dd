package dev.cascade.train;

import dev.cascade.encoder.EncoderOptions;
import dev.cascade.exit.AgreementEstimate;
import dev.cascade.exit.ExitHeads;
import dev.cascade.exit.HeadOutput;
import dev.cascade.exit.HeadWeights;
import dev.cascade.exit.HeadsFile;
import dev.cascade.model.BertConfig;
import dev.cascade.model.Pooling;
import dev.cascade.vector.LinearSystems;
import dev.cascade.vector.Vectors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import org.tensorflow.types.TFloat32;

/**
 * Fits each trained head's agreement estimate: a ridge regression from the head's normalised
 * embedding to that embedding's cosine with the model's final embedding, on the training texts'
 * traces. The estimate tells the confidence scorer where a head is likely to be wrong, which the
 * head's output alone does not say at the first exit (there is no previous exit to compare with).
 *
 * <p>Every tenth text (index ≡ 9 mod 10) is held out of the fit to measure it.
 */
public final class AgreementEstimator {
  /** The ridge penalty on the weights (the embeddings are unit vectors of a few hundred values). */
  public static final double RIDGE = 0.1;

  private static final int CHUNK = 64;

  private AgreementEstimator() {}

  /**
   * One head's fit.
   *
   * @param head the head with its estimate
   * @param fitTexts texts the regression was fitted on
   * @param heldOut texts held out to measure it
   * @param correlation Pearson correlation of the estimate with the true cosine on the held-out
   *     texts
   * @param meanAbsoluteError mean |estimate − cosine| on the held-out texts
   */
  public record Fit(
      HeadWeights head, int fitTexts, int heldOut, double correlation, double meanAbsoluteError) {}

  /**
   * Fits every head of {@code file} on {@code traces}, which must hold every head's layer.
   *
   * @return one fit per head, in the file's order
   */
  public static List<Fit> fit(
      HeadsFile file,
      BertConfig config,
      Pooling pooling,
      EncoderOptions options,
      TeacherTraces traces) {
    List<Fit> fits = new ArrayList<>();
    try (ExitHeads heads = new ExitHeads(file, config, pooling, options)) {
      for (HeadWeights head : file.heads()) {
        float[][] embeddings = embed(heads, head.layer(), traces);
        double[] cosines = new double[traces.size()];
        for (int i = 0; i < cosines.length; i++) {
          cosines[i] = Vectors.dot(embeddings[i], traces.teacher(i));
        }
        List<Integer> fitRows = new ArrayList<>();
        List<Integer> heldRows = new ArrayList<>();
        for (int i = 0; i < cosines.length; i++) {
          (i % 10 == 9 ? heldRows : fitRows).add(i);
        }
        float[][] x = fitRows.stream().map(i -> embeddings[i]).toArray(float[][]::new);
        double[] y = fitRows.stream().mapToDouble(i -> cosines[i]).toArray();
        double[] beta = LinearSystems.ridge(x, y, RIDGE);
        float[] weights = new float[beta.length - 1];
        for (int j = 0; j < weights.length; j++) {
          weights[j] = (float) beta[j];
        }
        AgreementEstimate estimate = new AgreementEstimate(weights, (float) beta[weights.length]);
        double[] predicted = new double[heldRows.size()];
        double[] actual = new double[heldRows.size()];
        double error = 0;
        for (int k = 0; k < predicted.length; k++) {
          int i = heldRows.get(k);
          double p = estimate.of(embeddings[i]);
          predicted[k] = p;
          actual[k] = cosines[i];
          error += Math.abs(p - cosines[i]);
        }
        fits.add(
            new Fit(
                head.withEstimator(estimate),
                fitRows.size(),
                heldRows.size(),
                correlation(predicted, actual),
                predicted.length == 0 ? Double.NaN : error / predicted.length));
      }
    }
    return fits;
  }

  /** The head's embedding of every text at {@code layer}, by text index. */
  static float[][] embed(ExitHeads heads, int layer, TeacherTraces traces) {
    int exit = traces.exitIndex(layer);
    List<Integer> all = IntStream.range(0, traces.size()).boxed().toList();
    float[][] out = new float[traces.size()][];
    for (int[] rows : traces.lengthChunks(all, CHUNK)) {
      try (TFloat32 hidden = traces.paddedHidden(exit, rows);
          TFloat32 mask = traces.mask(rows)) {
        HeadOutput result = heads.apply(layer, hidden, mask);
        for (int r = 0; r < rows.length; r++) {
          out[rows[r]] = result.embeddings()[r];
        }
      }
    }
    return out;
  }

  /** Pearson correlation; NaN for fewer than two points or a constant series. */
  static double correlation(double[] a, double[] b) {
    int n = a.length;
    if (n < 2) {
      return Double.NaN;
    }
    double ma = Arrays.stream(a).average().orElse(0);
    double mb = Arrays.stream(b).average().orElse(0);
    double sab = 0;
    double saa = 0;
    double sbb = 0;
    for (int i = 0; i < n; i++) {
      sab += (a[i] - ma) * (b[i] - mb);
      saa += (a[i] - ma) * (a[i] - ma);
      sbb += (b[i] - mb) * (b[i] - mb);
    }
    return saa == 0 || sbb == 0 ? Double.NaN : sab / Math.sqrt(saa * sbb);
  }
}
