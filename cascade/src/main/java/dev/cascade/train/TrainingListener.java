package dev.cascade.train;

/** Told of training progress; called on the training thread. */
public interface TrainingListener {
  /** After each step of {@code stepsPerEpoch} in an epoch (1-based). */
  default void onStep(int layer, int epoch, int step, int stepsPerEpoch, double loss) {}

  /** After each epoch, with its mean training loss and the head's mean validation cosine. */
  default void onEpoch(
      int layer, int epoch, double trainLoss, double validationCosine, boolean best) {}

  /** A listener that ignores everything. */
  TrainingListener NONE = new TrainingListener() {};
}
