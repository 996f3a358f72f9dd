package dev.cascade.bench;

import java.util.Arrays;

/**
 * What one contender measured on one workload.
 *
 * @param textsPerSecond throughput of each timed sample (one per round)
 * @param cpuMsPerText process CPU time per text of each timed sample, in milliseconds; unlike wall
 *     time it barely moves when other processes share the cores
 * @param latenciesMs wall time of every timed batch, in milliseconds
 */
record Samples(double[] textsPerSecond, double[] cpuMsPerText, double[] latenciesMs) {

  /** Median throughput over the rounds. */
  double medianTextsPerSecond() {
    return percentile(textsPerSecond, 50);
  }

  /** Median CPU time per text over the rounds. */
  double medianCpuMsPerText() {
    return percentile(cpuMsPerText, 50);
  }

  /** Median batch latency. */
  double p50LatencyMs() {
    return percentile(latenciesMs, 50);
  }

  /** The {@code p}-th percentile (0..100) by linear interpolation; NaN when empty. */
  static double percentile(double[] values, double p) {
    if (values.length == 0) {
      return Double.NaN;
    }
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    double rank = p / 100 * (sorted.length - 1);
    int lo = (int) Math.floor(rank);
    int hi = (int) Math.ceil(rank);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
  }
}
