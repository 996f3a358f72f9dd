package dev.cascade.confidence;

import dev.cascade.vector.Vectors;

/**
 * What is known about one input at an exit when deciding whether it may stop there.
 *
 * @param exitIndex position of the exit among the profile's exits (0 = first)
 * @param layer the exit layer
 * @param layers the model's number of layers
 * @param tokens the input's token count
 * @param embedding the head's L2-normalised embedding at this exit
 * @param previous the embedding at the previous exit, or null at the first exit
 * @param norm the head output's norm before normalisation
 * @param estimate the head's estimate of this embedding's cosine to the final embedding, or NaN
 *     when the head has no agreement estimate
 */
public record ExitObservation(
    int exitIndex,
    int layer,
    int layers,
    int tokens,
    float[] embedding,
    float[] previous,
    float norm,
    double estimate) {

  /** Cosine between this exit's and the previous exit's embedding; 0 at the first exit. */
  public double saturation() {
    return previous == null ? 0 : Vectors.dot(embedding, previous);
  }
}
