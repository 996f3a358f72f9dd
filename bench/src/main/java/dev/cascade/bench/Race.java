package dev.cascade.bench;

import com.sun.management.OperatingSystemMXBean;
import dev.cascade.tokenize.TokenizedInput;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Interleaved timing of several contenders on the same batches: after a warm-up, each round times
 * one sample per contender, the order rotating from round to round so that no contender always runs
 * first or right after another. A sample is the same run of consecutive batches for every contender
 * in a round.
 */
final class Race {
  private static final OperatingSystemMXBean OS =
      (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

  private Race() {}

  /**
   * Times the contenders.
   *
   * @param batches the workload, used round-robin; all of one batch size
   * @param rounds timed samples per contender, at most
   * @param sampleSeconds about how long one sample runs; at least one batch
   * @param budgetSeconds about how long the timed rounds may take; at least 3 rounds run
   * @return samples by contender name, in contender order
   */
  static Map<String, Samples> run(
      List<Contender> contenders,
      List<List<TokenizedInput>> batches,
      int rounds,
      double sampleSeconds,
      double budgetSeconds) {
    if (contenders.isEmpty() || batches.isEmpty() || rounds < 1) {
      throw new IllegalArgumentException("need contenders, batches and at least one round");
    }
    double perBatch = 0;
    for (Contender c : contenders) {
      long start = System.nanoTime();
      c.encode().apply(batches.get(0));
      perBatch += (System.nanoTime() - start) / 1e9 / contenders.size();
    }
    int reps = (int) Math.max(1, Math.round(sampleSeconds / perBatch));
    double roundSeconds = reps * perBatch * contenders.size();
    int affordable = (int) Math.max(Math.min(3, rounds), Math.floor(budgetSeconds / roundSeconds));
    int timedRounds = Math.min(rounds, affordable);

    Map<String, List<double[]>> samples = new LinkedHashMap<>();
    Map<String, List<Double>> latencies = new LinkedHashMap<>();
    for (Contender c : contenders) {
      samples.put(c.name(), new ArrayList<>());
      latencies.put(c.name(), new ArrayList<>());
    }
    for (int r = 0; r < timedRounds; r++) {
      for (int k = 0; k < contenders.size(); k++) {
        Contender c = contenders.get((r + k) % contenders.size());
        int texts = 0;
        long cpuStart = OS.getProcessCpuTime();
        long sampleStart = System.nanoTime();
        for (int i = 0; i < reps; i++) {
          List<TokenizedInput> batch = batches.get((r * reps + i) % batches.size());
          long start = System.nanoTime();
          c.encode().apply(batch);
          latencies.get(c.name()).add((System.nanoTime() - start) / 1e6);
          texts += batch.size();
        }
        double seconds = (System.nanoTime() - sampleStart) / 1e9;
        double cpuMs = (OS.getProcessCpuTime() - cpuStart) / 1e6;
        samples.get(c.name()).add(new double[] {texts / seconds, cpuMs / texts});
      }
    }
    Map<String, Samples> out = new LinkedHashMap<>();
    for (Contender c : contenders) {
      List<double[]> s = samples.get(c.name());
      out.put(
          c.name(),
          new Samples(
              s.stream().mapToDouble(x -> x[0]).toArray(),
              s.stream().mapToDouble(x -> x[1]).toArray(),
              latencies.get(c.name()).stream().mapToDouble(Double::doubleValue).toArray()));
    }
    return out;
  }
}
