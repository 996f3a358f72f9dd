package dev.cascade.server.scheduler;

import dev.cascade.policy.StopReason;
import dev.cascade.runtime.InputRun;
import dev.cascade.runtime.RunSummary;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * One request admitted to the {@link LayerScheduler}: its inputs, what stops it and who hears how
 * it ended. Its fields are guarded by the scheduler's lock.
 */
public final class Ticket {
  /** How a request ends; exactly one method is called, once, on a scheduler or caller thread. */
  public interface Completion {
    /**
     * Compute ran; {@code summary.stopped()} says whether it stopped part-way.
     *
     * @param queueNanos from admission to the request's first step
     * @param computeNanos from its first step to its end
     */
    void ran(RunSummary summary, long queueNanos, long computeNanos);

    /** The request was stopped before any of its inputs was computed. */
    void dropped(StopReason reason);

    /** The engine failed on a step that held one of its inputs. */
    void failed(RuntimeException e);
  }

  final List<InputRun> runs;
  final long tokens;
  final Supplier<StopReason> stop;
  final BooleanSupplier ready;
  final Completion completion;
  final long admittedAt = System.nanoTime();
  final int layers;

  long firstStepAt = -1;
  int unfinished;
  int inStep;
  StopReason stopped;
  RuntimeException failure;
  boolean ended;
  boolean paused;

  Ticket(
      List<InputRun> runs,
      int layers,
      Supplier<StopReason> stop,
      BooleanSupplier ready,
      Completion completion) {
    this.runs = List.copyOf(runs);
    this.layers = layers;
    this.tokens = runs.stream().mapToLong(InputRun::tokens).sum();
    this.stop = stop;
    this.ready = ready;
    this.completion = completion;
    this.unfinished = runs.size();
  }

  /** Tokens of the request's inputs, summed. */
  public long tokens() {
    return tokens;
  }

  boolean done() {
    return inStep == 0 && (unfinished == 0 || stopped != null || failure != null);
  }

  RunSummary summary() {
    long computed = 0;
    long heads = 0;
    for (InputRun r : runs) {
      computed += r.layer();
      heads += r.headsEvaluated();
    }
    return new RunSummary(computed, (long) layers * runs.size() - computed, heads, stopped);
  }

  /** Tells the request's caller how it ended; runs outside the scheduler's lock. */
  void complete(long now) {
    if (failure != null) {
      completion.failed(failure);
    } else if (firstStepAt < 0) {
      completion.dropped(stopped);
    } else {
      completion.ran(summary(), firstStepAt - admittedAt, now - firstStepAt);
    }
  }
}
