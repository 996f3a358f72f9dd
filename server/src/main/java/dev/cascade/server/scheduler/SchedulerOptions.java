package dev.cascade.server.scheduler;

/**
 * Sizes and policy of the {@link LayerScheduler}.
 *
 * @param workers engine threads taking steps at once
 * @param batchTokens most tokens in one step, counted as inputs × longest input; at least the
 *     model's longest input, so that every input fits a step
 * @param queueRequests most requests admitted and not finished; one more is refused
 * @param queueTokens most tokens of the requests admitted and not finished; a request that would
 *     pass it is refused
 * @param policy which layer runs next
 */
public record SchedulerOptions(
    int workers, int batchTokens, int queueRequests, long queueTokens, StepPolicy policy) {

  public SchedulerOptions {
    require(workers > 0, "engine workers must be positive");
    require(batchTokens > 0, "batch tokens must be positive");
    require(queueRequests > 0, "queue size must be positive");
    require(queueTokens > 0, "queue tokens must be positive");
    if (policy == null) {
      throw new IllegalArgumentException("a step policy is required");
    }
  }

  /**
   * Defaults for a machine with {@code cores} cores: one worker per 8 cores (at least one, each
   * running TensorFlow on its share of the cores), 2048 batch tokens per 2 cores up to 16384, 256
   * requests and 131072 tokens in flight, oldest waiting input first.
   */
  public static SchedulerOptions forCores(int cores) {
    int workers = Math.max(1, cores / 8);
    int batchTokens = Math.min(16_384, Math.max(2048, 1024 * cores));
    return new SchedulerOptions(workers, batchTokens, 256, 131_072, StepPolicy.OLDEST);
  }

  public SchedulerOptions withWorkers(int n) {
    return new SchedulerOptions(n, batchTokens, queueRequests, queueTokens, policy);
  }

  public SchedulerOptions withBatchTokens(int n) {
    return new SchedulerOptions(workers, n, queueRequests, queueTokens, policy);
  }

  public SchedulerOptions withQueue(int requests, long tokens) {
    return new SchedulerOptions(workers, batchTokens, requests, tokens, policy);
  }

  public SchedulerOptions withPolicy(StepPolicy p) {
    return new SchedulerOptions(workers, batchTokens, queueRequests, queueTokens, p);
  }

  private static void require(boolean condition, String message) {
    if (!condition) {
      throw new IllegalArgumentException(message);
    }
  }
}
