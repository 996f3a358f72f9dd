package dev.cascade.train;

import dev.cascade.exit.HeadWeights;

/**
 * A trained head and how its training went.
 *
 * @param weights the weights of the best epoch
 * @param bestEpoch that epoch (1-based)
 * @param validationCosine mean cosine to the final embedding on the validation texts, best epoch
 * @param initialValidationCosine the same before training
 * @param seconds training time, excluding the backbone's forward pass
 */
public record TrainedHead(
    HeadWeights weights,
    int bestEpoch,
    double validationCosine,
    double initialValidationCosine,
    double seconds) {}
