package dev.cascade.server.service;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.ArrayDeque;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The sending side of a streaming call, with flow control: messages go out while the call is ready;
 * the rest wait in a buffer of bounded size, and a producer that finds it full waits until the
 * client reads or the call is cancelled. A slow reader thus pauses the engine at an exit instead of
 * making the server buffer without bound.
 *
 * <p>Thread-safe: producers, gRPC's ready and cancel callbacks may run on any threads.
 */
final class EventStream<T> {
  private final ServerCallStreamObserver<T> call;
  private final int capacity;
  private final Runnable onStall;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition space = lock.newCondition();
  private final ArrayDeque<T> pending = new ArrayDeque<>();
  private boolean cancelled;
  private boolean closing;
  private boolean closed;
  private Status failure;

  /**
   * Takes over the call's ready and cancel handlers; must be made before the service method
   * returns.
   *
   * @param capacity messages held for a client that is not ready
   * @param onCancel run once when the call is cancelled (client cancel, deadline, shutdown)
   * @param onStall run each time a producer has to wait for the client
   */
  EventStream(ServerCallStreamObserver<T> call, int capacity, Runnable onCancel, Runnable onStall) {
    this.call = call;
    this.capacity = capacity;
    this.onStall = onStall;
    call.setOnReadyHandler(this::flush);
    call.setOnCancelHandler(
        () -> {
          lock.lock();
          try {
            cancelled = true;
            pending.clear();
            space.signalAll();
          } finally {
            lock.unlock();
          }
          onCancel.run();
        });
  }

  /**
   * Sends a message, or buffers it; waits while the buffer is full.
   *
   * @return false when the call was cancelled or closed, so the message was dropped
   */
  boolean send(T message) {
    lock.lock();
    try {
      boolean stalled = false;
      while (!cancelled && !closing && pending.size() >= capacity) {
        if (!stalled) {
          stalled = true;
          onStall.run();
        }
        space.awaitUninterruptibly();
      }
      if (cancelled || closing) {
        return false;
      }
      pending.add(message);
      drain();
      return true;
    } finally {
      lock.unlock();
    }
  }

  /** Ends the call with OK once every buffered message is sent. */
  void complete() {
    close(null);
  }

  /** Ends the call with {@code status} once every buffered message is sent. */
  void fail(Status status) {
    close(status);
  }

  boolean isCancelled() {
    lock.lock();
    try {
      return cancelled;
    } finally {
      lock.unlock();
    }
  }

  private void close(Status status) {
    lock.lock();
    try {
      if (closing) {
        return;
      }
      closing = true;
      failure = status;
      space.signalAll();
      drain();
    } finally {
      lock.unlock();
    }
  }

  private void flush() {
    lock.lock();
    try {
      drain();
    } finally {
      lock.unlock();
    }
  }

  private void drain() {
    while (!cancelled && !pending.isEmpty() && call.isReady()) {
      call.onNext(pending.poll());
    }
    if (pending.size() < capacity) {
      space.signalAll();
    }
    if (closing && !closed && !cancelled && pending.isEmpty()) {
      closed = true;
      if (failure == null) {
        call.onCompleted();
      } else {
        call.onError(failure.asRuntimeException());
      }
    }
  }
}
