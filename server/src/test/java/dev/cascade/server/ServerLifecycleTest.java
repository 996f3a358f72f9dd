package dev.cascade.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cascade.api.v1.EmbedEvent;
import dev.cascade.api.v1.EmbedRequest;
import dev.cascade.api.v1.EmbedderGrpc;
import dev.cascade.server.metrics.ServerMetrics;
import dev.cascade.server.scheduler.SchedulerOptions;
import dev.cascade.server.scheduler.StepPolicy;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Health and graceful shutdown over an in-process transport. */
class ServerLifecycleTest {
  @RegisterExtension static final SharedRuntime runtime = new SharedRuntime();

  InProcessServer served;
  HealthGrpc.HealthBlockingStub health;
  EmbedderGrpc.EmbedderBlockingStub blocking;
  EmbedderGrpc.EmbedderStub async;

  @BeforeEach
  void start() throws Exception {
    served =
        InProcessServer.start(
            runtime.get(),
            new ServerOptions(
                8, 2000, 1, new SchedulerOptions(1, 4096, 4, 100_000, StepPolicy.FULLEST)));
    health = HealthGrpc.newBlockingStub(served.channel());
    blocking = EmbedderGrpc.newBlockingStub(served.channel());
    async = EmbedderGrpc.newStub(served.channel());
  }

  @AfterEach
  void stop() throws Exception {
    served.close();
  }

  ServingStatus check(String service) {
    return health.check(HealthCheckRequest.newBuilder().setService(service).build()).getStatus();
  }

  static EmbedRequest request(List<String> texts) {
    return EmbedRequest.newBuilder().setProfile("exact").addAllInputs(texts).build();
  }

  @Test
  void health_beforeWarmUp_notServingAndEmbedUnavailable() {
    assertEquals(ServingStatus.NOT_SERVING, check(""));
    assertEquals(ServingStatus.NOT_SERVING, check(CascadeServer.SERVICE_NAME));
    StatusRuntimeException e =
        assertThrows(StatusRuntimeException.class, () -> blocking.embed(request(List.of("hi"))));
    assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
    assertEquals("the server is warming up; retry shortly", e.getStatus().getDescription());
  }

  @Test
  void health_whileTheModelLoads_notServingThenServingOnceAttachedAndWarm() throws Exception {
    String name = InProcessServerBuilder.generateName();
    CascadeServer loading =
        new CascadeServer(
                InProcessServerBuilder.forName(name).directExecutor(),
                new ServerOptions(8, 2000, 1, SchedulerOptions.forCores(2)),
                new ServerMetrics())
            .start();
    ManagedChannel channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    try {
      HealthGrpc.HealthBlockingStub probe = HealthGrpc.newBlockingStub(channel);
      EmbedderGrpc.EmbedderBlockingStub embedder = EmbedderGrpc.newBlockingStub(channel);
      assertEquals(
          ServingStatus.NOT_SERVING,
          probe.check(HealthCheckRequest.getDefaultInstance()).getStatus());
      StatusRuntimeException e =
          assertThrows(StatusRuntimeException.class, () -> embedder.embed(request(List.of("a"))));
      assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
      assertEquals("the model is loading; retry shortly", e.getStatus().getDescription());
      assertEquals(0, loading.requestsInFlight());

      loading.attach(runtime.get());
      assertThrows(IllegalStateException.class, () -> loading.attach(runtime.get()));
      loading.warmUp();

      assertEquals(
          ServingStatus.SERVING, probe.check(HealthCheckRequest.getDefaultInstance()).getStatus());
      assertEquals(1, embedder.embed(request(List.of("a"))).getEmbeddingsCount());
    } finally {
      channel.shutdownNow();
      loading.stop();
    }
  }

  @Test
  void stop_beforeAModelIsAttached_stopsCleanly() throws Exception {
    CascadeServer loading =
        new CascadeServer(
                InProcessServerBuilder.forName(InProcessServerBuilder.generateName()),
                new ServerOptions(8, 2000, 1, SchedulerOptions.forCores(2)),
                new ServerMetrics())
            .start();
    assertTrue(loading.drain(Duration.ofSeconds(1)));
    assertThrows(IllegalStateException.class, loading::warmUp);
  }

  @Test
  void health_afterWarmUp_servingAndEmbedWorks() {
    served.server().warmUp();

    assertEquals(ServingStatus.SERVING, check(""));
    assertEquals(ServingStatus.SERVING, check(CascadeServer.SERVICE_NAME));
    assertEquals(1, blocking.embed(request(List.of("hi"))).getEmbeddingsCount());
  }

  @Test
  void drain_inFlightStream_finishesWhileHealthNotServingAndNewCallsUnavailable() throws Exception {
    served.server().warmUp();
    ClientRecorder<HealthCheckRequest, HealthCheckResponse> watch = ClientRecorder.unbounded();
    HealthGrpc.newStub(served.channel())
        .watch(
            HealthCheckRequest.newBuilder().setService(CascadeServer.SERVICE_NAME).build(), watch);
    assertEquals(ServingStatus.SERVING, watch.next().getStatus());
    ClientRecorder<EmbedRequest, EmbedEvent> inFlight = new ClientRecorder<>(0);
    async.embedStream(request(List.of("a text in flight")), inFlight);
    Waits.until(() -> served.metrics().stallCount() == 1, "the in-flight stream is paused mid-run");

    CompletableFuture<Boolean> drained =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return served.server().drain(Duration.ofSeconds(60));
              } catch (InterruptedException e) {
                throw new IllegalStateException(e);
              }
            });
    assertEquals(ServingStatus.NOT_SERVING, watch.next().getStatus());
    watch.cancel();
    StatusRuntimeException refused =
        assertThrows(StatusRuntimeException.class, () -> blocking.embed(request(List.of("new"))));
    assertEquals(Status.Code.UNAVAILABLE, refused.getStatus().getCode());
    assertFalse(drained.isDone());

    inFlight.request(100);
    assertEquals(Status.Code.OK, inFlight.awaitStatus().getCode());
    assertEquals(
        List.of(1, 2, 3, 4, 5, 6), inFlight.received().stream().map(EmbedEvent::getLayer).toList());
    assertTrue(drained.get(), "drained within the grace period");
  }

  @Test
  void drain_graceExpires_cancelsInFlightAndStopsItsCompute() throws Exception {
    served.server().warmUp();
    ClientRecorder<EmbedRequest, EmbedEvent> inFlight = new ClientRecorder<>(0);
    async.embedStream(request(List.of("a text in flight")), inFlight);
    Waits.until(() -> served.metrics().stallCount() == 1, "the in-flight stream is paused mid-run");

    assertFalse(served.server().drain(Duration.ofMillis(200)));

    assertFalse(inFlight.awaitStatus().isOk());
    Waits.until(
        () -> served.metrics().stoppedCount(dev.cascade.policy.StopReason.CANCELLED) == 1,
        "the cancelled run stops");
  }
}
