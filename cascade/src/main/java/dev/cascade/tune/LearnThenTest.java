package dev.cascade.tune;

import java.util.ArrayList;
import java.util.List;
import java.util.function.DoubleFunction;

/**
 * Learn-then-Test with fixed-sequence testing: candidates are tested in order from the most
 * conservative to the most aggressive; each null hypothesis "the risk of this candidate exceeds δ"
 * is rejected when its binomial-tail p-value is at most ε; testing stops at the first candidate
 * that is not certified, and the last certified one is chosen. Because the sequence is fixed in
 * advance, the family-wise error is at most ε, so with probability at least {@code 1 - ε} over the
 * calibration draw, the chosen candidate's true risk is at most δ.
 */
public final class LearnThenTest {
  private LearnThenTest() {}

  /**
   * What one candidate does on the calibration set.
   *
   * @param violations inputs whose outcome counts as a risk event
   * @param meanLayers mean cost in layers
   */
  public record Evaluation(int violations, double meanLayers) {}

  /**
   * One tested candidate.
   *
   * @param lambda the candidate's parameter
   * @param risk empirical risk on the calibration set
   * @param pValue binomial-tail p-value of "risk > δ"
   * @param certified whether it was certified (tested and rejected the null)
   * @param tested whether testing reached it
   */
  public record Candidate(
      double lambda,
      int violations,
      int n,
      double risk,
      double pValue,
      boolean certified,
      boolean tested,
      double meanLayers) {}

  /**
   * The tested sequence and the choice.
   *
   * @param chosen index of the most aggressive certified candidate, or -1 when none was certified
   */
  public record Outcome(List<Candidate> candidates, int chosen, double delta, double epsilon) {
    /** The chosen candidate. */
    public Candidate choice() {
      if (chosen < 0) {
        throw new IllegalStateException("no candidate was certified");
      }
      return candidates.get(chosen);
    }
  }

  /**
   * Tests candidates in the given order.
   *
   * @param n calibration inputs
   * @param lambdas candidates from the most conservative to the most aggressive
   * @param evaluate what a candidate does on the calibration set
   */
  public static Outcome run(
      int n, double[] lambdas, DoubleFunction<Evaluation> evaluate, double delta, double epsilon) {
    if (!(delta > 0 && delta < 1) || !(epsilon > 0 && epsilon < 1)) {
      throw new IllegalArgumentException("delta and epsilon must be in (0, 1)");
    }
    if (n < 1) {
      throw new IllegalArgumentException("no calibration inputs");
    }
    List<Candidate> out = new ArrayList<>();
    int chosen = -1;
    boolean testing = true;
    for (double lambda : lambdas) {
      Evaluation e = evaluate.apply(lambda);
      double p = binomialPValue(e.violations(), n, delta);
      boolean certified = testing && p <= epsilon;
      if (certified) {
        chosen = out.size();
      }
      out.add(
          new Candidate(
              lambda,
              e.violations(),
              n,
              (double) e.violations() / n,
              p,
              certified,
              testing,
              e.meanLayers()));
      if (!certified) {
        testing = false;
      }
    }
    return new Outcome(List.copyOf(out), chosen, delta, epsilon);
  }

  /**
   * {@code P(Bin(n, δ) <= violations)}: how likely so few violations would be if the true risk were
   * δ; a valid p-value for the null "risk >= δ".
   */
  public static double binomialPValue(int violations, int n, double delta) {
    if (violations >= n) {
      return 1;
    }
    double[] logFactorial = new double[n + 1];
    for (int i = 2; i <= n; i++) {
      logFactorial[i] = logFactorial[i - 1] + Math.log(i);
    }
    double logDelta = Math.log(delta);
    double logRest = Math.log1p(-delta);
    double sum = 0;
    for (int k = 0; k <= violations; k++) {
      double logChoose = logFactorial[n] - logFactorial[k] - logFactorial[n - k];
      sum += Math.exp(logChoose + k * logDelta + (n - k) * logRest);
    }
    return Math.min(1, sum);
  }
}
