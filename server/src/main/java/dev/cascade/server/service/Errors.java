package dev.cascade.server.service;

import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.RejectedExecutionException;
import java.util.logging.Level;
import java.util.logging.Logger;

/** The one place where failures become a gRPC {@link Status}. */
final class Errors {
  private static final Logger log = Logger.getLogger(Errors.class.getName());

  private Errors() {}

  static Status status(Throwable t) {
    if (t instanceof BadRequestException) {
      return Status.INVALID_ARGUMENT.withDescription(t.getMessage());
    }
    if (t instanceof RejectedExecutionException) {
      return Status.RESOURCE_EXHAUSTED.withDescription(t.getMessage());
    }
    if (t instanceof StatusRuntimeException s) {
      return s.getStatus();
    }
    if (t instanceof StatusException s) {
      return s.getStatus();
    }
    log.log(Level.SEVERE, "internal error", t);
    return Status.INTERNAL.withDescription("internal error: " + t).withCause(t);
  }

  static StatusRuntimeException exception(Throwable t) {
    return status(t).asRuntimeException();
  }

  static StatusRuntimeException warmingUp() {
    return Status.UNAVAILABLE
        .withDescription("the server is warming up; retry shortly")
        .asRuntimeException();
  }

  static StatusRuntimeException draining() {
    return Status.UNAVAILABLE
        .withDescription("the server is shutting down; retry on another connection")
        .asRuntimeException();
  }
}
