package dev.cascade.exit;

/**
 * What a head gives for each row of a batch.
 *
 * @param embeddings L2-normalised embeddings, one per row
 * @param norms each embedding's norm before normalisation
 * @param estimates each embedding's estimated cosine to the final embedding; NaN for every row when
 *     the head has no agreement estimate
 */
public record HeadOutput(float[][] embeddings, float[] norms, double[] estimates) {}
