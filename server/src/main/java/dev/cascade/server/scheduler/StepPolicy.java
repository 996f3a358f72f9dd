package dev.cascade.server.scheduler;

/**
 * Which layer the scheduler runs next, when inputs wait at several. Within the chosen layer, inputs
 * are taken oldest first, grouped by length, up to the batch token cap.
 */
public enum StepPolicy {
  /**
   * The layer with the most waiting inputs, the shallower on a tie, so that each step is as large
   * as it can be: a group of new inputs as large as an earlier one runs up to the layer where that
   * one waits and joins it there, and a single newcomer does not hold up a larger group. An input
   * admitted more than twice as many steps ago as the model has layers is taken next, so none waits
   * without bound. With 16 closed-loop clients at full depth it formed steps of 14.5 inputs where
   * {@link #DEEPEST} formed 8, yet served no more requests per second across runs, and with mixed
   * exits it served less than {@link #OLDEST} in three of the four runs that timed both, with a
   * longer tail (BENCHMARKS.md, serving).
   */
  FULLEST,
  /**
   * The layer of the oldest admitted input that is waiting: requests finish roughly in arrival
   * order, and new inputs start as soon as older ones leave or stop. The default: with mixed exits
   * it served at least as many requests per second as {@link #DEEPEST} in each of the four runs
   * that timed both (1% to 11% more), with an equal or shorter tail (BENCHMARKS.md, serving).
   */
  OLDEST,
  /**
   * The deepest layer with waiting inputs: work in flight finishes before new work starts. At full
   * depth under closed-loop load its inputs split into cohorts that never merge (one arrives while
   * the other computes), which cost no measurable throughput.
   */
  DEEPEST,
  /**
   * Static batching with batch-level early exit, for comparison: a batch is taken from the queue
   * only when the previous one has finished, and all of it runs until its last input stops; an
   * input that stops gets its answer at once, but its rows are computed on with the batch, as when
   * a batch cannot shrink.
   */
  STATIC,
  /**
   * Static batching whose stopped inputs leave the batch, for comparison: as {@link #STATIC}, but
   * only the inputs still going are computed; new inputs still wait for the whole batch.
   */
  STATIC_SHRINKING;

  /** The policy named {@code name}, case-insensitively, with a message listing the choices. */
  public static StepPolicy parse(String name) {
    for (StepPolicy p : values()) {
      if (p.name().equalsIgnoreCase(name)) {
        return p;
      }
    }
    throw new IllegalArgumentException(
        "unknown step policy "
            + name
            + "; use fullest, oldest, deepest, static or static_shrinking");
  }
}
