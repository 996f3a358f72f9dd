package dev.cascade.exit;

/**
 * What a head gives for each row of a batch.
 *
 * @param embeddings L2-normalised embeddings, one per row
 * @param norms each embedding's norm before normalisation
 */
public record HeadOutput(float[][] embeddings, float[] norms) {}
