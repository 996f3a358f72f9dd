package dev.cascade.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cascade.api.v1.EmbedEvent;
import dev.cascade.api.v1.EmbedRequest;
import dev.cascade.api.v1.EmbedResponse;
import dev.cascade.api.v1.EmbedderGrpc;
import dev.cascade.api.v1.Embedding;
import dev.cascade.api.v1.GetModelInfoRequest;
import dev.cascade.api.v1.ModelInfo;
import dev.cascade.api.v1.ProfileInfo;
import dev.cascade.api.v1.StopReason;
import dev.cascade.server.scheduler.SchedulerOptions;
import dev.cascade.server.scheduler.StepPolicy;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The Embedder service over an in-process transport, on MiniLM with test heads. */
class EmbedderServiceTest {
  /** One worker, one request in flight at a time, one buffered event. */
  static final ServerOptions OPTIONS =
      new ServerOptions(8, 2000, 1, new SchedulerOptions(1, 4096, 1, 10_000, StepPolicy.FULLEST));

  /** Like {@link #OPTIONS} with room for several requests in flight. */
  static final ServerOptions ROOMY =
      OPTIONS.withScheduler(OPTIONS.scheduler().withQueue(8, 10_000));

  static final List<String> TEXTS =
      List.of(
          "How do I read a file line by line in Java?",
          "Returns the index-th value in the iterable's Iterator.",
          "Zürich, São Paulo and Kraków are cities.");

  @RegisterExtension static final SharedRuntime runtime = new SharedRuntime();

  InProcessServer served;
  EmbedderGrpc.EmbedderBlockingStub blocking;
  EmbedderGrpc.EmbedderStub async;

  @BeforeEach
  void start() throws Exception {
    start(OPTIONS);
  }

  void start(ServerOptions options) throws Exception {
    served = InProcessServer.start(runtime.get(), options);
    served.server().warmUp();
    blocking = EmbedderGrpc.newBlockingStub(served.channel());
    async = EmbedderGrpc.newStub(served.channel());
  }

  @AfterEach
  void stop() throws Exception {
    served.close();
  }

  static EmbedRequest request(String profile, List<String> texts) {
    return EmbedRequest.newBuilder()
        .setRequestId("r")
        .setProfile(profile)
        .addAllInputs(texts)
        .build();
  }

  @Test
  void embed_noProfile_usesBalancedAndExitsEarly() {
    EmbedResponse response = blocking.embed(request("", TEXTS));

    assertEquals("balanced", response.getProfile());
    assertEquals("r", response.getRequestId());
    assertEquals(TEXTS.size(), response.getEmbeddingsCount());
    for (int i = 0; i < TEXTS.size(); i++) {
      Embedding e = response.getEmbeddings(i);
      assertEquals(i, e.getInputIndex());
      assertEquals(2, e.getLayer());
      assertEquals(StopReason.CONFIDENT, e.getReason());
      assertEquals(384, e.getEmbeddingCount());
      assertEquals(1.0, norm(e.getEmbeddingList()), 1e-4);
      assertTrue(e.getTokens() > 2);
    }
    assertEquals(2L * TEXTS.size(), response.getLayersComputed());
    assertEquals(4L * TEXTS.size(), response.getLayersSaved());
    assertTrue(response.hasQueueTime() && response.hasComputeTime());
    assertEquals(
        TEXTS.size(), served.metrics().inputCount(2, dev.cascade.policy.StopReason.CONFIDENT));
  }

  @Test
  void embed_exactProfile_runsEveryLayer() {
    EmbedResponse response = blocking.embed(request("exact", TEXTS));

    for (Embedding e : response.getEmbeddingsList()) {
      assertEquals(6, e.getLayer());
      assertEquals(StopReason.LAST_LAYER, e.getReason());
      assertEquals(1.0f, e.getConfidence());
    }
    assertEquals(0, response.getLayersSaved());
  }

  @Test
  void embed_maxExitLayer_stopsThereWithMaxExit() {
    EmbedResponse response =
        blocking.embed(request("exact", TEXTS).toBuilder().setMaxExitLayer(3).build());

    for (Embedding e : response.getEmbeddingsList()) {
      assertEquals(3, e.getLayer());
      assertEquals(StopReason.MAX_EXIT, e.getReason());
    }
  }

