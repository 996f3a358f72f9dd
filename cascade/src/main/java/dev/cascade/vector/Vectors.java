package dev.cascade.vector;

/**
 * Dot products, norms and cosines of {@code float[]} vectors, each product and sum taken in double
 * precision. Stateless and thread-safe; the two vectors of a pair must have the same length.
 */
public final class Vectors {
  private Vectors() {}

  /** Dot product; for unit vectors, their cosine. */
  public static double dot(float[] a, float[] b) {
    requireSameLength(a, b);
    double sum = 0;
    for (int i = 0; i < a.length; i++) {
      sum += (double) a[i] * b[i];
    }
    return sum;
  }

  /** Cosine similarity of vectors that need not be unit vectors; NaN if either is all zeros. */
  public static double cosine(float[] a, float[] b) {
    requireSameLength(a, b);
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += (double) a[i] * b[i];
      na += (double) a[i] * a[i];
      nb += (double) b[i] * b[i];
    }
    return dot / Math.sqrt(na * nb);
  }

  /** Euclidean length. */
  public static double norm(float[] a) {
    double sum = 0;
    for (float v : a) {
      sum += (double) v * v;
    }
    return Math.sqrt(sum);
  }

  private static void requireSameLength(float[] a, float[] b) {
    if (a.length != b.length) {
      throw new IllegalArgumentException("lengths differ: " + a.length + " vs " + b.length);
    }
  }
}
