package dev.cascade.confidence;

import dev.cascade.vector.LinearSystems;
import java.util.Arrays;
import java.util.List;

/**
 * A learned scorer: per exit, a logistic regression on features of the observation (the saturation,
 * the log token count, the head output's norm before normalisation and, when the heads carry one,
 * the head's own estimate of its cosine to the final embedding), fitted on calibration traces to
 * predict that the exit's embedding agrees with the final one (as the tuner's risk defines
 * agreement). The score is the predicted probability of agreement.
 *
 * <p>Immutable and thread-safe.
 */
public final class LogisticConfidence implements Confidence {
  /** Every feature a scorer may use, by the name profiles give it. */
  public static final List<String> KNOWN_FEATURES =
      List.of("saturation", "log_tokens", "norm", "estimate");

  /** The features of profiles that name none, and of heads without agreement estimates. */
  public static final List<String> BASE_FEATURES = KNOWN_FEATURES.subList(0, 3);

  private final List<String> features;
  private final double[][] weights;
  private final double[] bias;

  /**
   * @param features the features, in the order of each exit's weights; each one of {@link
   *     #KNOWN_FEATURES}
   * @param weights per exit, one weight per feature
   * @param bias per exit
   */
  public LogisticConfidence(List<String> features, double[][] weights, double[] bias) {
    for (String f : features) {
      if (!KNOWN_FEATURES.contains(f)) {
        throw new IllegalArgumentException(
            "unknown confidence feature '" + f + "'; known: " + KNOWN_FEATURES);
      }
    }
    if (weights.length != bias.length) {
      throw new IllegalArgumentException("one bias per exit expected");
    }
    for (double[] w : weights) {
      if (w.length != features.size()) {
        throw new IllegalArgumentException(
            "each exit needs " + features.size() + " weights " + features);
      }
    }
    this.features = List.copyOf(features);
    this.weights = Arrays.stream(weights).map(double[]::clone).toArray(double[][]::new);
    this.bias = bias.clone();
  }

  /** A scorer on {@link #BASE_FEATURES}. */
  public LogisticConfidence(double[][] weights, double[] bias) {
    this(BASE_FEATURES, weights, bias);
  }

  /** The features, in the order of each exit's weights. */
  public List<String> features() {
    return features;
  }

  @Override
  public boolean needsEstimate() {
    return features.contains("estimate");
  }

  /** The values of {@code features} for an observation, in that order. */
  public static double[] features(List<String> features, ExitObservation o) {
    double[] x = new double[features.size()];
    for (int i = 0; i < x.length; i++) {
      x[i] =
          switch (features.get(i)) {
            case "saturation" -> o.saturation();
            case "log_tokens" -> Math.log(o.tokens());
            case "norm" -> o.norm();
            case "estimate" -> {
              if (Double.isNaN(o.estimate())) {
                throw new IllegalStateException(
                    "the scorer uses the heads' agreement estimate but the head at layer "
                        + o.layer()
                        + " has none");
              }
              yield o.estimate();
            }
            default -> throw new IllegalStateException(features.get(i));
          };
    }
    return x;
  }

  @Override
  public double score(ExitObservation observation) {
    int e = observation.exitIndex();
    if (e >= weights.length) {
      throw new IllegalArgumentException(
          "scorer fitted for " + weights.length + " exits, asked about exit " + e);
    }
    double[] x = features(features, observation);
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
   * @param x feature rows, all of one length
   * @param y 1 where the exit agreed with the final layer
   * @return the weights followed by the bias
   */
  public static double[] fit(double[][] x, boolean[] y) {
    int d = x[0].length + 1;
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
      double[] step = LinearSystems.solve(hessian, gradient);
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
}
