package dev.cascade.server.scheduler;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cascade.policy.ExitBounds;
import dev.cascade.policy.Profile;
import dev.cascade.policy.StopReason;
import dev.cascade.runtime.ExitEvent;
import dev.cascade.runtime.InputRun;
import dev.cascade.runtime.RunSummary;
import dev.cascade.server.SharedRuntime;
import dev.cascade.server.metrics.ServerMetrics;
import dev.cascade.tokenize.TokenizedInput;
import dev.cascade.tokenize.Truncation;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The layer-wise scheduler, stepped by hand on MiniLM (6 layers) with test heads. */
class LayerSchedulerTest {
  private static final SchedulerOptions OPTIONS =
      new SchedulerOptions(1, 4096, 16, 100_000, StepPolicy.FULLEST);

  @RegisterExtension static final SharedRuntime runtime = new SharedRuntime();

  ServerMetrics metrics;

  @BeforeEach
  void newMetrics() {
    metrics = new ServerMetrics();
  }

  /** One request on the scheduler: its inputs' final events and how it ended. */
  static final class Request implements Ticket.Completion {
    final List<TokenizedInput> inputs;
    final ExitEvent[] finals;
    RunSummary summary;
    StopReason dropped;
    RuntimeException failure;
    int completions;
    Ticket ticket;

    Request(String... texts) {
      inputs = runtime.get().model().tokenizer().tokenize(List.of(texts), Truncation.REFUSE);
      finals = new ExitEvent[texts.length];
    }

    Request submit(LayerScheduler scheduler, String profile) {
      return submit(scheduler, profile, () -> null, () -> true);
    }

    Request submit(
        LayerScheduler scheduler,
        String profile,
        Supplier<StopReason> stop,
        BooleanSupplier ready) {
      Profile p = runtime.get().profile(profile);
      List<InputRun> runs = new ArrayList<>();
      for (int i = 0; i < inputs.size(); i++) {
        runs.add(
            new InputRun(
                inputs.get(i),
                i,
                p,
                ExitBounds.NONE,
                runtime.get().engine(),
                e -> {
                  if (e.isFinal()) {
                    finals[e.input()] = e;
                  }
                }));
      }
      ticket = scheduler.submit(runs, stop, ready, this);
      return this;
    }

    @Override
    public void ran(RunSummary summary, long queueNanos, long computeNanos) {
      this.summary = summary;
      completions++;
    }

    @Override
    public void dropped(StopReason reason) {
      this.dropped = reason;
      completions++;
    }

    @Override
    public void failed(RuntimeException e) {
      this.failure = e;
      completions++;
    }

    /** Ran to the end, each final embedding equal to the encoder's full-depth embedding. */
    void assertExact() {
      assertEquals(1, completions);
      assertNotNull(summary, "the request ran");
      assertNull(summary.stopped());
      float[][] reference = runtime.get().model().encoder().encode(inputs);
      for (int i = 0; i < inputs.size(); i++) {
        assertEquals(6, finals[i].layer());
        assertArrayEquals(reference[i], finals[i].embedding(), 2e-5f);
      }
    }
  }

  static int runAll(LayerScheduler scheduler) {
    int steps = 0;
    while (scheduler.stepOnce() > 0) {
      steps++;
    }
    return steps;
  }

  @Test
  void requestsAdmittedTogether_shareEveryLayerStep() {
    LayerScheduler scheduler = LayerScheduler.manual(runtime.get().engine(), OPTIONS, metrics);
    List<Request> requests = new ArrayList<>();
    for (String text : List.of("first request", "the second one", "third", "and a fourth text")) {
      requests.add(new Request(text).submit(scheduler, "exact"));
    }
    assertEquals(6, runAll(scheduler), "one step per layer for all four requests");
    assertEquals(24, metrics.stepInputsSum());
    requests.forEach(Request::assertExact);
    assertEquals(0, scheduler.requestsInFlight());
  }

  @Test
  void fullest_newInputsCatchUpWithAnEarlierOneAndJoinItsSteps() {
    LayerScheduler scheduler = LayerScheduler.manual(runtime.get().engine(), OPTIONS, metrics);
    Request early = new Request("one earlier input").submit(scheduler, "exact");
    scheduler.stepOnce();
    scheduler.stepOnce();
    Request late =
        new Request("two later inputs, a little longer", "the second later input")
            .submit(scheduler, "exact");

    assertEquals(2, scheduler.stepOnce(), "the larger group at layer 0 goes first");
    assertEquals(2, scheduler.stepOnce(), "and again at layer 1, up to the earlier input");
    for (int layer = 2; layer < 6; layer++) {
      assertEquals(3, scheduler.stepOnce(), "layer " + layer + " runs all three inputs at once");
    }
    assertEquals(0, scheduler.stepOnce());
    early.assertExact();
    late.assertExact();
  }