  @Test
  void embed_minExitLayer_keepsInputsGoingUntilThere() {
    EmbedResponse response =
        blocking.embed(request("balanced", TEXTS).toBuilder().setMinExitLayer(4).build());

    for (Embedding e : response.getEmbeddingsList()) {
      assertEquals(4, e.getLayer());
      assertEquals(StopReason.CONFIDENT, e.getReason());
    }
  }

  @Test
  void embed_dimensions_keepsFirstDimensionsRenormalised() {
    Embedding full = blocking.embed(request("exact", TEXTS)).getEmbeddings(0);
    Embedding cut =
        blocking
            .embed(request("exact", TEXTS).toBuilder().setDimensions(64).build())
            .getEmbeddings(0);

    assertEquals(64, cut.getEmbeddingCount());
    assertEquals(1.0, norm(cut.getEmbeddingList()), 1e-4);
    double scale = norm(full.getEmbeddingList().subList(0, 64));
    for (int i = 0; i < 64; i++) {
      assertEquals(full.getEmbedding(i) / scale, cut.getEmbedding(i), 1e-5);
    }
  }

  @Test
  void embedStream_exactProfile_eventsInLayerOrderAndFinalEqualsEmbed() {
    EmbedResponse unary = blocking.embed(request("exact", TEXTS));
    Iterator<EmbedEvent> events = blocking.embedStream(request("exact", TEXTS));

    Map<Integer, List<EmbedEvent>> byInput = new HashMap<>();
    events.forEachRemaining(
        e -> byInput.computeIfAbsent(e.getInputIndex(), i -> new ArrayList<>()).add(e));

    assertEquals(TEXTS.size(), byInput.size());
    for (int i = 0; i < TEXTS.size(); i++) {
      List<EmbedEvent> list = byInput.get(i);
      assertEquals(List.of(1, 2, 3, 4, 5, 6), list.stream().map(EmbedEvent::getLayer).toList());
      for (int k = 0; k < list.size() - 1; k++) {
        assertFalse(list.get(k).getFinal());
        assertEquals(StopReason.STOP_REASON_UNSPECIFIED, list.get(k).getReason());
      }
      EmbedEvent last = list.get(list.size() - 1);
      assertTrue(last.getFinal());
      Embedding expected = unary.getEmbeddings(i);
      assertEquals(expected.getLayer(), last.getLayer());
      assertEquals(expected.getReason(), last.getReason());
      assertEquals(expected.getTokens(), last.getTokens());
      assertArrayEquals(
          floats(expected.getEmbeddingList()), floats(last.getEmbeddingList()), 1e-6f);
    }
  }

  @Test
  void embedStream_balancedProfile_finalEqualsEmbed() {
    EmbedResponse unary = blocking.embed(request("balanced", TEXTS));
    List<EmbedEvent> finals = new ArrayList<>();
    blocking
        .embedStream(request("balanced", TEXTS))
        .forEachRemaining(
            e -> {
              if (e.getFinal()) {
                finals.add(e);
              }
            });

    assertEquals(TEXTS.size(), finals.size());
    for (EmbedEvent e : finals) {
      Embedding expected = unary.getEmbeddings(e.getInputIndex());
      assertEquals(2, e.getLayer());
      assertEquals(expected.getConfidence(), e.getConfidence());
      assertArrayEquals(floats(expected.getEmbeddingList()), floats(e.getEmbeddingList()), 1e-6f);
    }
  }

  @Test
  void embedSession_twoRequests_servedInOrderWithTheirIds() throws Exception {
    ClientRecorder<EmbedRequest, EmbedEvent> recorder = ClientRecorder.unbounded();
    var requests = async.embedSession(recorder);
    requests.onNext(request("balanced", TEXTS).toBuilder().setRequestId("first").build());
    requests.onNext(
        request("exact", TEXTS.subList(0, 1)).toBuilder().setRequestId("second").build());
    requests.onCompleted();

    assertEquals(Status.Code.OK, recorder.awaitStatus().getCode());
    List<String> ids = recorder.received().stream().map(EmbedEvent::getRequestId).toList();
    int firstOfSecond = ids.indexOf("second");
    assertTrue(firstOfSecond > 0);
    assertTrue(ids.subList(0, firstOfSecond).stream().allMatch("first"::equals));
    assertTrue(ids.subList(firstOfSecond, ids.size()).stream().allMatch("second"::equals));
    assertEquals(
        TEXTS.size() + 1, recorder.received().stream().filter(EmbedEvent::getFinal).count());
  }

