package dev.cascade.confidence;

import java.util.Arrays;

/**
 * A learned scorer: per exit, a logistic regression on the saturation, the log token count and the
 * head output's norm before normalisation, fitted on calibration traces to predict that the exit's
 * embedding agrees with the final one (as the tuner's risk defines agreement). The score is the
 * predicted probability of agreement.
 *
 * <p>Immutable and thread-safe.
 */
public final class LogisticConfidence implements Confidence {
  /** Features, in the order of each exit's weights. */
  public static final String[] FEATURES = {"saturation", "log_tokens", "norm"};

  private final double[][] weights;
  private final double[] bias;

  /**
   * @param weights per exit, one weight per {@link #FEATURES} entry
   * @param bias per exit
   */
  public LogisticConfidence(double[][] weights, double[] bias) {
    if (weights.length != bias.length) {
      throw new IllegalArgumentException("one bias per exit expected");
    }
    for (double[] w : weights) {
      if (w.length != FEATURES.length) {
        throw new IllegalArgumentException(
            "each exit needs " + FEATURES.length + " weights " + Arrays.toString(FEATURES));
      }
    }
    this.weights = Arrays.stream(weights).map(double[]::clone).toArray(double[][]::new);
    this.bias = bias.clone();
  }

  /** The features of an observation, in {@link #FEATURES} order. */
  public static double[] features(ExitObservation o) {
    return new double[] {o.saturation(), Math.log(o.tokens()), o.norm()};
  }

  @Override
  public double score(ExitObservation observation) {
    int e = observation.exitIndex();
    if (e >= weights.length) {
      throw new IllegalArgumentException(
          "scorer fitted for " + weights.length + " exits, asked about exit " + e);
    }
    double[] x = features(observation);
    double z = bias[e];
    for (int i = 0; i < x.length; i++) {
      z += weights[e][i] * x[i];
    }
    return 1 / (1 + Math.exp(-z));
  }

  @Override
  public String kind() {
    return "logistic";
  }

  public double[][] weights() {
    return Arrays.stream(weights).map(double[]::clone).toArray(double[][]::new);
  }

  public double[] bias() {
    return bias.clone();
  }

  /**
   * Fits one exit's regression by Newton's method with a small ridge penalty.
   *
   * @param x feature rows
   * @param y 1 where the exit agreed with the final layer
   * @return the weights followed by the bias
   */
  public static double[] fit(double[][] x, boolean[] y) {
    int d = FEATURES.length + 1;
    double[] beta = new double[d];
    double ridge = 1e-3;
    for (int iteration = 0; iteration < 50; iteration++) {
      double[] gradient = new double[d];
      double[][] hessian = new double[d][d];
      for (int i = 0; i < x.length; i++) {
        double[] xi = Arrays.copyOf(x[i], d);
        xi[d - 1] = 1;
        double z = 0;
        for (int j = 0; j < d; j++) {
          z += beta[j] * xi[j];
        }
        double p = 1 / (1 + Math.exp(-z));
        double r = (y[i] ? 1 : 0) - p;
        double w = Math.max(p * (1 - p), 1e-9);
        for (int j = 0; j < d; j++) {
          gradient[j] += r * xi[j];
          for (int k = 0; k < d; k++) {
            hessian[j][k] += w * xi[j] * xi[k];
          }
        }
      }
      for (int j = 0; j < d; j++) {
        gradient[j] -= ridge * beta[j];
        hessian[j][j] += ridge;
      }
      double[] step = solve(hessian, gradient);
      double size = 0;
      for (int j = 0; j < d; j++) {
        beta[j] += step[j];
        size += Math.abs(step[j]);
      }
      if (size < 1e-8) {
        break;
      }
    }
    return beta;
  }

  private static double[] solve(double[][] a, double[] b) {
    int n = b.length;
    double[][] m = new double[n][];
    for (int i = 0; i < n; i++) {
      m[i] = Arrays.copyOf(a[i], n + 1);
      m[i][n] = b[i];
    }
    for (int col = 0; col < n; col++) {
      int pivot = col;
      for (int r = col + 1; r < n; r++) {
        if (Math.abs(m[r][col]) > Math.abs(m[pivot][col])) {
          pivot = r;
        }
      }
      double[] tmp = m[col];
      m[col] = m[pivot];
      m[pivot] = tmp;
      for (int r = 0; r < n; r++) {
        if (r != col && m[col][col] != 0) {
          double f = m[r][col] / m[col][col];
          for (int c = col; c <= n; c++) {
            m[r][c] -= f * m[col][c];
          }
        }
      }
    }
    double[] x = new double[n];
    for (int i = 0; i < n; i++) {
      x[i] = m[i][i] == 0 ? 0 : m[i][n] / m[i][i];
    }
    return x;
  }
}
