package dev.cascade.server.service;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.ArrayDeque;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The sending side of a streaming call, with flow control: messages go out while the call is ready;
 * the rest wait in a buffer. Sending never blocks: the scheduler asks {@link #hasSpace()} before it
 * computes more of the call's inputs, so a slow reader holds its own inputs back, never an engine
 * worker, and the buffer exceeds its capacity by at most one step's events.
 *
 * <p>Thread-safe: producers, gRPC's ready and cancel callbacks may run on any threads.
 */
final class EventStream<T> {
  private final ServerCallStreamObserver<T> call;
  private final int capacity;
  private final Runnable onSpace;
  private final ReentrantLock lock = new ReentrantLock();
  private final ArrayDeque<T> pending = new ArrayDeque<>();
  private volatile int buffered;
  private volatile boolean cancelled;
  private boolean closing;
  private boolean closed;
  private Status failure;

  /**
   * Takes over the call's ready and cancel handlers; must be made before the service method
   * returns.
   *
   * @param capacity messages held for a client that is not ready before {@link #hasSpace()} turns
   *     false
   * @param onCancel run once when the call is cancelled (client cancel, deadline, shutdown)
   * @param onSpace run, outside any lock, when the client has read enough for {@link #hasSpace()}
   *     to turn true again
   */
  EventStream(ServerCallStreamObserver<T> call, int capacity, Runnable onCancel, Runnable onSpace) {
    this.call = call;
    this.capacity = capacity;
    this.onSpace = onSpace;
    call.setOnReadyHandler(this::flush);
    call.setOnCancelHandler(
        () -> {
          lock.lock();
          try {
            cancelled = true;
            pending.clear();
            buffered = 0;
          } finally {
            lock.unlock();
          }
          onCancel.run();
        });
  }

  /**
   * Sends a message, or buffers it.
   *
   * @return false when the call was cancelled or closed, so the message was dropped
   */
  boolean send(T message) {
    lock.lock();
    try {
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

  /** Whether the buffer has room, or the call is over (so that nothing waits on it). */
  boolean hasSpace() {
    return cancelled || buffered < capacity;
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
    return cancelled;
  }

  private void close(Status status) {
    lock.lock();
    try {
      if (closing) {
        return;
      }
      closing = true;
      failure = status;
      drain();
    } finally {
      lock.unlock();
    }
  }

  private void flush() {
    boolean wasFull;
    boolean hasRoom;
    lock.lock();
    try {
      wasFull = buffered >= capacity;
      drain();
      hasRoom = buffered < capacity;
    } finally {
      lock.unlock();
    }
    if (wasFull && hasRoom) {
      onSpace.run();
    }
  }

  private void drain() {
    while (!cancelled && !pending.isEmpty() && call.isReady()) {
      call.onNext(pending.poll());
    }
    buffered = pending.size();
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
