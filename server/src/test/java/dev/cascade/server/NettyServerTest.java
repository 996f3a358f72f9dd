package dev.cascade.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cascade.api.v1.EmbedEvent;
import dev.cascade.api.v1.EmbedRequest;
import dev.cascade.api.v1.EmbedResponse;
import dev.cascade.api.v1.EmbedderGrpc;
import dev.cascade.api.v1.GetModelInfoRequest;
import dev.cascade.runtime.CascadeRuntime;
import dev.cascade.server.metrics.MetricsEndpoint;
import dev.cascade.server.metrics.ServerMetrics;
import dev.cascade.server.scheduler.SchedulerOptions;
import dev.cascade.server.scheduler.StepPolicy;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The server over a real Netty port on loopback, with its metrics endpoint. */
class NettyServerTest {
  static final List<String> TEXTS =
      List.of("How do I read a file line by line in Java?", "read from a file descriptor");

  @TempDir static Path dir;
  static CascadeRuntime runtime;
  static ServerMetrics metrics;
  static CascadeServer server;
  static MetricsEndpoint endpoint;
  static ManagedChannel channel;

  @BeforeAll
  static void start() throws Exception {
    runtime = TestRuntimes.miniLmWithHeads(dir);
    metrics = new ServerMetrics();
    server =
        new CascadeServer(
                CascadeServer.netty("127.0.0.1", 0, Duration.ofSeconds(5)),
                runtime,
                new ServerOptions(
                    64, 2000, 4, new SchedulerOptions(1, 4096, 4, 100_000, StepPolicy.FULLEST)),
                metrics)
            .start();
    server.warmUp();
    endpoint = MetricsEndpoint.start(metrics, "127.0.0.1", 0);
    // A small receive window, so that a client that stops reading soon holds up the server.
    channel =
        NettyChannelBuilder.forAddress("127.0.0.1", server.port())
            .usePlaintext()
            .flowControlWindow(64 * 1024)
            .build();
    // Connect, and run the batch size the tests use once, so that deadlines measure steady state.
    EmbedderGrpc.newBlockingStub(channel)
        .embed(request("exact", java.util.Collections.nCopies(32, "a first request")));
  }

