package dev.cascade.tune;

import dev.cascade.confidence.Confidence;

/**
 * Replays the cascade policy on recorded traces: where each input would stop under given
 * thresholds, and what that costs. Matches {@code CascadeEngine}: an input stops at the first exit
 * whose confidence reaches its threshold, else runs to the last layer; every exit reached costs its
 * head.
 */
public final class CascadeSimulation {
  private final CalibrationTraces traces;
  private final double[][] scores;

  /** Scores every input at every exit with {@code confidence}. */
  public CascadeSimulation(CalibrationTraces traces, Confidence confidence) {
    this.traces = traces;
    this.scores = new double[traces.size()][traces.exits().length];
    for (int i = 0; i < traces.size(); i++) {
      for (int e = 0; e < traces.exits().length; e++) {
        scores[i][e] = confidence.score(traces.observation(i, e));
      }
    }
  }

  /** The confidence of input {@code i} at exit {@code e}. */
  public double score(int i, int e) {
    return scores[i][e];
  }

  /** Exit index where input {@code i} stops under {@code thresholds}, or -1 for the last layer. */
  public int stopExit(int i, double[] thresholds) {
    for (int e = 0; e < thresholds.length; e++) {
      if (!Double.isNaN(thresholds[e]) && scores[i][e] >= thresholds[e]) {
        return e;
      }
    }
    return -1;
  }

  /** Cost in layers of input {@code i} stopping at exit index {@code stop} (-1 = last layer). */
  public double cost(int i, int stop) {
    int reached = stop < 0 ? traces.exits().length : stop + 1;
    double cost = stop < 0 ? traces.layers() : traces.exits()[stop];
    for (int e = 0; e < reached; e++) {
      cost += traces.headCost()[i][e];
    }
    return cost;
  }

  public CalibrationTraces traces() {
    return traces;
  }
}