  @Test
  void embedSession_invalidRequest_endsWithItsIdAndStatus() throws Exception {
    ClientRecorder<EmbedRequest, EmbedEvent> recorder = ClientRecorder.unbounded();
    var requests = async.embedSession(recorder);
    requests.onNext(request("exact", TEXTS.subList(0, 1)).toBuilder().setRequestId("ok").build());
    requests.onNext(EmbedRequest.newBuilder().setRequestId("bad").build());

    Status status = recorder.awaitStatus();
    assertEquals(Status.Code.INVALID_ARGUMENT, status.getCode());
    assertEquals("request bad: request has no inputs; send 1 to 8", status.getDescription());
    assertEquals(1, recorder.received().stream().filter(EmbedEvent::getFinal).count());
  }

  @Test
  void getModelInfo_describesModelExitsLimitsAndProfiles() {
    ModelInfo info = blocking.getModelInfo(GetModelInfoRequest.getDefaultInstance());

    assertEquals("all-minilm-l6-v2", info.getModel());
    assertEquals(6, info.getLayers());
    assertEquals(384, info.getHiddenSize());
    assertEquals(List.of(1, 2, 3, 4, 5), info.getExitLayersList());
    assertEquals(128, info.getMaxTokens());
    assertEquals("balanced", info.getDefaultProfile());
    assertEquals(8, info.getMaxInputsPerRequest());
    assertEquals(2000, info.getMaxCharsPerInput());
    assertEquals("mean", info.getPooling());
    assertEquals(64, info.getWeightsSha256().length());
    assertEquals(
        List.of("balanced", "exact"),
        info.getProfilesList().stream().map(ProfileInfo::getName).toList());
  }

  // ---- errors: INVALID_ARGUMENT with what was wrong and the limit; the server keeps serving ----

