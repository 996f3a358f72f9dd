package dev.cascade.server;

import dev.cascade.server.scheduler.SchedulerOptions;

/**
 * Limits and sizes of a server.
 *
 * @param maxInputsPerRequest the most inputs one request may carry
 * @param maxCharsPerInput the most characters (UTF-16 units) one input may have
 * @param streamBuffer events a streaming call may hold for a client that is not reading before its
 *     inputs wait
 * @param scheduler the layer-wise scheduler's workers, batch size, admission bounds and policy
 */
public record ServerOptions(
    int maxInputsPerRequest, int maxCharsPerInput, int streamBuffer, SchedulerOptions scheduler) {

  public ServerOptions {
    require(maxInputsPerRequest > 0, "max inputs per request must be positive");
    require(maxCharsPerInput > 0, "max characters per input must be positive");
    require(streamBuffer > 0, "stream buffer must be positive");
    if (scheduler == null) {
      throw new IllegalArgumentException("scheduler options are required");
    }
  }

  /** 64 inputs of up to 20,000 characters, 64 buffered events, scheduling for this machine. */
  public static ServerOptions defaults() {
    return new ServerOptions(
        64, 20_000, 64, SchedulerOptions.forCores(Runtime.getRuntime().availableProcessors()));
  }

  public ServerOptions withScheduler(SchedulerOptions s) {
    return new ServerOptions(maxInputsPerRequest, maxCharsPerInput, streamBuffer, s);
  }

  public ServerOptions withStreamBuffer(int n) {
    return new ServerOptions(maxInputsPerRequest, maxCharsPerInput, n, scheduler);
  }

  public ServerOptions withLimits(int maxInputs, int maxChars) {
    return new ServerOptions(maxInputs, maxChars, streamBuffer, scheduler);
  }

  private static void require(boolean condition, String message) {
    if (!condition) {
      throw new IllegalArgumentException(message);
    }
  }
}
