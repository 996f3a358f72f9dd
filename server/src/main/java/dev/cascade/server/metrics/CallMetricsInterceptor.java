package dev.cascade.server.metrics;

import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Counts every call by method and status code, and times it: calls the server closes are counted
 * with their status; calls the client cancels or whose deadline passes are counted as CANCELLED or
 * DEADLINE_EXCEEDED.
 */
public final class CallMetricsInterceptor implements ServerInterceptor {
  private final ServerMetrics metrics;

  public CallMetricsInterceptor(ServerMetrics metrics) {
    this.metrics = metrics;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    long start = System.nanoTime();
    String method = call.getMethodDescriptor().getBareMethodName();
    AtomicBoolean recorded = new AtomicBoolean();
    Deadline deadline = Context.current().getDeadline();
    ServerCall<Q, R> counted =
        new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
          @Override
          public void close(Status status, Metadata trailers) {
            if (recorded.compareAndSet(false, true)) {
              metrics.call(method, status.getCode(), System.nanoTime() - start);
            }
            super.close(status, trailers);
          }
        };
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(
        next.startCall(counted, headers)) {
      @Override
      public void onCancel() {
        if (recorded.compareAndSet(false, true)) {
          Status.Code code =
              deadline != null && deadline.isExpired()
                  ? Status.Code.DEADLINE_EXCEEDED
                  : Status.Code.CANCELLED;
          metrics.call(method, code, System.nanoTime() - start);
        }
        super.onCancel();
      }
    };
  }
}
