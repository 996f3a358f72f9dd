package dev.cascade.server.service;

import dev.cascade.api.v1.EmbedEvent;
import dev.cascade.api.v1.EmbedRequest;
import dev.cascade.api.v1.EmbedResponse;
import dev.cascade.api.v1.EmbedderGrpc;
import dev.cascade.api.v1.Embedding;
import dev.cascade.api.v1.GetModelInfoRequest;
import dev.cascade.api.v1.ModelInfo;
import dev.cascade.policy.StopReason;
import dev.cascade.runtime.CascadeRuntime;
import dev.cascade.runtime.ExitEvent;
import dev.cascade.runtime.ExitListener;
import dev.cascade.runtime.InputRun;
import dev.cascade.runtime.RunSummary;
import dev.cascade.server.ServerOptions;
import dev.cascade.server.metrics.ServerMetrics;
import dev.cascade.server.scheduler.LayerScheduler;
import dev.cascade.server.scheduler.Ticket;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The Embedder service: validates requests, admits their inputs to the layer-wise scheduler and
 * turns exit events into responses and streams.
 *
 * <p>Refuses calls with UNAVAILABLE until {@link #serving()} and after {@link #draining()}.
 */
public final class EmbedderService extends EmbedderGrpc.EmbedderImplBase {
  private enum State {
    WARMING,
    SERVING,
    DRAINING
  }

  private final CascadeRuntime runtime;
  private final ServerOptions options;
  private final LayerScheduler scheduler;
  private final ServerMetrics metrics;
  private final RequestValidator validator;
  private final ModelInfo modelInfo;
  private final Set<Session> sessions = ConcurrentHashMap.newKeySet();
  private volatile State state = State.WARMING;

  public EmbedderService(
      CascadeRuntime runtime,
      ServerOptions options,
      LayerScheduler scheduler,
      ServerMetrics metrics) {
    this.runtime = runtime;
    this.options = options;
    this.scheduler = scheduler;
    this.metrics = metrics;
    this.validator = new RequestValidator(runtime, options);
    this.modelInfo = Protos.modelInfo(runtime, options);
  }

  /** Starts accepting calls. */
  public void serving() {
    if (state == State.WARMING) {
      state = State.SERVING;
    }
  }

  /**
   * Refuses new calls and new session requests; sessions waiting for their next request end with
   * UNAVAILABLE.
   */
  public void draining() {
    state = State.DRAINING;
    sessions.forEach(Session::drain);
  }

  @Override
  public void getModelInfo(GetModelInfoRequest request, StreamObserver<ModelInfo> response) {
    response.onNext(modelInfo);
    response.onCompleted();
  }

  @Override
  public void embed(EmbedRequest request, StreamObserver<EmbedResponse> observer) {
    ServerCallStreamObserver<EmbedResponse> call =
        (ServerCallStreamObserver<EmbedResponse>) observer;
    PreparedRequest prepared = prepareOrFail(request, observer);
    if (prepared == null) {
      return;
    }
    Embedding[] results = new Embedding[prepared.inputs().size()];
    ExitListener listener =
        ExitListener.finalsOnly(
            event -> results[event.input()] = Protos.embedding(event, prepared.dimensions()));
    Ticket.Completion completion =
        completion(
            (summary, queueNanos, computeNanos) -> {
              if (call.isCancelled()) {
                return;
              }
              observer.onNext(
                  EmbedResponse.newBuilder()
                      .setRequestId(prepared.requestId())
                      .addAllEmbeddings(Arrays.asList(results))
                      .setQueueTime(Protos.duration(queueNanos))
                      .setComputeTime(Protos.duration(computeNanos))
                      .setProfile(prepared.profile().name())
                      .setLayersComputed(saturate(summary.layersComputed()))
                      .setLayersSaved(saturate(summary.layersSaved()))
                      .build());
              observer.onCompleted();
            },
            status -> observer.onError(status.asRuntimeException()));
    Context context = Context.current();
    Ticket ticket;
    try {
      ticket = schedule(prepared, context, listener, () -> true, completion);
    } catch (RuntimeException e) {
      observer.onError(Errors.exception(e));
      return;
    }
    call.setOnCancelHandler(() -> scheduler.cancel(ticket, stopReason(context)));
  }

  @Override
  public void embedStream(EmbedRequest request, StreamObserver<EmbedEvent> observer) {
    ServerCallStreamObserver<EmbedEvent> call = (ServerCallStreamObserver<EmbedEvent>) observer;
    PreparedRequest prepared = prepareOrFail(request, observer);
    if (prepared == null) {
      return;
    }
    Context context = Context.current();
    Ticket[] ticket = new Ticket[1];
    EventStream<EmbedEvent> stream =
        new EventStream<>(
            call,
            options.streamBuffer(),
            () -> {
              if (ticket[0] != null) {
                scheduler.cancel(ticket[0], stopReason(context));
              }
            },
            scheduler::wake);
    try {
      ticket[0] =
          schedule(
              prepared,
              context,
              streamingListener(prepared, stream),
              stream::hasSpace,
              completion((summary, queueNanos, computeNanos) -> stream.complete(), stream::fail));
    } catch (RuntimeException e) {
      stream.fail(Errors.status(e));
    }
  }

  @Override
  public StreamObserver<EmbedRequest> embedSession(StreamObserver<EmbedEvent> observer) {
    ServerCallStreamObserver<EmbedEvent> call = (ServerCallStreamObserver<EmbedEvent>) observer;
    call.disableAutoRequest();
    Session session = new Session(call);
    sessions.add(session);
    call.request(1);
    return session;
  }

  private ExitListener streamingListener(PreparedRequest prepared, EventStream<EmbedEvent> stream) {
    long start = System.nanoTime();
    return event ->
        stream.send(
            Protos.event(
                prepared.requestId(), event, prepared.dimensions(), System.nanoTime() - start));
  }

  /** What a call does when its request ran to the end, or failed. */
  private interface Ran {
    void ran(RunSummary summary, long queueNanos, long computeNanos);
  }

  /**
   * A completion that answers only when compute ran to the end (a stopped request's call is already
   * over) or failed.
   */
  private static Ticket.Completion completion(Ran ran, Consumer<Status> failed) {
    return new Ticket.Completion() {
      @Override
      public void ran(RunSummary summary, long queueNanos, long computeNanos) {
        if (summary.stopped() == null) {
          ran.ran(summary, queueNanos, computeNanos);
        }
      }

      @Override
      public void dropped(StopReason reason) {}

      @Override
      public void failed(RuntimeException e) {
        failed.accept(Errors.status(e));
      }
    };
  }

  /**
   * Admits a request's inputs to the scheduler; its final events are counted in the metrics.
   *
   * @throws java.util.concurrent.RejectedExecutionException when the scheduler is full
   */
  private Ticket schedule(
      PreparedRequest prepared,
      Context context,
      ExitListener listener,
      BooleanSupplier ready,
      Ticket.Completion completion) {
    ExitListener metered =
        new ExitListener() {
          @Override
          public void onEvent(ExitEvent event) {
            if (event.isFinal()) {
              metrics.exit(event.layer(), event.reason(), event.truncated());
            }
            listener.onEvent(event);
          }

          @Override
          public boolean wantsIntermediate() {
            return listener.wantsIntermediate();
          }
        };
    List<InputRun> runs = new ArrayList<>();
    for (int i = 0; i < prepared.inputs().size(); i++) {
      runs.add(
          new InputRun(
              prepared.inputs().get(i),
              i,
              prepared.profile(),
              prepared.bounds(),
              runtime.engine(),
              metered));
    }
    return scheduler.submit(
        runs, () -> context.isCancelled() ? stopReason(context) : null, ready, completion);
  }

  /** Why a call's compute must stop once its context is cancelled. */
  private static StopReason stopReason(Context context) {
    Deadline deadline = context.getDeadline();
    return deadline != null && deadline.isExpired()
        ? StopReason.DEADLINE_EXCEEDED
        : StopReason.CANCELLED;
  }

  /** The validated request, or null once the call has been failed with the reason. */
  private PreparedRequest prepareOrFail(EmbedRequest request, StreamObserver<?> observer) {
    try {
      requireServing();
      return validator.prepare(request);
    } catch (RuntimeException e) {
      observer.onError(Errors.exception(e));
      return null;
    }
  }

  private void requireServing() {
    switch (state) {
      case WARMING -> throw Errors.warmingUp();
      case DRAINING -> throw Errors.draining();
      case SERVING -> {}
    }
  }

  private static int saturate(long value) {
    return (int) Math.min(value, 0xFFFF_FFFFL);
  }

  /**
   * One EmbedSession call: requests are served one at a time, in order; the next request is read
   * only when the current one is done, so a session holds at most one request in the queue.
   */
  private final class Session implements StreamObserver<EmbedRequest> {
    private final ServerCallStreamObserver<EmbedEvent> call;
    private final EventStream<EmbedEvent> stream;
    private final Context context = Context.current();
    private Ticket current;
    private boolean busy;
    private boolean halfClosed;
    private boolean ended;

    Session(ServerCallStreamObserver<EmbedEvent> call) {
      this.call = call;
      this.stream = new EventStream<>(call, options.streamBuffer(), this::cancel, scheduler::wake);
    }

    @Override
    public void onNext(EmbedRequest request) {
      PreparedRequest prepared;
      try {
        requireServing();
        prepared = validator.prepare(request);
      } catch (RuntimeException e) {
        end(withRequestId(Errors.status(e), request.getRequestId()));
        return;
      }
      synchronized (this) {
        busy = true;
      }
      try {
        Ticket ticket =
            schedule(
                prepared,
                context,
                streamingListener(prepared, stream),
                stream::hasSpace,
                completion(
                    (summary, queueNanos, computeNanos) -> next(),
                    status -> end(withRequestId(status, prepared.requestId()))));
        synchronized (this) {
          if (busy) {
            current = ticket;
          }
        }
      } catch (RuntimeException e) {
        end(withRequestId(Errors.status(e), prepared.requestId()));
      }
    }

    @Override
    public void onError(Throwable t) {
      cancel();
    }

    @Override
    public void onCompleted() {
      synchronized (this) {
        halfClosed = true;
        if (busy) {
          return;
        }
      }
      end(null);
    }

    /** The current request is done: read the next one, or end if the client is done. */
    private void next() {
      boolean clientDone;
      synchronized (this) {
        current = null;
        busy = false;
        clientDone = halfClosed;
      }
      if (clientDone) {
        end(null);
      } else if (state == State.DRAINING) {
        end(drainStatus());
      } else {
        call.request(1);
      }
    }

    void drain() {
      synchronized (this) {
        if (busy) {
          return;
        }
      }
      end(drainStatus());
    }

    private void cancel() {
      Ticket ticket;
      synchronized (this) {
        ticket = current;
      }
      if (ticket != null) {
        scheduler.cancel(ticket, stopReason(context));
      }
      sessions.remove(this);
    }

    private void end(Status status) {
      synchronized (this) {
        if (ended) {
          return;
        }
        ended = true;
      }
      sessions.remove(this);
      if (status == null) {
        stream.complete();
      } else {
        stream.fail(status);
      }
    }
  }

  private static Status drainStatus() {
    return Errors.draining().getStatus();
  }

  private static Status withRequestId(Status status, String requestId) {
    return requestId.isEmpty()
        ? status
        : status.withDescription("request " + requestId + ": " + status.getDescription());
  }
}
