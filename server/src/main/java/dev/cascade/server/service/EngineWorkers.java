package dev.cascade.server.service;

import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fixed pool of threads that run the engine, fed by a bounded queue. A request that finds the
 * queue full is refused at once, without compute.
 *
 * <p>Thread-safe. {@link #close()} stops taking work and waits for running work.
 */
public final class EngineWorkers implements AutoCloseable {
  private final ThreadPoolExecutor pool;
  private final int queueSize;

  public EngineWorkers(int workers, int queueSize) {
    this.queueSize = queueSize;
    AtomicInteger n = new AtomicInteger();
    ThreadFactory threads =
        r -> {
          Thread t = new Thread(r, "cascade-engine-" + n.incrementAndGet());
          t.setDaemon(true);
          return t;
        };
    this.pool =
        new ThreadPoolExecutor(
            workers,
            workers,
            0,
            TimeUnit.MILLISECONDS,
            new ArrayBlockingQueue<>(queueSize),
            threads,
            new ThreadPoolExecutor.AbortPolicy());
  }

  /**
   * Queues work.
   *
   * @throws RejectedExecutionException when the queue is full or the pool is closed
   */
  void submit(Runnable work) {
    try {
      pool.execute(work);
    } catch (RejectedExecutionException e) {
      throw new RejectedExecutionException(
          pool.isShutdown()
              ? "the server is shutting down"
              : "the server's queue of "
                  + queueSize
                  + " requests is full; retry later or on another server");
    }
  }

  /** Takes queued work off the queue; false when it already started or was never queued. */
  boolean remove(Runnable work) {
    return pool.remove(work);
  }

  /** Requests waiting for a worker. */
  public int queueDepth() {
    return pool.getQueue().size();
  }

  /** Workers computing a request. */
  public int busy() {
    return pool.getActiveCount();
  }

  /**
   * Stops taking work and waits for running and queued work up to {@code timeout}.
   *
   * @return whether everything finished in time
   */
  public boolean shutdown(Duration timeout) throws InterruptedException {
    pool.shutdown();
    return pool.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  @Override
  public void close() {
    pool.shutdownNow();
  }
}
