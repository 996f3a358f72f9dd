package dev.cascade.tune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cascade.confidence.LogisticConfidence;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TunerTest {
  /**
   * Traces of {@code n} inputs at exits 4 and 8 whose embeddings say nothing; where {@code
   * estimates} is set, exit {@code e} of input {@code i} carries estimate {@code estimates[i][e]}.
   */
  private static CalibrationTraces traces(int n, double[][] estimates) {
    Random random = new Random(3);
    float[][][] embeddings = new float[n][2][];
    float[][] norms = new float[n][2];
    float[][] finals = new float[n][];
    int[] tokens = new int[n];
    for (int i = 0; i < n; i++) {
      float angle = random.nextFloat();
      for (int e = 0; e < 2; e++) {
        embeddings[i][e] = new float[] {(float) Math.cos(angle), (float) Math.sin(angle)};
        norms[i][e] = 10;
      }
      finals[i] = new float[] {1, 0};
      tokens[i] = 8;
    }
    return new CalibrationTraces(
        new int[] {4, 8}, 12, tokens, embeddings, norms, estimates, finals, new double[n][2]);
  }

  @Test
  void fitScorer_tracesWithEstimates_usesThemAndRanksByThem() {
    int n = 400;
    Random random = new Random(11);
    double[][] estimates = new double[n][2];
    boolean[][] violations = new boolean[n][2];
    for (int i = 0; i < n; i++) {
      for (int e = 0; e < 2; e++) {
        estimates[i][e] = 0.85 + 0.1 * random.nextDouble();
        violations[i][e] = estimates[i][e] + 0.005 * random.nextGaussian() < 0.9;
      }
    }
    LogisticConfidence scorer = Tuner.fitScorer(traces(n, estimates), violations);
    assertEquals(List.of("saturation", "log_tokens", "norm", "estimate"), scorer.features());
    int correct = 0;
    for (int i = 0; i < n; i++) {
      boolean confident = scorer.score(traces(n, estimates).observation(i, 0)) >= 0.5;
      if (confident == !violations[i][0]) {
        correct++;
      }
    }
    assertTrue(correct > 0.9 * n, correct + " of " + n + " classified right at the first exit");
  }

  @Test
  void fitScorer_tracesWithoutEstimates_usesTheBaseFeatures() {
    int n = 50;
    double[][] none = new double[n][2];
    for (double[] row : none) {
      java.util.Arrays.fill(row, Double.NaN);
    }
    boolean[][] violations = new boolean[n][2];
    for (int i = 0; i < n; i += 3) {
      violations[i][0] = true;
    }
    assertEquals(
        LogisticConfidence.BASE_FEATURES, Tuner.fitScorer(traces(n, none), violations).features());
  }
}
