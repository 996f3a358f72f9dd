package dev.cascade.tune;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cascade.confidence.LogisticConfidence;
import dev.cascade.policy.Profile;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Certifies a profile's thresholds: fits the confidence scorer on one part of the calibration
 * traces, then runs Learn-then-Test on the other part over one shared threshold λ on the scorer's
 * probability (from 1, never stopping early, down to 0), keeping the most aggressive λ whose risk
 * is certified at most δ with confidence 1 - ε.
 */
public final class Tuner {
  /** Fraction of calibration inputs used to fit the scorer; the rest certify the thresholds. */
  public static final double FIT_FRACTION = 0.4;

  private Tuner() {}

  /**
   * The tuned profile and everything measured on the way.
   *
   * @param profile the certified profile, or the {@code exact}-like profile when nothing was
   *     certified
   * @param outcome every candidate tested on the certification part
   * @param stopHistogram for the chosen λ, inputs of the certification part stopping at each exit
   *     (last entry: the last layer)
   */
  public record Result(Profile profile, LearnThenTest.Outcome outcome, int[] stopHistogram) {}

  /**
   * Tunes a profile.
   *
   * @param headsChecksum the heads the traces were recorded with, recorded in the profile
   * @param calibrationChecksum identifies the calibration set, recorded in the profile
   */
  public static Result tune(
      CalibrationTraces traces,
      RiskDefinition risk,
      double delta,
      double epsilon,
      long seed,
      String name,
      String model,
      String backboneChecksum,
      String headsChecksum,
      String calibrationChecksum) {
    int n = traces.size();
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      order.add(i);
    }
    Collections.shuffle(order, new Random(seed));
    int fitSize = (int) Math.round(n * FIT_FRACTION);
    int[] fitRows = order.subList(0, fitSize).stream().mapToInt(Integer::intValue).toArray();
    int[] certifyRows = order.subList(fitSize, n).stream().mapToInt(Integer::intValue).toArray();
    if (certifyRows.length < 20) {
      throw new IllegalArgumentException(
          "too few calibration inputs (" + n + "): certification needs dozens at least");
    }
    CalibrationTraces fit = traces.subset(fitRows);
    CalibrationTraces certify = traces.subset(certifyRows);
    LogisticConfidence confidence = fitScorer(fit, risk.violations(fit));

    boolean[][] violations = risk.violations(certify);
    CascadeSimulation simulation = new CascadeSimulation(certify, confidence);
    int exits = traces.exits().length;
    double[] lambdas = new double[201];
    for (int k = 0; k < lambdas.length; k++) {
      lambdas[k] = 1 - k / 200.0;
    }
    LearnThenTest.Outcome outcome =
        LearnThenTest.run(
            certify.size(),
            lambdas,
            lambda -> evaluate(simulation, violations, uniform(exits, lambda)),
            delta,
            epsilon);
    double[] thresholds =
        outcome.chosen() < 0 ? nan(exits) : uniform(exits, outcome.choice().lambda());
    int[] histogram = new int[exits + 1];
    for (int i = 0; i < certify.size(); i++) {
      int stop = simulation.stopExit(i, thresholds);
      histogram[stop < 0 ? exits : stop]++;
    }
    ObjectNode tunedFor = new ObjectMapper().createObjectNode();
    tunedFor.put("method", "learn-then-test, fixed sequence, binomial tail p-values");
    tunedFor.put("risk", risk.id());
    tunedFor.put("delta", delta);
    tunedFor.put("epsilon", epsilon);
    tunedFor.put("heads_sha256", headsChecksum);
    tunedFor.put("calibration_sha256", calibrationChecksum);
    tunedFor.put("calibration_inputs", n);
    tunedFor.put("scorer_fit_inputs", fit.size());
    tunedFor.put("certification_inputs", certify.size());
    tunedFor.put("seed", seed);
    tunedFor.put("date", Instant.now().toString());
    if (outcome.chosen() >= 0) {
      tunedFor.put("lambda", outcome.choice().lambda());
      tunedFor.put("calibration_risk", outcome.choice().risk());
      tunedFor.put("p_value", outcome.choice().pValue());
    } else {
      tunedFor.put("certified", false);
    }
    double meanLayers =
        outcome.chosen() >= 0
            ? outcome.choice().meanLayers()
            : evaluate(simulation, violations, thresholds).meanLayers();
    Profile profile =
        new Profile(
            name,
            String.format(
                "P(risk %s <= %.3f) >= %.3f; %.2f of %d layers on average on calibration",
                risk.id(), delta, 1 - epsilon, meanLayers, traces.layers()),
            model,
            backboneChecksum,
            traces.exits(),
            confidence,
            thresholds,
            tunedFor,
            meanLayers);
    return new Result(profile, outcome, histogram);
  }

  static LearnThenTest.Evaluation evaluate(
      CascadeSimulation simulation, boolean[][] violations, double[] thresholds) {
    int bad = 0;
    double layers = 0;
    int n = simulation.traces().size();
    for (int i = 0; i < n; i++) {
      int stop = simulation.stopExit(i, thresholds);
      if (stop >= 0 && violations[i][stop]) {
        bad++;
      }
      layers += simulation.cost(i, stop);
    }
    return new LearnThenTest.Evaluation(bad, layers / n);
  }

  /**
   * Fits one logistic regression per exit to predict that stopping there is not a risk event, on
   * the base features and, when every head gave one, the heads' agreement estimate.
   */
  static LogisticConfidence fitScorer(CalibrationTraces traces, boolean[][] violations) {
    List<String> features = new ArrayList<>(LogisticConfidence.BASE_FEATURES);
    if (traces.hasEstimates()) {
      features.add("estimate");
    }
    int exits = traces.exits().length;
    double[][] weights = new double[exits][];
    double[] bias = new double[exits];
    for (int e = 0; e < exits; e++) {
      double[][] x = new double[traces.size()][];
      boolean[] y = new boolean[traces.size()];
      for (int i = 0; i < traces.size(); i++) {
        x[i] = LogisticConfidence.features(features, traces.observation(i, e));
        y[i] = !violations[i][e];
      }
      double[] beta = LogisticConfidence.fit(x, y);
      weights[e] = Arrays.copyOf(beta, features.size());
      bias[e] = beta[features.size()];
    }
    return new LogisticConfidence(features, weights, bias);
  }

  private static double[] uniform(int exits, double lambda) {
    double[] t = new double[exits];
    Arrays.fill(t, lambda);
    return t;
  }

  private static double[] nan(int exits) {
    double[] t = new double[exits];
    Arrays.fill(t, Double.NaN);
    return t;
  }
}