  @Test
  void fullest_equalGroupsMergeAndASingleNewcomerWaits() {
    LayerScheduler scheduler = LayerScheduler.manual(runtime.get().engine(), OPTIONS, metrics);
    Request early = new Request("an earlier input", "and its companion").submit(scheduler, "exact");
    scheduler.stepOnce();
    scheduler.stepOnce();
    Request late = new Request("a later input", "another later one").submit(scheduler, "exact");
    assertEquals(2, scheduler.stepOnce(), "on a tie the shallower group catches up");
    assertEquals(2, scheduler.stepOnce());
    assertEquals(4, scheduler.stepOnce(), "and joins the earlier group at layer 2");
    Request single = new Request("one newcomer").submit(scheduler, "exact");
    for (int layer = 3; layer < 6; layer++) {
      assertEquals(4, scheduler.stepOnce(), "the larger group goes on at layer " + layer);
    }
    for (int layer = 0; layer < 6; layer++) {
      assertEquals(1, scheduler.stepOnce(), "then the newcomer, layer " + layer);
    }
    assertEquals(0, scheduler.stepOnce());
    early.assertExact();
    late.assertExact();
    single.assertExact();
  }

  @Test
  void stoppedInputsLeaveAtTheirExit() {
    LayerScheduler scheduler = LayerScheduler.manual(runtime.get().engine(), OPTIONS, metrics);
    Request balanced =
        new Request("stops at layer 2", "so does this one").submit(scheduler, "balanced");
    Request exact = new Request("runs to the end").submit(scheduler, "exact");
    assertEquals(3, scheduler.stepOnce());
    assertEquals(3, scheduler.stepOnce());
    for (int layer = 2; layer < 6; layer++) {
      assertEquals(1, scheduler.stepOnce(), "only the exact input is left after layer 2");
    }
    assertEquals(2, balanced.finals[0].layer());
    assertEquals(StopReason.CONFIDENT, balanced.finals[1].reason());
    assertEquals(4, balanced.summary.layersComputed());
    assertEquals(8, balanced.summary.layersSaved());
    exact.assertExact();
  }

  @Test
  void staticBatching_newInputsWaitUntilTheWholeBatchFinishes() {
    LayerScheduler scheduler =
        LayerScheduler.manual(
            runtime.get().engine(), OPTIONS.withPolicy(StepPolicy.STATIC), metrics);
    Request first = new Request("in the first batch").submit(scheduler, "exact");
    scheduler.stepOnce();
    Request second = new Request("arrives during the first batch").submit(scheduler, "exact");
    for (int layer = 1; layer < 6; layer++) {
      assertEquals(1, scheduler.stepOnce());
    }
    first.assertExact();
    assertEquals(0, second.completions, "the second request has not started");
    assertEquals(6, runAll(scheduler));
    second.assertExact();
  }

  @Test
  void oldest_finishesTheOldestRequestBeforeStartingANewOne() {
    LayerScheduler scheduler =
        LayerScheduler.manual(
            runtime.get().engine(), OPTIONS.withPolicy(StepPolicy.OLDEST), metrics);
    Request first = new Request("an older request").submit(scheduler, "exact");
    scheduler.stepOnce();
    Request second = new Request("new", "and bigger", "request").submit(scheduler, "exact");
    for (int layer = 1; layer < 6; layer++) {
      assertEquals(1, scheduler.stepOnce());
    }
    first.assertExact();
    assertEquals(6, runAll(scheduler));
    second.assertExact();
  }

  @Test
  void requestStoppedBeforeCompute_droppedWithoutComputingAnything() {
    LayerScheduler scheduler = LayerScheduler.manual(runtime.get().engine(), OPTIONS, metrics);
    Request expired =
        new Request("expired while queued")
            .submit(scheduler, "exact", () -> StopReason.DEADLINE_EXCEEDED, () -> true);
    assertEquals(0, scheduler.stepOnce());
    assertEquals(StopReason.DEADLINE_EXCEEDED, expired.dropped);
    assertEquals(1, expired.completions);
    assertEquals(1, metrics.droppedCount(StopReason.DEADLINE_EXCEEDED));
    assertEquals(0, metrics.layersComputed());
    assertEquals(0, scheduler.requestsInFlight());
  }

