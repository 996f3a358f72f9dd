package dev.cascade.server.scheduler;

import dev.cascade.policy.StopReason;
import dev.cascade.runtime.CascadeEngine;
import dev.cascade.runtime.InputRun;
import dev.cascade.server.metrics.ServerMetrics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;
import java.util.function.Supplier;

/**
 * Runs the inputs of every request through the encoder one layer at a time, batching across
 * requests at every layer.
 *
 * <p>Requests are admitted while the requests and tokens admitted and not yet finished stay within
 * their bounds; beyond them a request is refused at once. Each engine worker repeatedly takes a
 * step: it picks a layer by the {@link StepPolicy}, takes the inputs waiting there (oldest first,
 * grouped by length, up to the cap on batch tokens) and runs that one layer for all of them as one
 * batch. Inputs that stop leave at their exit; new inputs start at layer 0 on a later step; the
 * inputs of a cancelled or expired request leave before the next step, and are never computed if it
 * had not started. A request whose caller cannot take more events (a slow streaming reader) is
 * passed over until {@link #wake()} says it can.
 *
 * <p>Thread-safe.
 */
public final class LayerScheduler implements AutoCloseable {
  /** A waiting input, with the step count when it was admitted. */
  private static final class Entry {
    final InputRun run;
    final Ticket ticket;
    final long admitted;

    Entry(InputRun run, Ticket ticket, long admitted) {
      this.run = run;
      this.ticket = ticket;
      this.admitted = admitted;
    }
  }

  /** The inputs of one step, and the rows of stopped inputs a static batch carries with them. */
  private record Step(List<Entry> group, int[] ballast) {}

  private final CascadeEngine engine;
  private final SchedulerOptions options;
  private final ServerMetrics metrics;
  private final int layers;
  private final List<List<Entry>> waiting = new ArrayList<>();
  private final List<Thread> workers = new ArrayList<>();
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition work = lock.newCondition();
  private final Condition idle = lock.newCondition();

  private final List<Ticket> toFinish = new ArrayList<>();

  /** Under {@link StepPolicy#STATIC}: token counts of the stopped inputs the batch carries on. */
  private final List<Integer> ballast = new ArrayList<>();

  private long steps;
  private int admittedRequests;
  private long admittedTokens;
  private int busy;
  private int inBatch;
  private boolean shuttingDown;
  private boolean closed;

  /** Starts {@code options.workers()} engine threads. */
  public LayerScheduler(CascadeEngine engine, SchedulerOptions options, ServerMetrics metrics) {
    this(engine, options, metrics, true);
  }

  /** A scheduler without threads, whose steps run only through {@link #stepOnce()}. */
  static LayerScheduler manual(CascadeEngine engine, SchedulerOptions options, ServerMetrics m) {
    return new LayerScheduler(engine, options, m, false);
  }

  private LayerScheduler(
      CascadeEngine engine, SchedulerOptions options, ServerMetrics metrics, boolean threads) {
    this.engine = engine;
    this.options = options;
    this.metrics = metrics;
    this.layers = engine.model().encoder().config().layers();
    for (int i = 0; i < layers; i++) {
      waiting.add(new ArrayList<>());
    }
    for (int i = 0; threads && i < options.workers(); i++) {
      Thread t = new Thread(this::work, "cascade-engine-" + (i + 1));
      t.setDaemon(true);
      workers.add(t);
      t.start();
    }
  }

