package dev.cascade.confidence;

/**
 * Saturation: the cosine between this exit's embedding and the previous exit's, clipped to [0, 1].
 * An embedding that stopped moving between exits is likely to have settled. At the first exit there
 * is nothing to compare with, so the score is 0 and the input never stops there.
 */
public final class SaturationConfidence implements Confidence {
  public static final SaturationConfidence INSTANCE = new SaturationConfidence();

  private SaturationConfidence() {}

  @Override
  public double score(ExitObservation observation) {
    return Math.max(0, Math.min(1, observation.saturation()));
  }

  @Override
  public String kind() {
    return "saturation";
  }
}