  @Test
  void cancelledMidRun_leavesBeforeTheNextStep() {
    LayerScheduler scheduler = LayerScheduler.manual(runtime.get().engine(), OPTIONS, metrics);
    Request cancelled = new Request("cancelled", "after two layers").submit(scheduler, "exact");
    Request other = new Request("keeps going").submit(scheduler, "exact");
    scheduler.stepOnce();
    scheduler.stepOnce();
    scheduler.cancel(cancelled.ticket, StopReason.CANCELLED);
    assertEquals(1, cancelled.completions);
    assertEquals(StopReason.CANCELLED, cancelled.summary.stopped());
    assertEquals(4, cancelled.summary.layersComputed());
    assertNull(cancelled.finals[0]);
    assertEquals(1, scheduler.stepOnce(), "only the other request's input runs on");
    runAll(scheduler);
    other.assertExact();
    assertEquals(1, cancelled.completions, "a cancelled request completes once");
  }

  @Test
  void requestNotReady_passedOverWhileOthersRun() {
    LayerScheduler scheduler = LayerScheduler.manual(runtime.get().engine(), OPTIONS, metrics);
    AtomicBoolean reading = new AtomicBoolean(false);
    Request slow =
        new Request("a slow reader's input").submit(scheduler, "exact", () -> null, reading::get);
    Request fast = new Request("served meanwhile").submit(scheduler, "exact");
    assertEquals(6, runAll(scheduler));
    fast.assertExact();
    assertEquals(0, slow.completions);
    assertEquals(1, metrics.stallCount());
    reading.set(true);
    assertEquals(6, runAll(scheduler));
    slow.assertExact();
  }

  @Test
  void admission_beyondRequestOrTokenBounds_refusedAtOnceNamingTheLimit() {
    LayerScheduler scheduler =
        LayerScheduler.manual(runtime.get().engine(), OPTIONS.withQueue(2, 40), metrics);
    new Request("one").submit(scheduler, "exact");
    new Request("two").submit(scheduler, "exact");
    RejectedExecutionException e =
        assertThrows(
            RejectedExecutionException.class,
            () -> new Request("three").submit(scheduler, "exact"));
    assertEquals(
        "the server has 2 requests in flight, its limit; retry later or on another server",
        e.getMessage());
    runAll(scheduler);

    String longText = "many words ".repeat(20);
    e =
        assertThrows(
            RejectedExecutionException.class,
            () -> new Request(longText).submit(scheduler, "exact"));
    assertTrue(e.getMessage().contains("would pass its limit of 40"), e.getMessage());
    assertEquals(0, scheduler.requestsInFlight());
  }

  @Test
  void batchTokenCap_groupsTheOldestInputWithTheClosestLengths() {
    LayerScheduler scheduler =
        LayerScheduler.manual(runtime.get().engine(), OPTIONS.withBatchTokens(40), metrics);
    String longText = "word ".repeat(15);
    Request shortFirst = new Request("short one", "short two").submit(scheduler, "exact");
    Request longOnes = new Request(longText, longText).submit(scheduler, "exact");
    assertEquals(2, scheduler.stepOnce(), "the two short inputs fit 40 tokens, the long ones not");
    runAll(scheduler);
    shortFirst.assertExact();
    longOnes.assertExact();
  }

  @Test
  void staticBatching_computesStoppedInputsOnUntilTheBatchEnds() {
    double[] tokens = new double[2];
    StepPolicy[] policies = {StepPolicy.STATIC, StepPolicy.STATIC_SHRINKING};
    Request stopping = null;
    for (int i = 0; i < 2; i++) {
      ServerMetrics m = new ServerMetrics();
      LayerScheduler scheduler =
          LayerScheduler.manual(runtime.get().engine(), OPTIONS.withPolicy(policies[i]), m);
      stopping = new Request("stops at layer 2", "and so does this").submit(scheduler, "balanced");
      Request exact = new Request("runs all six layers").submit(scheduler, "exact");
      assertEquals(6, runAll(scheduler));
      exact.assertExact();
      assertEquals(2, stopping.finals[0].layer());
      tokens[i] = m.stepTokensSum();
    }
    double stoppedTokens = stopping.inputs.stream().mapToInt(TokenizedInput::length).sum();
    assertEquals(
        4 * stoppedTokens,
        tokens[0] - tokens[1],
        "layers 3 to 6 carry the stopped inputs' rows under static batching only");
  }
}