  @AfterAll
  static void stop() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.drain(Duration.ofSeconds(5));
    endpoint.close();
    runtime.close();
  }

  static EmbedRequest request(String profile, List<String> texts) {
    return EmbedRequest.newBuilder().setProfile(profile).addAllInputs(texts).build();
  }

  @Test
  void embedAndEmbedStream_overNetty_finalEventsEqualEmbed() {
    EmbedderGrpc.EmbedderBlockingStub stub = EmbedderGrpc.newBlockingStub(channel);
    EmbedResponse unary = stub.embed(request("", TEXTS));
    Map<Integer, List<EmbedEvent>> byInput = new HashMap<>();
    stub.embedStream(request("", TEXTS))
        .forEachRemaining(
            e -> byInput.computeIfAbsent(e.getInputIndex(), i -> new ArrayList<>()).add(e));

    for (int i = 0; i < TEXTS.size(); i++) {
      List<EmbedEvent> events = byInput.get(i);
      assertEquals(List.of(1, 2), events.stream().map(EmbedEvent::getLayer).toList());
      EmbedEvent last = events.get(1);
      assertTrue(last.getFinal());
      assertEquals(unary.getEmbeddings(i).getLayer(), last.getLayer());
      assertArrayEquals(
          EmbedderServiceTest.floats(unary.getEmbeddings(i).getEmbeddingList()),
          EmbedderServiceTest.floats(last.getEmbeddingList()),
          1e-6f);
    }
  }

  @Test
  void embedSession_overNetty_servesEveryRequest() throws Exception {
    ClientRecorder<EmbedRequest, EmbedEvent> recorder = ClientRecorder.unbounded();
    var requests = EmbedderGrpc.newStub(channel).embedSession(recorder);
    for (int r = 0; r < 3; r++) {
      requests.onNext(request("", TEXTS).toBuilder().setRequestId("r" + r).build());
    }
    requests.onCompleted();

    assertEquals(Status.Code.OK, recorder.awaitStatus().getCode());
    assertEquals(6, recorder.received().stream().filter(EmbedEvent::getFinal).count());
  }

  @Test
  void getModelInfo_overNetty_namesModel() {
    assertEquals(
        "all-minilm-l6-v2",
        EmbedderGrpc.newBlockingStub(channel)
            .getModelInfo(GetModelInfoRequest.getDefaultInstance())
            .getModel());
  }

  @Test
  void embed_badInputOverNetty_invalidArgumentAndServerKeepsServing() {
    EmbedderGrpc.EmbedderBlockingStub stub = EmbedderGrpc.newBlockingStub(channel);
    StatusRuntimeException e =
        assertThrows(StatusRuntimeException.class, () -> stub.embed(request("", List.of(""))));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
    assertEquals("input 0 is empty", e.getStatus().getDescription());
    assertEquals(2, stub.embed(request("", TEXTS)).getEmbeddingsCount());
  }

  @Test
  void healthAndReflection_overNetty_servingAndListed() throws Exception {
    assertEquals(
        ServingStatus.SERVING,
        HealthGrpc.newBlockingStub(channel)
            .check(HealthCheckRequest.getDefaultInstance())
            .getStatus());

    ClientRecorder<ServerReflectionRequest, ServerReflectionResponse> reflection =
        ClientRecorder.unbounded();
    var requests = ServerReflectionGrpc.newStub(channel).serverReflectionInfo(reflection);
    requests.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
    requests.onCompleted();
    assertEquals(Status.Code.OK, reflection.awaitStatus().getCode());
    List<String> services =
        reflection.received().get(0).getListServicesResponse().getServiceList().stream()
            .map(ServiceResponse::getName)
            .toList();
    assertTrue(services.contains("cascade.v1.Embedder"), services.toString());
    assertTrue(services.contains("grpc.health.v1.Health"), services.toString());
  }

  @Test
  void embedStream_slowReaderOverNetty_inputsWaitInsteadOfBuffering() throws Exception {
    long stalls = metrics.stallCount();
    List<String> texts = java.util.Collections.nCopies(32, "a slow reader reads this text");
    ClientRecorder<EmbedRequest, EmbedEvent> reader = new ClientRecorder<>(1);
    EmbedderGrpc.newStub(channel).embedStream(request("exact", texts), reader);

    assertEquals(1, reader.next().getLayer());
    Waits.until(() -> metrics.stallCount() > stalls, "the slow reader's inputs are held back");
    Waits.until(() -> server.busyWorkers() == 0, "no worker waits for the reader");
    assertEquals(1, reader.received().size());

    reader.request(Integer.MAX_VALUE);
    assertEquals(Status.Code.OK, reader.awaitStatus().getCode());
    Map<Integer, List<Integer>> layers = new HashMap<>();
    reader
        .received()
        .forEach(
            e ->
                layers
                    .computeIfAbsent(e.getInputIndex(), i -> new ArrayList<>())
                    .add(e.getLayer()));
    assertEquals(32, layers.size());
    layers.values().forEach(l -> assertEquals(List.of(1, 2, 3, 4, 5, 6), l));
  }

  @Test
  void embedStream_cancelOverNetty_stopsCompute() throws Exception {
    long stopped = metrics.stoppedCount(dev.cascade.policy.StopReason.CANCELLED);
    List<String> texts = java.util.Collections.nCopies(32, "a text to cancel");
    ClientRecorder<EmbedRequest, EmbedEvent> reader = new ClientRecorder<>(1);
    EmbedderGrpc.newStub(channel).embedStream(request("exact", texts), reader);
    reader.next();
    Waits.until(() -> metrics.stallCount() > 0, "the run is paused");
    reader.cancel();

    Waits.until(
        () -> metrics.stoppedCount(dev.cascade.policy.StopReason.CANCELLED) > stopped,
        "the cancelled run stops before its last layer");
  }

  @Test
  void embedStream_deadlineOverNetty_deadlineExceededAfterEarlierEvents() throws Exception {
    ClientRecorder<EmbedRequest, EmbedEvent> reader = new ClientRecorder<>(3);
    EmbedderGrpc.newStub(channel)
        .withDeadlineAfter(2, TimeUnit.SECONDS)
        .embedStream(
            request("exact", java.util.Collections.nCopies(32, "a text past its deadline")),
            reader);

    assertEquals(Status.Code.DEADLINE_EXCEEDED, reader.awaitStatus().getCode());
    assertEquals(3, reader.received().size());
  }

  @Test
  void metrics_afterCalls_servedAsPrometheusText() throws Exception {
    EmbedderGrpc.newBlockingStub(channel).embed(request("", TEXTS));
    HttpResponse<String> response =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + endpoint.port() + "/metrics"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());

    assertEquals(200, response.statusCode());
    String body = response.body();
    for (String expected :
        List.of(
            "cascade_requests_total{code=\"OK\",method=\"Embed\"}",
            "cascade_request_duration_seconds_bucket{method=\"Embed\",le=",
            "cascade_inputs_total{exit_layer=\"2\",reason=\"confident\"}",
            "cascade_layers_computed_total ",
            "cascade_layers_saved_total ",
            "cascade_requests_in_flight ",
            "cascade_inputs_waiting ",
            "cascade_steps_total ",
            "cascade_step_inputs_bucket{le=",
            "cascade_queue_wait_seconds_bucket",
            "cascade_tokens_total ")) {
      assertTrue(body.contains(expected), "missing " + expected + " in\n" + body);
    }
  }
}
