package dev.cascade.eval;

import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;

/**
 * Exact nearest neighbours by dot product over unit vectors held in memory; enough for evaluation
 * corpora of thousands of documents.
 */
public final class VectorIndex {
  private final List<String> ids;
  private final float[][] vectors;

  public VectorIndex(List<String> ids, float[][] vectors) {
    if (ids.size() != vectors.length) {
      throw new IllegalArgumentException(ids.size() + " ids for " + vectors.length + " vectors");
    }
    this.ids = List.copyOf(ids);
    this.vectors = vectors;
  }

  /** Ids of the {@code k} documents most similar to {@code query}, best first. */
  public List<String> search(float[] query, int k) {
    PriorityQueue<double[]> top = new PriorityQueue<>(k + 1, (a, b) -> Double.compare(a[0], b[0]));
    for (int d = 0; d < vectors.length; d++) {
      double score = dot(query, vectors[d]);
      if (top.size() < k) {
        top.add(new double[] {score, d});
      } else if (score > top.peek()[0]) {
        top.poll();
        top.add(new double[] {score, d});
      }
    }
    List<String> out = new ArrayList<>(top.size());
    while (!top.isEmpty()) {
      out.add(0, ids.get((int) top.poll()[1]));
    }
    return out;
  }

  static double dot(float[] a, float[] b) {
    double sum = 0;
    for (int i = 0; i < a.length; i++) {
      sum += a[i] * b[i];
    }
    return sum;
  }
}
