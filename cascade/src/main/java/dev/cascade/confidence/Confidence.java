package dev.cascade.confidence;

/**
 * Scores how likely an input's embedding at an exit agrees with its final embedding.
 *
 * <p>Implementations are immutable and thread-safe. Scores lie in [0, 1]; higher means more likely
 * to agree. What "agree" means is fixed when the scorer is fitted (see {@link LogisticConfidence});
 * thresholds on the score are certified by the tuner.
 */
public interface Confidence {
  /** The score of one observation, in [0, 1]. */
  double score(ExitObservation observation);

  /** A short name of the kind of scorer, as written in profiles. */
  String kind();

  /**
   * Whether the scorer reads {@link ExitObservation#estimate()}, which only heads fitted with an
   * agreement estimate provide.
   */
  default boolean needsEstimate() {
    return false;
  }
}
