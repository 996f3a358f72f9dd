package dev.cascade.train;

/**
 * Hyper-parameters of head training.
 *
 * @param epochs passes over the training texts; the epoch with the best validation cosine is kept
 * @param batchSize texts per step; also the number of in-batch negatives for the contrastive term
 * @param learningRate Adam's peak learning rate, decayed by a cosine schedule to a tenth
 * @param temperature softmax temperature of the contrastive (InfoNCE) term
 * @param contrastiveWeight weight of the contrastive term beside {@code 1 - cosine}
 * @param rankingWeight weight of the ranking term, which asks the head to score each text's nearest
 *     documents (by the teacher) as the teacher does; 0 leaves it out
 * @param seed seeds the validation split and the batch order; training is deterministic for it
 * @param validationFraction fraction of texts held out to pick the epoch
 * @param maxTokens texts are truncated to this many tokens for training
 */
public record TrainingOptions(
    int epochs,
    int batchSize,
    float learningRate,
    float temperature,
    float contrastiveWeight,
    float rankingWeight,
    long seed,
    double validationFraction,
    int maxTokens) {

  public TrainingOptions {
    if (epochs < 1) {
      throw new IllegalArgumentException("epochs must be at least 1, was " + epochs);
    }
    if (batchSize < 2) {
      throw new IllegalArgumentException("batch size must be at least 2, was " + batchSize);
    }
    if (!(learningRate > 0) || !(temperature > 0) || contrastiveWeight < 0 || rankingWeight < 0) {
      throw new IllegalArgumentException(
          "learning rate and temperature must be positive, contrastive and ranking weights not"
              + " negative");
    }
    if (!(validationFraction > 0 && validationFraction < 0.5)) {
      throw new IllegalArgumentException(
          "validation fraction must be in (0, 0.5), was " + validationFraction);
    }
    if (maxTokens < 3) {
      throw new IllegalArgumentException("max tokens must be at least 3, was " + maxTokens);
    }
  }

  /**
   * The defaults of {@code cascade train-heads} (the shipped heads use 128 tokens, no ranking
   * term).
   */
  public static TrainingOptions defaults() {
    return new TrainingOptions(40, 32, 2e-4f, 0.05f, 0.1f, 1f, 42, 0.1, 256);
  }

  public TrainingOptions withEpochs(int newEpochs) {
    return new TrainingOptions(
        newEpochs,
        batchSize,
        learningRate,
        temperature,
        contrastiveWeight,
        rankingWeight,
        seed,
        validationFraction,
        maxTokens);
  }

  public TrainingOptions withRankingWeight(float newRankingWeight) {
    return new TrainingOptions(
        epochs,
        batchSize,
        learningRate,
        temperature,
        contrastiveWeight,
        newRankingWeight,
        seed,
        validationFraction,
        maxTokens);
  }
}
