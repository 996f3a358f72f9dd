package dev.cascade.server;

import dev.cascade.api.v1.EmbedderGrpc;
import dev.cascade.policy.ExitBounds;
import dev.cascade.policy.Profile;
import dev.cascade.runtime.CascadeRuntime;
import dev.cascade.runtime.InputRun;
import dev.cascade.server.metrics.CallMetricsInterceptor;
import dev.cascade.server.metrics.ServerMetrics;
import dev.cascade.server.scheduler.LayerScheduler;
import dev.cascade.server.service.EmbedderService;
import dev.cascade.tokenize.TokenizedInput;
import dev.cascade.tokenize.Truncation;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerCall;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.grpc.util.MutableHandlerRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * A Cascade gRPC server: the Embedder service, gRPC health and server reflection, over whatever
 * transport the given {@link ServerBuilder} makes.
 *
 * <p>Lifecycle: {@link #start()} listens, with health NOT_SERVING and Embedder calls refused with
 * UNAVAILABLE, while the model loads if need be ({@link #attach}); {@link #warmUp()} runs a request
 * through the engine and turns health SERVING; {@link #drain(Duration)} turns health NOT_SERVING,
 * refuses new calls with UNAVAILABLE, lets calls in flight finish within a grace period, then
 * stops. The runtime stays the caller's to close.
 */
public final class CascadeServer {
  private static final Logger log = Logger.getLogger(CascadeServer.class.getName());

  /** The health service name of the Embedder; the empty name stands for the whole server. */
  public static final String SERVICE_NAME = EmbedderGrpc.SERVICE_NAME;

  private final ServerOptions options;
  private final ServerMetrics metrics;
  private final HealthStatusManager health = new HealthStatusManager();
  private final MutableHandlerRegistry embedderRegistry = new MutableHandlerRegistry();
  private final Server server;
  private volatile CascadeRuntime runtime;
  private volatile LayerScheduler scheduler;
  private volatile EmbedderService embedder;

  /**
   * A server with no model yet: once started it answers health checks (NOT_SERVING) and refuses
   * Embedder calls with UNAVAILABLE until {@link #attach} and {@link #warmUp()}, so that probes see
   * a loading server rather than a closed port.
   */
  public CascadeServer(ServerBuilder<?> builder, ServerOptions options, ServerMetrics metrics) {
    this.options = options;
    this.metrics = metrics;
    health.setStatus("", ServingStatus.NOT_SERVING);
    health.setStatus(SERVICE_NAME, ServingStatus.NOT_SERVING);
    embedderRegistry.addService(refusing("the model is loading; retry shortly"));
    this.server =
        builder
            .addService(health.getHealthService())
            .addService(ProtoReflectionServiceV1.newInstance())
            .fallbackHandlerRegistry(embedderRegistry)
            .build();
  }

  /**
   * A server on {@code runtime}: {@link #CascadeServer(ServerBuilder, ServerOptions,
   * ServerMetrics)} then {@link #attach}.
   */
  public CascadeServer(
      ServerBuilder<?> builder,
      CascadeRuntime runtime,
      ServerOptions options,
      ServerMetrics metrics) {
    this(builder, options, metrics);
    attach(runtime);
  }

  /**
   * Installs the Embedder service on {@code runtime}, before or after {@link #start()}. Its calls
   * are refused with UNAVAILABLE until {@link #warmUp()}.
   *
   * @throws IllegalStateException if a runtime is already attached
   */
  public synchronized void attach(CascadeRuntime runtime) {
    if (this.runtime != null) {
      throw new IllegalStateException("a runtime is already attached");
    }
    LayerScheduler scheduler = new LayerScheduler(runtime.engine(), options.scheduler(), metrics);
    metrics.watchQueue(
        scheduler::requestsInFlight, scheduler::inputsWaiting, scheduler::busyWorkers);
    EmbedderService embedder = new EmbedderService(runtime, options, scheduler, metrics);
    this.scheduler = scheduler;
    this.embedder = embedder;
    this.runtime = runtime;
    embedderRegistry.addService(
        ServerInterceptors.intercept(embedder, new CallMetricsInterceptor(metrics)));
  }

  /** The Embedder service with every method closed at once with UNAVAILABLE and {@code reason}. */
  private static ServerServiceDefinition refusing(String reason) {
    ServerServiceDefinition.Builder definition =
        ServerServiceDefinition.builder(EmbedderGrpc.getServiceDescriptor());
    for (MethodDescriptor<?, ?> method : EmbedderGrpc.getServiceDescriptor().getMethods()) {
      addRefusing(definition, method, reason);
    }
    return definition.build();
  }

  private static <ReqT, RespT> void addRefusing(
      ServerServiceDefinition.Builder definition,
      MethodDescriptor<ReqT, RespT> method,
      String reason) {
    definition.addMethod(
        method,
        (call, headers) -> {
          call.close(Status.UNAVAILABLE.withDescription(reason), new Metadata());
          return new ServerCall.Listener<>() {};
        });
  }

  /**
   * A Netty server builder for {@code host:port} with keepalive, and a maximum connection age so
   * that clients reconnect now and then and spread over servers behind a balancer. Netty uses epoll
   * where the native transport is on the classpath and the kernel has it.
   */
  public static NettyServerBuilder netty(String host, int port, Duration grace) {
    return NettyServerBuilder.forAddress(new InetSocketAddress(host, port))
        .keepAliveTime(30, TimeUnit.SECONDS)
        .keepAliveTimeout(10, TimeUnit.SECONDS)
        .permitKeepAliveTime(10, TimeUnit.SECONDS)
        .permitKeepAliveWithoutCalls(true)
        .maxConnectionIdle(10, TimeUnit.MINUTES)
        .maxConnectionAge(5, TimeUnit.MINUTES)
        .maxConnectionAgeGrace(Math.max(1, grace.toSeconds()), TimeUnit.SECONDS)
        .maxInboundMessageSize(16 << 20);
  }

  /** Starts listening. Health is NOT_SERVING until {@link #warmUp()}. */
  public CascadeServer start() throws IOException {
    server.start();
    return this;
  }

  /**
   * Runs a small request through the engine, so that the first real request does not pay for
   * TensorFlow's first runs, then turns health SERVING.
   */
  public void warmUp() {
    CascadeRuntime runtime = this.runtime;
    if (runtime == null) {
      throw new IllegalStateException("no runtime attached");
    }
    List<TokenizedInput> inputs =
        List.of(
            runtime.model().tokenizer().tokenize("warm up", 0, Truncation.TRUNCATE),
            runtime
                .model()
                .tokenizer()
                .tokenize(
                    "Cascade warms up the encoder and its exit heads before serving.",
                    1,
                    Truncation.TRUNCATE));
    long start = System.nanoTime();
    for (Profile profile : runtime.profiles().values()) {
      runtime.engine().run(inputs, profile, ExitBounds.NONE, event -> {}, () -> null);
      List<InputRun> runs = new ArrayList<>();
      for (int i = 0; i < inputs.size(); i++) {
        runs.add(
            new InputRun(inputs.get(i), i, profile, ExitBounds.NONE, runtime.engine(), e -> {}));
      }
      while (runs.stream().anyMatch(r -> !r.finished())) {
        runtime.engine().step(runs.stream().filter(r -> !r.finished()).toList());
      }
    }
    log.info(
        "warmed up in " + (System.nanoTime() - start) / 1_000_000 + " ms; serving on " + port());
    embedder.serving();
    health.setStatus("", ServingStatus.SERVING);
    health.setStatus(SERVICE_NAME, ServingStatus.SERVING);
  }

  /** Requests admitted to the scheduler and not finished. */
  public int requestsInFlight() {
    LayerScheduler scheduler = this.scheduler;
    return scheduler == null ? 0 : scheduler.requestsInFlight();
  }

  /** Engine workers running a step. */
  public int busyWorkers() {
    LayerScheduler scheduler = this.scheduler;
    return scheduler == null ? 0 : scheduler.busyWorkers();
  }

  /** The port listened on, or -1 for transports without ports. */
  public int port() {
    return server.getPort();
  }

  /**
   * Stops gracefully: health NOT_SERVING, new calls refused with UNAVAILABLE, calls in flight given
   * {@code grace} to finish; those still running then are cancelled, which stops their compute at
   * the next layer.
   *
   * @return whether every call finished within the grace period
   */
  public boolean drain(Duration grace) throws InterruptedException {
    LayerScheduler scheduler;
    synchronized (this) {
      health.enterTerminalState();
      scheduler = this.scheduler;
      if (embedder != null) {
        embedder.draining();
      }
    }
    server.shutdown();
    boolean clean = server.awaitTermination(grace.toMillis(), TimeUnit.MILLISECONDS);
    if (!clean) {
      server.shutdownNow();
      server.awaitTermination(5, TimeUnit.SECONDS);
    }
    if (scheduler != null) {
      scheduler.shutdown(Duration.ofSeconds(5));
      scheduler.close();
    }
    return clean;
  }

  /** Stops at once: calls in flight are cancelled. */
  public void stop() throws InterruptedException {
    drain(Duration.ZERO);
  }

  public void blockUntilShutdown() throws InterruptedException {
    server.awaitTermination();
  }
}
