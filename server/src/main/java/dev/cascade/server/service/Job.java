package dev.cascade.server.service;

import dev.cascade.policy.StopReason;
import dev.cascade.runtime.CascadeEngine;
import dev.cascade.runtime.ExitListener;
import dev.cascade.runtime.RunSummary;
import dev.cascade.server.metrics.ServerMetrics;
import io.grpc.Context;
import io.grpc.Deadline;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One request's turn on the engine. A job whose call was cancelled, or whose deadline passed, while
 * it waited in the queue is dropped without compute; a running job stops at the next layer boundary
 * once its call is cancelled.
 */
final class Job implements Runnable {
  /** What happens when a job ends; called once, on the engine thread or a gRPC thread. */
  interface Completion {
    /** The engine ran; {@code summary.stopped()} says whether it stopped part-way. */
    void ran(RunSummary summary, long queueNanos, long computeNanos);

    /** The job was dropped before compute. */
    void dropped(StopReason reason);

    /** The engine failed. */
    void failed(RuntimeException e);
  }

  private final CascadeEngine engine;
  private final PreparedRequest request;
  private final Context context;
  private final ExitListener listener;
  private final ServerMetrics metrics;
  private final Completion completion;
  private final AtomicBoolean claimed = new AtomicBoolean();
  private final long queuedAt = System.nanoTime();
  private volatile boolean cancelled;

  Job(
      CascadeEngine engine,
      PreparedRequest request,
      Context context,
      ExitListener listener,
      ServerMetrics metrics,
      Completion completion) {
    this.engine = engine;
    this.request = request;
    this.context = context;
    this.metrics = metrics;
    this.completion = completion;
    this.listener =
        event -> {
          if (event.isFinal()) {
            metrics.exit(event.layer(), event.reason(), event.truncated());
          }
          listener.onEvent(event);
        };
  }

  @Override
  public void run() {
    if (!claimed.compareAndSet(false, true)) {
      return;
    }
    long start = System.nanoTime();
    StopReason early = stopReason();
    if (early != null) {
      metrics.dropped(early);
      completion.dropped(early);
      return;
    }
    RunSummary summary;
    try {
      summary =
          engine.run(
              request.inputs(), request.profile(), request.bounds(), listener, this::stopReason);
    } catch (RuntimeException e) {
      completion.failed(e);
      return;
    }
    long computeNanos = System.nanoTime() - start;
    metrics.run(summary, request.tokens(), start - queuedAt, computeNanos);
    completion.ran(summary, start - queuedAt, computeNanos);
  }

  /**
   * Marks the job cancelled: takes it off the queue if it is still there (counting it as dropped),
   * else lets the running engine stop at its next layer.
   */
  void cancel(EngineWorkers workers) {
    cancelled = true;
    if (workers.remove(this) && claimed.compareAndSet(false, true)) {
      StopReason reason = stopReason();
      metrics.dropped(reason);
      completion.dropped(reason);
    }
  }

  /** Null while the job should go on; else why it must stop. */
  StopReason stopReason() {
    if (!cancelled && !context.isCancelled()) {
      return null;
    }
    Deadline deadline = context.getDeadline();
    return deadline != null && deadline.isExpired()
        ? StopReason.DEADLINE_EXCEEDED
        : StopReason.CANCELLED;
  }
}