  /**
   * Admits a request.
   *
   * @param runs its inputs, none started
   * @param stop asked before its inputs are computed; non-null stops the request
   * @param ready whether its caller can take more events now; when false its inputs wait
   * @throws RejectedExecutionException when admitting it would exceed the bounds, or on shutdown
   */
  public Ticket submit(
      List<InputRun> runs,
      Supplier<StopReason> stop,
      BooleanSupplier ready,
      Ticket.Completion completion) {
    Ticket ticket = new Ticket(runs, layers, stop, ready, completion);
    lock.lock();
    try {
      if (shuttingDown) {
        throw new RejectedExecutionException("the server is shutting down");
      }
      if (admittedRequests + 1 > options.queueRequests()) {
        throw new RejectedExecutionException(
            "the server has "
                + admittedRequests
                + " requests in flight, its limit; retry later or on another server");
      }
      if (admittedTokens + ticket.tokens > options.queueTokens()) {
        throw new RejectedExecutionException(
            "the server has "
                + admittedTokens
                + " tokens in flight and this request's "
                + ticket.tokens
                + " would pass its limit of "
                + options.queueTokens()
                + "; retry later or on another server");
      }
      admittedRequests++;
      admittedTokens += ticket.tokens;
      for (InputRun run : ticket.runs) {
        waiting.get(0).add(new Entry(run, ticket, steps));
      }
      work.signal();
    } finally {
      lock.unlock();
    }
    return ticket;
  }

  /**
   * Stops a request: its waiting inputs leave at once, those in a running step when it ends. Its
   * completion runs once none of its inputs is computing.
   */
  public void cancel(Ticket ticket, StopReason reason) {
    boolean end;
    lock.lock();
    try {
      if (ticket.ended || ticket.done()) {
        return;
      }
      if (ticket.stopped == null) {
        ticket.stopped = reason;
      }
      for (List<Entry> list : waiting) {
        list.removeIf(e -> e.ticket == ticket);
      }
      end = endIfDone(ticket);
      work.signalAll();
    } finally {
      lock.unlock();
    }
    if (end) {
      finish(ticket);
    }
  }

