package dev.cascade.server;

/**
 * Limits and sizes of a server.
 *
 * @param maxInputsPerRequest the most inputs one request may carry
 * @param maxCharsPerInput the most characters (UTF-16 units) one input may have
 * @param queueSize requests that may wait for an engine worker; one more is refused with
 *     RESOURCE_EXHAUSTED
 * @param workers engine workers: requests computed at once
 * @param streamBuffer events a streaming call may hold for a client that is not reading before the
 *     engine pauses at the next event
 */
public record ServerOptions(
    int maxInputsPerRequest, int maxCharsPerInput, int queueSize, int workers, int streamBuffer) {

  public ServerOptions {
    require(maxInputsPerRequest > 0, "max inputs per request must be positive");
    require(maxCharsPerInput > 0, "max characters per input must be positive");
    require(queueSize > 0, "queue size must be positive");
    require(workers > 0, "engine workers must be positive");
    require(streamBuffer > 0, "stream buffer must be positive");
  }

  /** 64 inputs of up to 20,000 characters, a queue of 64, one worker, 64 buffered events. */
  public static ServerOptions defaults() {
    return new ServerOptions(64, 20_000, 64, 1, 64);
  }

  public ServerOptions withWorkers(int n) {
    return new ServerOptions(maxInputsPerRequest, maxCharsPerInput, queueSize, n, streamBuffer);
  }

  public ServerOptions withQueueSize(int n) {
    return new ServerOptions(maxInputsPerRequest, maxCharsPerInput, n, workers, streamBuffer);
  }

  public ServerOptions withStreamBuffer(int n) {
    return new ServerOptions(maxInputsPerRequest, maxCharsPerInput, queueSize, workers, n);
  }

  public ServerOptions withLimits(int maxInputs, int maxChars) {
    return new ServerOptions(maxInputs, maxChars, queueSize, workers, streamBuffer);
  }

  private static void require(boolean condition, String message) {
    if (!condition) {
      throw new IllegalArgumentException(message);
    }
  }
}
