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
import dev.cascade.runtime.ExitListener;
import dev.cascade.runtime.RunSummary;
import dev.cascade.server.ServerOptions;
import dev.cascade.server.metrics.ServerMetrics;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The Embedder service: validates requests, queues them on the engine workers and turns exit events
 * into responses and streams.
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
  private final EngineWorkers workers;
  private final ServerMetrics metrics;
  private final RequestValidator validator;
  private final ModelInfo modelInfo;
  private final Set<Session> sessions = ConcurrentHashMap.newKeySet();
  private volatile State state = State.WARMING;

  public EmbedderService(
      CascadeRuntime runtime, ServerOptions options, EngineWorkers workers, ServerMetrics metrics) {
    this.runtime = runtime;
    this.options = options;
    this.workers = workers;
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
    PreparedRequest prepared;
    try {
      requireServing();
      prepared = validator.prepare(request);
    } catch (RuntimeException e) {
      observer.onError(Errors.exception(e));
      return;
    }
    Embedding[] results = new Embedding[prepared.inputs().size()];
    ExitListener listener =
        event -> {
          if (event.isFinal()) {
            results[event.input()] = Protos.embedding(event, prepared.dimensions());
          }
        };
    Job.Completion completion =
        new Job.Completion() {
          @Override
          public void ran(RunSummary summary, long queueNanos, long computeNanos) {
            if (summary.stopped() != null || call.isCancelled()) {
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
          }

          @Override
          public void dropped(StopReason reason) {}

          @Override
          public void failed(RuntimeException e) {
            observer.onError(Errors.exception(e));
          }
        };
    Job job = new Job(runtime.engine(), prepared, Context.current(), listener, metrics, completion);
    call.setOnCancelHandler(() -> job.cancel(workers));
    submit(job, observer);
  }

  @Override
  public void embedStream(EmbedRequest request, StreamObserver<EmbedEvent> observer) {
    ServerCallStreamObserver<EmbedEvent> call = (ServerCallStreamObserver<EmbedEvent>) observer;
    PreparedRequest prepared;
    try {
      requireServing();
      prepared = validator.prepare(request);
    } catch (RuntimeException e) {
      observer.onError(Errors.exception(e));
      return;
    }
    Job[] job = new Job[1];
    EventStream<EmbedEvent> stream =
        new EventStream<>(
            call, options.streamBuffer(), () -> job[0].cancel(workers), metrics::stall);
    job[0] =
        new Job(
            runtime.engine(),
            prepared,
            Context.current(),
            streamingListener(prepared, stream),
            metrics,
            new Job.Completion() {
              @Override
              public void ran(RunSummary summary, long queueNanos, long computeNanos) {
                if (summary.stopped() == null) {
                  stream.complete();
                }
              }

              @Override
              public void dropped(StopReason reason) {}

              @Override
              public void failed(RuntimeException e) {
                stream.fail(Errors.status(e));
              }
            });
    submit(job[0], observer);
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

  private void submit(Job job, StreamObserver<?> observer) {
    try {
      workers.submit(job);
    } catch (RuntimeException e) {
      observer.onError(Errors.exception(e));
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
    private Job current;
    private boolean halfClosed;
    private boolean ended;

    Session(ServerCallStreamObserver<EmbedEvent> call) {
      this.call = call;
      this.stream = new EventStream<>(call, options.streamBuffer(), this::cancel, metrics::stall);
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
      Job job =
          new Job(
              runtime.engine(),
              prepared,
              context,
              streamingListener(prepared, stream),
              metrics,
              new Job.Completion() {
                @Override
                public void ran(RunSummary summary, long queueNanos, long computeNanos) {
                  if (summary.stopped() == null) {
                    next();
                  }
                }

                @Override
                public void dropped(StopReason reason) {}

                @Override
                public void failed(RuntimeException e) {
                  end(withRequestId(Errors.status(e), prepared.requestId()));
                }
              });
      synchronized (this) {
        current = job;
      }
      try {
        workers.submit(job);
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
        if (current != null) {
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
        if (current != null) {
          return;
        }
      }
      end(drainStatus());
    }

    private void cancel() {
      Job job;
      synchronized (this) {
        job = current;
      }
      if (job != null) {
        job.cancel(workers);
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