  /** Tells the scheduler that a request passed over as not ready may be ready now. */
  public void wake() {
    lock.lock();
    try {
      work.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** Requests admitted and not yet finished. */
  public int requestsInFlight() {
    return locked(() -> admittedRequests);
  }

  /** Inputs waiting for their next layer. */
  public int inputsWaiting() {
    return locked(() -> waiting.stream().mapToInt(List::size).sum());
  }

  /** Workers running a step. */
  public int busyWorkers() {
    return locked(() -> busy);
  }

  private int locked(IntSupplier read) {
    lock.lock();
    try {
      return read.getAsInt();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Refuses new requests and waits up to {@code timeout} for those admitted to finish.
   *
   * @return whether they all finished in time
   */
  public boolean shutdown(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    lock.lock();
    try {
      shuttingDown = true;
      while (admittedRequests > 0) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        idle.awaitNanos(left);
      }
      return true;
    } finally {
      lock.unlock();
    }
  }

  /** Stops the workers after their current step; requests still admitted are not completed. */
  @Override
  public void close() {
    lock.lock();
    try {
      shuttingDown = true;
      closed = true;
      work.signalAll();
    } finally {
      lock.unlock();
    }
    for (Thread t : workers) {
      try {
        t.join(TimeUnit.SECONDS.toMillis(10));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private void work() {
    while (true) {
      List<Ticket> stopped = new ArrayList<>();
      Step step = take(true, stopped);
      if (step == null && stopped.isEmpty()) {
        return;
      }
      stopped.forEach(this::finish);
      if (step != null) {
        run(step);
      }
    }
  }

  /**
   * Takes one step on the calling thread, as a worker would, after finishing requests found
   * stopped.
   *
   * @return the number of inputs stepped; 0 when nothing was ready
   */
  int stepOnce() {
    List<Ticket> stopped = new ArrayList<>();
    Step step = take(false, stopped);
    stopped.forEach(this::finish);
    if (step == null) {
      return 0;
    }
    run(step);
    return step.group().size();
  }

  /**
   * The next step, counted as busy, with the requests found stopped moved into {@code stopped} for
   * the caller to finish outside the lock.
   *
   * @param wait whether to wait for work; a waiting call returns null with nothing stopped only
   *     once the scheduler is closed
   */
  private Step take(boolean wait, List<Ticket> stopped) {
    lock.lock();
    try {
      Step step;
      while ((step = pick()) == null && toFinish.isEmpty() && wait && !closed) {
        work.awaitUninterruptibly();
      }
      stopped.addAll(toFinish);
      toFinish.clear();
      if (step != null) {
        busy++;
      }
      return step;
    } finally {
      lock.unlock();
    }
  }

  private void run(Step step) {
    List<Entry> group = step.group();
    RuntimeException failure = null;
    try {
      engine.step(group.stream().map(e -> e.run).toList(), step.ballast());
    } catch (RuntimeException e) {
      failure = e;
    }
    List<Ticket> ended = new ArrayList<>();
    lock.lock();
    try {
      busy--;
      for (Entry e : group) {
        Ticket t = e.ticket;
        t.inStep--;
        if (failure != null && t.failure == null) {
          t.failure = failure;
        }
        if (t.stopped != null || t.failure != null) {
          if (!e.run.finished()) {
            e.run.abandon();
            leaveBatch();
          }
        } else if (e.run.finished()) {
          t.unfinished--;
          leaveBatch();
          if (options.policy() == StepPolicy.STATIC && e.run.layer() < layers && inBatch > 0) {
            ballast.add(e.run.tokens());
          }
        } else {
          waiting.get(e.run.layer()).add(e);
        }
        if (!ended.contains(t) && endIfDone(t)) {
          ended.add(t);
        }
      }
      work.signalAll();
    } finally {
      lock.unlock();
    }
    for (Ticket t : ended) {
      finish(t);
    }
  }

  /** An input that had started has finished or left; the batch's ballast goes with its last. */
  private void leaveBatch() {
    inBatch--;
    if (inBatch == 0) {
      ballast.clear();
    }
  }

  /** Marks a done ticket ended and releases its admission; true when the caller must finish it. */
  private boolean endIfDone(Ticket t) {
    if (t.ended || !t.done()) {
      return false;
    }
    t.ended = true;
    admittedRequests--;
    admittedTokens -= t.tokens;
    for (InputRun r : t.runs) {
      if (!r.finished()) {
        if (r.layer() > 0) {
          leaveBatch();
        }
        r.abandon();
      }
    }
    if (admittedRequests == 0) {
      idle.signalAll();
    }
    return true;
  }

  private void finish(Ticket t) {
    long now = System.nanoTime();
    if (t.failure == null) {
      if (t.firstStepAt < 0) {
        metrics.dropped(t.stopped);
      } else {
        metrics.run(t.summary(), t.tokens, t.firstStepAt - t.admittedAt, now - t.firstStepAt);
      }
    }
    t.complete(now);
  }

  /** The next step's inputs, taken off the waiting lists; null when there is nothing to run. */
  private Step pick() {
    if (closed) {
      return null;
    }
    dropStopped();
    int layer = chooseLayer();
    if (layer < 0) {
      return null;
    }
    List<Entry> candidates = new ArrayList<>();
    for (Entry e : waiting.get(layer)) {
      if (isReady(e.ticket)) {
        candidates.add(e);
      }
    }
    List<Entry> group = byLength(candidates);
    long now = System.nanoTime();
    steps++;
    waiting.get(layer).removeAll(group);
    for (Entry e : group) {
      e.ticket.inStep++;
      if (e.ticket.firstStepAt < 0) {
        e.ticket.firstStepAt = now;
      }
      if (layer == 0) {
        inBatch++;
      }
    }
    int[] carried = ballast.stream().mapToInt(Integer::intValue).toArray();
    long tokens = group.stream().mapToLong(e -> e.run.tokens()).sum();
    metrics.step(layer, group.size(), tokens + Arrays.stream(carried).sum());
    return new Step(group, carried);
  }

  /** Takes the inputs of requests that were cancelled or have expired off the waiting lists. */
  private void dropStopped() {
    List<Ticket> stopped = new ArrayList<>();
    for (List<Entry> list : waiting) {
      for (Entry e : list) {
        Ticket t = e.ticket;
        if (t.stopped == null && !stopped.contains(t)) {
          StopReason reason = t.stop.get();
          if (reason != null) {
            t.stopped = reason;
            stopped.add(t);
          }
        }
      }
    }
    for (Ticket t : stopped) {
      for (List<Entry> list : waiting) {
        list.removeIf(e -> e.ticket == t);
      }
      if (endIfDone(t)) {
        toFinish.add(t);
      }
    }
  }

  private boolean isReady(Ticket t) {
    boolean ready = t.ready.getAsBoolean();
    if (!ready && !t.paused) {
      metrics.stall();
    }
    t.paused = !ready;
    return ready;
  }

  private int chooseLayer() {
    switch (options.policy()) {
      case DEEPEST -> {
        for (int l = layers - 1; l >= 0; l--) {
          if (hasReady(l)) {
            return l;
          }
        }
        return -1;
      }
      case OLDEST -> {
        int best = -1;
        long oldest = Long.MAX_VALUE;
        for (int l = layers - 1; l >= 0; l--) {
          for (Entry e : waiting.get(l)) {
            if (e.ticket.admittedAt < oldest && isReady(e.ticket)) {
              oldest = e.ticket.admittedAt;
              best = l;
            }
          }
        }
        return best;
      }
      case FULLEST -> {
        Entry starved = null;
        for (List<Entry> list : waiting) {
          for (Entry e : list) {
            if (steps - e.admitted > 2L * layers
                && (starved == null || e.admitted < starved.admitted)
                && isReady(e.ticket)) {
              starved = e;
            }
          }
        }
        if (starved != null) {
          return starved.run.layer();
        }
        int best = -1;
        int most = 0;
        for (int l = 0; l < layers; l++) {
          int ready = 0;
          for (Entry e : waiting.get(l)) {
            if (isReady(e.ticket)) {
              ready++;
            }
          }
          if (ready > most) {
            most = ready;
            best = l;
          }
        }
        return best;
      }
      case STATIC, STATIC_SHRINKING -> {
        for (int l = layers - 1; l >= 1; l--) {
          if (hasReady(l)) {
            return l;
          }
        }
        return inBatch == 0 && hasReady(0) ? 0 : -1;
      }
    }
    throw new AssertionError(options.policy());
  }

  private boolean hasReady(int layer) {
    for (Entry e : waiting.get(layer)) {
      if (isReady(e.ticket)) {
        return true;
      }
    }
    return false;
  }

  /**
   * The oldest candidate and the candidates closest to it in length, as many as fit the cap on
   * batch tokens (counted as inputs × longest, the padded size attention works on).
   */
  private List<Entry> byLength(List<Entry> candidates) {
    long longest = 0;
    for (Entry e : candidates) {
      longest = Math.max(longest, e.run.tokens());
    }
    if (longest * candidates.size() <= options.batchTokens()) {
      return candidates;
    }
    Entry anchor = candidates.get(0);
    for (Entry e : candidates) {
      if (e.ticket.admittedAt < anchor.ticket.admittedAt) {
        anchor = e;
      }
    }
    List<Entry> sorted = new ArrayList<>(candidates);
    sorted.sort(Comparator.comparingInt(e -> e.run.tokens()));
    int lo = sorted.indexOf(anchor);
    int hi = lo;
    int anchorLength = anchor.run.tokens();
    while (true) {
      boolean canLeft = lo > 0 && fits(sorted, lo - 1, hi);
      boolean canRight = hi + 1 < sorted.size() && fits(sorted, lo, hi + 1);
      if (canLeft && canRight) {
        int left = anchorLength - sorted.get(lo - 1).run.tokens();
        int right = sorted.get(hi + 1).run.tokens() - anchorLength;
        canLeft = left <= right;
        canRight = !canLeft;
      }
      if (canLeft) {
        lo--;
      } else if (canRight) {
        hi++;
      } else {
        break;
      }
    }
    return new ArrayList<>(sorted.subList(lo, hi + 1));
  }

  private boolean fits(List<Entry> sorted, int lo, int hi) {
    return (long) sorted.get(hi).run.tokens() * (hi - lo + 1) <= options.batchTokens();
  }
}
