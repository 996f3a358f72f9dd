package dev.cascade.server;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A client-side observer that records what it receives and reads only as many messages as the test
 * asks for (manual flow control).
 */
final class ClientRecorder<Q, R> implements ClientResponseObserver<Q, R> {
  private final int initialRequest;
  private final List<R> received = new CopyOnWriteArrayList<>();
  private final BlockingQueue<R> arrivals = new LinkedBlockingQueue<>();
  private final CountDownLatch done = new CountDownLatch(1);
  private volatile ClientCallStreamObserver<Q> call;
  private volatile Status status;

  /** Reads {@code initialRequest} messages, then only what {@link #request} asks for. */
  ClientRecorder(int initialRequest) {
    this.initialRequest = initialRequest;
  }

  /** Reads every message as it comes. */
  static <Q, R> ClientRecorder<Q, R> unbounded() {
    return new ClientRecorder<>(Integer.MAX_VALUE);
  }

  @Override
  public void beforeStart(ClientCallStreamObserver<Q> requestStream) {
    call = requestStream;
    if (initialRequest != Integer.MAX_VALUE) {
      requestStream.disableAutoRequestWithInitial(initialRequest);
    }
  }

  @Override
  public void onNext(R value) {
    received.add(value);
    arrivals.add(value);
  }

  @Override
  public void onError(Throwable t) {
    status = Status.fromThrowable(t);
    done.countDown();
  }

  @Override
  public void onCompleted() {
    status = Status.OK;
    done.countDown();
  }

  void request(int n) {
    call.request(n);
  }

  ClientCallStreamObserver<Q> call() {
    return call;
  }

  void cancel() {
    call.cancel("test cancels", null);
  }

  /** Waits for the next message. */
  R next() throws InterruptedException {
    R r = arrivals.poll(60, TimeUnit.SECONDS);
    assertNotNull(r, "no message within 60 s");
    return r;
  }

  /** Waits for the call to end and returns its status. */
  Status awaitStatus() throws InterruptedException {
    assertTrue(done.await(120, TimeUnit.SECONDS), "call did not end within 120 s");
    return status;
  }

  List<R> received() {
    return received;
  }
}
