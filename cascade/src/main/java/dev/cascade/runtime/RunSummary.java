package dev.cascade.runtime;

import dev.cascade.policy.StopReason;

/**
 * What one run of the cascade did.
 *
 * @param layersComputed encoder layers computed, summed over inputs (a row counts once per layer it
 *     went through)
 * @param layersSaved layers not computed because inputs stopped early or were cancelled
 * @param headsEvaluated exit-head evaluations, summed over inputs
 * @param stopped how the run ended: null when every input finished, else {@link
 *     StopReason#CANCELLED} or {@link StopReason#DEADLINE_EXCEEDED}
 */
public record RunSummary(
    long layersComputed, long layersSaved, long headsEvaluated, StopReason stopped) {}