  void assertInvalid(EmbedRequest request, String description) {
    StatusRuntimeException e =
        assertThrows(StatusRuntimeException.class, () -> blocking.embed(request));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), e.getMessage());
    assertTrue(
        e.getStatus().getDescription().contains(description),
        "expected '" + description + "' in: " + e.getStatus().getDescription());
    assertEquals(TEXTS.size(), blocking.embed(request("", TEXTS)).getEmbeddingsCount());
  }

  @Test
  void embed_noInputs_invalidArgument() {
    assertInvalid(request("", List.of()), "request has no inputs; send 1 to 8");
  }

  @Test
  void embed_emptyInput_invalidArgument() {
    assertInvalid(request("", List.of("fine", " ")), "input 1 is empty");
  }

  @Test
  void embed_tooManyInputs_invalidArgumentNamingLimit() {
    assertInvalid(
        request("", java.util.Collections.nCopies(9, "text")),
        "request has 9 inputs; the limit is 8 per request");
  }

  @Test
  void embed_tooManyCharacters_invalidArgumentNamingLimit() {
    assertInvalid(
        request("", List.of("ok", "x".repeat(2001))),
        "input 1 has 2001 characters; the limit is 2000 per input");
  }

  @Test
  void embed_overLengthWithoutTruncate_invalidArgumentNamingTokenLimit() {
    assertInvalid(request("", List.of("word ".repeat(300))), "the model accepts at most 128");
  }

  @Test
  void embed_overLengthWithTruncate_truncatedToLimit() {
    Embedding e =
        blocking
            .embed(request("", List.of("word ".repeat(300))).toBuilder().setTruncate(true).build())
            .getEmbeddings(0);
    assertTrue(e.getTruncated());
    assertEquals(128, e.getTokens());
  }

  @Test
  void embed_minExitAboveMaxExit_invalidArgument() {
    assertInvalid(
        request("", TEXTS).toBuilder().setMinExitLayer(4).setMaxExitLayer(2).build(),
        "min exit layer 4 is above max exit layer 2");
  }

  @Test
  void embed_minExitBeyondModel_invalidArgument() {
    assertInvalid(
        request("", TEXTS).toBuilder().setMinExitLayer(7).build(),
        "min exit layer 7 is beyond the model's 6 layers");
  }

  @Test
  void embed_maxExitBeyondModel_invalidArgument() {
    assertInvalid(
        request("", TEXTS).toBuilder().setMaxExitLayer(-1).build(),
        "max exit layer 2147483647 is beyond the model's 6 layers");
  }

  @Test
  void embed_unknownProfile_invalidArgumentListingProfiles() {
    assertInvalid(request("fastest", TEXTS), "unknown profile 'fastest'; this server offers");
  }

  @Test
  void embed_dimensionsAboveHiddenSize_invalidArgument() {
    assertInvalid(
        request("", TEXTS).toBuilder().setDimensions(385).build(),
        "dimensions 385 is out of range: use 0 for all 384, or 1 to 384");
  }

  @Test
  void embedStream_invalidRequest_invalidArgumentBeforeAnyEvent() throws Exception {
    ClientRecorder<EmbedRequest, EmbedEvent> recorder = ClientRecorder.unbounded();
    async.embedStream(request("nope", TEXTS), recorder);

    Status status = recorder.awaitStatus();
    assertEquals(Status.Code.INVALID_ARGUMENT, status.getCode());
    assertTrue(recorder.received().isEmpty());
    assertEquals(0, served.metrics().callCount("EmbedStream", Status.Code.INTERNAL));
  }

  // ---- flow control, cancellation, deadlines, overload ----

  /**
   * Starts a stream whose client reads nothing, so that its input is held back after its second
   * event; the request stays in flight until the returned call is cancelled or read.
   */
  ClientRecorder<EmbedRequest, EmbedEvent> pausedStream(List<String> texts) {
    long stalls = served.metrics().stallCount();
    ClientRecorder<EmbedRequest, EmbedEvent> blocker = new ClientRecorder<>(0);
    async.embedStream(request("exact", texts), blocker);
    Waits.until(
        () -> served.metrics().stallCount() > stalls, "the scheduler holds the slow reader back");
    return blocker;
  }

  /** Restarts the server with other options. */
  void restart(ServerOptions options) throws Exception {
    stop();
    start(options);
  }

  @Test
  void embedStream_slowReader_holdsItsInputsBackWithoutHoldingTheWorker() throws Exception {
    restart(ROOMY);
    ClientRecorder<EmbedRequest, EmbedEvent> reader = pausedStream(TEXTS.subList(0, 1));

    // The input waits after layer 2 (one event buffered, one to send): nothing was read.
    assertEquals(0, reader.received().size());
    Waits.until(() -> served.server().busyWorkers() == 0, "the worker is free");
    EmbedResponse meanwhile = blocking.embed(request("exact", TEXTS));
    assertEquals(TEXTS.size(), meanwhile.getEmbeddingsCount());
    for (int layer = 1; layer <= 6; layer++) {
      reader.request(1);
      assertEquals(layer, reader.next().getLayer());
    }
    assertEquals(Status.Code.OK, reader.awaitStatus().getCode());
  }

  @Test
  void embedStream_clientCancels_stopsComputeAtNextLayer() throws Exception {
    long before = served.metrics().layersComputed();
    ClientRecorder<EmbedRequest, EmbedEvent> reader = new ClientRecorder<>(1);
    async.embedStream(request("exact", TEXTS), reader);
    assertEquals(1, reader.next().getLayer());
    reader.cancel();
    assertEquals(Status.Code.CANCELLED, reader.awaitStatus().getCode());

    Waits.until(
        () -> served.metrics().stoppedCount(dev.cascade.policy.StopReason.CANCELLED) == 1,
        "the run stops");
    long computed = served.metrics().layersComputed() - before;
    assertTrue(computed > 0);
    assertTrue(
        computed < 6L * TEXTS.size(),
        "cancelled run computed " + computed + " of " + 6 * TEXTS.size() + " layers");
  }

  @Test
  void embed_deadlinePassesWhileQueued_droppedWithoutCompute() throws Exception {
    restart(
        OPTIONS.withScheduler(
            OPTIONS.scheduler().withQueue(8, 10_000).withPolicy(StepPolicy.STATIC)));
    // Static batching: a new request waits until the paused stream's batch has finished.
    ClientRecorder<EmbedRequest, EmbedEvent> blocker = pausedStream(TEXTS.subList(0, 1));
    long before = served.metrics().layersComputed();

    StatusRuntimeException e =
        assertThrows(
            StatusRuntimeException.class,
            () ->
                blocking
                    .withDeadlineAfter(300, TimeUnit.MILLISECONDS)
                    .embed(request("exact", java.util.Collections.nCopies(8, "queued text"))));
    assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode());
    Waits.until(
        () -> served.metrics().droppedCount(dev.cascade.policy.StopReason.DEADLINE_EXCEEDED) == 1,
        "the queued request is dropped");
    assertEquals(
        before, served.metrics().layersComputed(), "nothing was computed for the dropped request");
    blocker.cancel();
    assertEquals(6, blocking.embed(request("exact", TEXTS.subList(0, 1))).getLayersComputed());
  }

  @Test
  void embedStream_deadlinePasses_keepsEarlierEventsAndEndsDeadlineExceeded() throws Exception {
    ClientRecorder<EmbedRequest, EmbedEvent> reader = new ClientRecorder<>(2);
    async
        .withDeadlineAfter(500, TimeUnit.MILLISECONDS)
        .embedStream(request("exact", TEXTS.subList(0, 1)), reader);

    Status status = reader.awaitStatus();
    assertEquals(Status.Code.DEADLINE_EXCEEDED, status.getCode());
    assertEquals(List.of(1, 2), reader.received().stream().map(EmbedEvent::getLayer).toList());
    Waits.until(
        () -> served.metrics().stoppedCount(dev.cascade.policy.StopReason.DEADLINE_EXCEEDED) == 1,
        "the run stops for the deadline");
  }

  @Test
  void embed_serverFull_resourceExhaustedAtOnce() throws Exception {
    ClientRecorder<EmbedRequest, EmbedEvent> blocker = pausedStream(TEXTS.subList(0, 1));

    StatusRuntimeException e =
        assertThrows(StatusRuntimeException.class, () -> blocking.embed(request("", TEXTS)));
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode());
    assertEquals(
        "the server has 1 requests in flight, its limit; retry later or on another server",
        e.getStatus().getDescription());

    blocker.cancel();
    Waits.until(() -> served.server().requestsInFlight() == 0, "the cancelled stream leaves");
    assertEquals(TEXTS.size(), blocking.embed(request("", TEXTS)).getEmbeddingsCount());
    assertEquals(1, served.metrics().callCount("Embed", Status.Code.RESOURCE_EXHAUSTED));
  }

  @Test
  void embed_concurrentSingleInputRequests_shareEveryLayerStep() throws Exception {
    // Static batching holds the 16 requests back until the paused stream's batch ends, so that
    // they are all waiting when the next batch starts.
    restart(
        ROOMY.withScheduler(
            ROOMY.scheduler().withQueue(64, 100_000).withPolicy(StepPolicy.STATIC)));
    List<ClientRecorder<EmbedRequest, EmbedResponse>> calls = new ArrayList<>();
    ClientRecorder<EmbedRequest, EmbedEvent> blocker = pausedStream(TEXTS.subList(0, 1));
    long steps = served.metrics().stepCount();
    for (int i = 0; i < 16; i++) {
      ClientRecorder<EmbedRequest, EmbedResponse> call = ClientRecorder.unbounded();
      async.embed(request("exact", List.of("request number " + i)), call);
      calls.add(call);
    }
    blocker.cancel();
    for (ClientRecorder<EmbedRequest, EmbedResponse> call : calls) {
      assertEquals(Status.Code.OK, call.awaitStatus().getCode());
    }
    Waits.until(() -> served.server().requestsInFlight() == 0, "every request has left");
    assertEquals(6, served.metrics().stepCount() - steps, "one step per layer for all 16 requests");
  }

  static double norm(List<Float> v) {
    double s = 0;
    for (float x : v) {
      s += (double) x * x;
    }
    return Math.sqrt(s);
  }

  static float[] floats(List<Float> v) {
    float[] out = new float[v.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = v.get(i);
    }
    return out;
  }
}
