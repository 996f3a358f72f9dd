package dev.cascade.runtime;

import dev.cascade.policy.StopReason;

/**
 * One exit reached by one input.
 *
 * @param input the input's position in its request
 * @param layer the layer the embedding was taken at
 * @param embedding L2-normalised embedding in the final layer's space
 * @param confidence the profile's confidence at this exit, in [0, 1]; 1 at the last layer
 * @param isFinal whether the input stops here
 * @param reason why it stops, when {@code isFinal}; null otherwise
 * @param tokens the input's token count
 * @param truncated whether the input was truncated to fit the model
 */
public record ExitEvent(
    int input,
    int layer,
    float[] embedding,
    double confidence,
    boolean isFinal,
    StopReason reason,
    int tokens,
    boolean truncated) {}
