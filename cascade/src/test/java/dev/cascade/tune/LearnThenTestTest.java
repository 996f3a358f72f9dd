package dev.cascade.tune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class LearnThenTestTest {
  private static final double[] LAMBDAS = lambdas();

  private static double[] lambdas() {
    double[] l = new double[101];
    for (int k = 0; k < l.length; k++) {
      l[k] = 1 - k / 100.0;
    }
    return l;
  }

  /** True risk of threshold λ when scores are U(0,1) and stopping at score s errs with 0.5(1-s). */
  private static double trueRisk(double lambda) {
    return 0.25 * (1 - lambda) * (1 - lambda);
  }

  private static LearnThenTest.Outcome draw(Random random, int n, double delta, double epsilon) {
    double[] scores = new double[n];
    boolean[] wrong = new boolean[n];
    for (int i = 0; i < n; i++) {
      scores[i] = random.nextDouble();
      wrong[i] = random.nextDouble() < 0.5 * (1 - scores[i]);
    }
    return LearnThenTest.run(
        n,
        LAMBDAS,
        lambda -> {
          int bad = 0;
          double layers = 0;
          for (int i = 0; i < n; i++) {
            boolean stops = scores[i] >= lambda;
            if (stops && wrong[i]) {
              bad++;
            }
            layers += stops ? 4 : 12;
          }
          return new LearnThenTest.Evaluation(bad, layers / n);
        },
        delta,
        epsilon);
  }

  @Test
  void run_manyCalibrationDraws_guaranteeHoldsInAtLeastOneMinusEpsilon() {
    double delta = 0.05;
    double epsilon = 0.1;
    Random random = new Random(11);
    int draws = 400;
    int failures = 0;
    double chosenRisk = 0;
    for (int d = 0; d < draws; d++) {
      LearnThenTest.Outcome outcome = draw(random, 400, delta, epsilon);
      double risk = outcome.chosen() < 0 ? 0 : trueRisk(outcome.choice().lambda());
      chosenRisk += risk;
      if (risk > delta) {
        failures++;
      }
    }
    System.out.printf(
        "%d of %d draws chose a threshold with true risk above delta; mean true risk %.4f%n",
        failures, draws, chosenRisk / draws);
    assertTrue(failures <= epsilon * draws, failures + " failures in " + draws + " draws");
    assertTrue(chosenRisk / draws > delta / 3, "the tuner is not trivially conservative");
  }

  @Test
  void run_fixedSequence_choosesMostAggressiveCertifiedBeforeFirstFailure() {
    LearnThenTest.Outcome outcome = draw(new Random(3), 600, 0.05, 0.1);
    int chosen = outcome.chosen();
    assertTrue(chosen > 0, "something was certified");
    for (int k = 0; k <= chosen; k++) {
      assertTrue(outcome.candidates().get(k).certified(), "candidate " + k + " certified");
    }
    if (chosen + 1 < outcome.candidates().size()) {
      LearnThenTest.Candidate next = outcome.candidates().get(chosen + 1);
      assertFalse(next.certified());
      assertTrue(next.pValue() > 0.1, "testing stopped because the next p-value was too large");
    }
    for (int k = chosen + 2; k < outcome.candidates().size(); k++) {
      assertFalse(outcome.candidates().get(k).tested(), "no candidate is tested after a failure");
    }
  }

  @Test
  void binomialPValue_knownValues() {
    assertEquals(Math.pow(0.9, 10), LearnThenTest.binomialPValue(0, 10, 0.1), 1e-12);
    assertEquals(
        Math.pow(0.9, 10) + 10 * 0.1 * Math.pow(0.9, 9),
        LearnThenTest.binomialPValue(1, 10, 0.1),
        1e-12);
    assertEquals(1, LearnThenTest.binomialPValue(10, 10, 0.1), 0);
    assertTrue(LearnThenTest.binomialPValue(20, 1000, 0.05) < 1e-6);
  }
}
