package dev.cascade.exit;

import dev.cascade.vector.Vectors;

/**
 * A head's agreement estimate: a linear map from the head's L2-normalised embedding to that
 * embedding's expected cosine with the model's final embedding. Immutable once built; callers do
 * not modify {@code weights}.
 *
 * @param weights one per embedding dimension
 * @param bias added to the weighted sum
 */
public record AgreementEstimate(float[] weights, float bias) {
  /** The estimated cosine to the final embedding of {@code embedding}. */
  public double of(float[] embedding) {
    return bias + Vectors.dot(weights, embedding);
  }
}
