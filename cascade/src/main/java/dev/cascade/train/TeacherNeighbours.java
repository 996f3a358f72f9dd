package dev.cascade.train;

import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * For each training text, the documents nearest to it by the teacher's final embeddings, nearest
 * first: the candidates whose order a head learns to keep, as a search over those documents would
 * see it. Ties go to the lower document index, so the result is deterministic.
 */
public final class TeacherNeighbours {
  private final int[][] neighbours;

  private TeacherNeighbours(int[][] neighbours) {
    this.neighbours = neighbours;
  }

  /**
   * Finds the {@code k} documents nearest to every text of {@code traces}.
   *
   * @param documents rows of {@code traces} that are documents of the searched corpus
   */
  public static TeacherNeighbours find(TeacherTraces traces, int[] documents, int k) {
    if (k < 2 || k > documents.length) {
      throw new IllegalArgumentException(
          "neighbours must be between 2 and the " + documents.length + " documents, was " + k);
    }
    int h = traces.hiddenSize();
    float[] packed = new float[documents.length * h];
    for (int d = 0; d < documents.length; d++) {
      System.arraycopy(traces.teacher(documents[d]), 0, packed, d * h, h);
    }
    int[][] result = new int[traces.size()][];
    IntStream.range(0, traces.size())
        .parallel()
        .forEach(i -> result[i] = nearest(traces.teacher(i), packed, documents, h, k));
    return new TeacherNeighbours(result);
  }

  private static int[] nearest(float[] query, float[] packed, int[] documents, int h, int k) {
    float[] bestScore = new float[k];
    int[] best = new int[k];
    Arrays.fill(bestScore, Float.NEGATIVE_INFINITY);
    for (int d = 0; d < documents.length; d++) {
      float score = 0;
      int offset = d * h;
      for (int j = 0; j < h; j++) {
        score += query[j] * packed[offset + j];
      }
      if (score > bestScore[k - 1]) {
        int at = k - 1;
        while (at > 0 && score > bestScore[at - 1]) {
          bestScore[at] = bestScore[at - 1];
          best[at] = best[at - 1];
          at--;
        }
        bestScore[at] = score;
        best[at] = documents[d];
      }
    }
    return best;
  }

  /** Number of neighbours per text. */
  public int k() {
    return neighbours.length == 0 ? 0 : neighbours[0].length;
  }

  /** Rows of the documents nearest to text {@code text}, nearest first. */
  public int[] of(int text) {
    return neighbours[text];
  }

  /** Number of texts. */
  public int size() {
    return neighbours.length;
  }
}
