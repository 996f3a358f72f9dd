package dev.cascade.runtime;

import dev.cascade.confidence.ExitObservation;
import dev.cascade.policy.ExitBounds;
import dev.cascade.policy.Profile;
import dev.cascade.policy.StopReason;
import dev.cascade.tokenize.TokenizedInput;

/**
 * One input on its way through the cascade, advanced a layer at a time by {@link
 * CascadeEngine#step} together with any other inputs at the same layer, whatever request or profile
 * they belong to. It holds its own hidden states, its profile and bounds, and the listener its
 * events go to; once {@link #finished()}, its states are released.
 *
 * <p>Not thread-safe: one step at a time, though steps may run on different threads.
 */
public final class InputRun {
  private final TokenizedInput input;
  private final int index;
  private final Profile profile;
  private final ExitBounds bounds;
  private final int maxLayer;
  private final int layers;
  private final ExitListener listener;
  private final boolean skipHeads;

  float[] states;
  private int layer;
  private int exitIndex;
  private float[] previous;
  private long headsEvaluated;
  private boolean finished;

  /**
   * @param input the tokenized input
   * @param index its position in its request, reported in its events
   * @param engine the engine it will run on, which checks the profile and bounds
   * @param listener receives its exit events, on the thread running the step
   * @throws IllegalArgumentException when the profile or bounds do not fit the engine
   */
  public InputRun(
      TokenizedInput input,
      int index,
      Profile profile,
      ExitBounds bounds,
      CascadeEngine engine,
      ExitListener listener) {
    this.layers = engine.model().encoder().config().layers();
    engine.check(profile);
    bounds.validate(layers, profile.exits());
    this.input = input;
    this.index = index;
    this.profile = profile;
    this.bounds = bounds;
    this.maxLayer = bounds.effectiveMax(layers, profile.exits());
    this.listener = listener;
    this.skipHeads = profile.neverStops() && !listener.wantsIntermediate();
  }

  /** Layers computed so far. */
  public int layer() {
    return layer;
  }

  /** The input's token count. */
  public int tokens() {
    return input.length();
  }

  /** Whether the input has stopped, with its final event sent. */
  public boolean finished() {
    return finished;
  }

  /** Exit heads evaluated for this input so far. */
  public long headsEvaluated() {
    return headsEvaluated;
  }

  TokenizedInput input() {
    return input;
  }

  /**
   * Whether an exit head runs at {@code layer} for this input: at the profile's exits up to the
   * maximum exit, except where nothing could come of it ({@link ExitListener#wantsIntermediate}).
   */
  boolean wantsHead(int layer) {
    return layer < layers
        && layer <= maxLayer
        && (!skipHeads || layer == maxLayer)
        && exitIndexAt(layer) >= 0;
  }

  void advanced() {
    layer++;
  }

  /** The last layer's pooled embedding: the input stops. */
  void last(float[] embedding) {
    finish(
        new ExitEvent(
            index, layer, embedding, 1, true, StopReason.LAST_LAYER, tokens(), input.truncated()));
  }

  /** An exit head's output at the current layer: the input stops here or goes on. */
  void exit(float[] embedding, float norm, double estimate) {
    int exit = exitIndexAt(layer);
    exitIndex = exit;
    headsEvaluated++;
    double score =
        profile
            .confidence()
            .score(
                new ExitObservation(
                    exit, layer, layers, tokens(), embedding, previous, norm, estimate));
    previous = embedding;
    StopReason reason = CascadeEngine.decide(profile, exit, score, layer, maxLayer, bounds);
    ExitEvent event =
        new ExitEvent(
            index, layer, embedding, score, reason != null, reason, tokens(), input.truncated());
    if (reason != null) {
      finish(event);
    } else {
      listener.onEvent(event);
    }
  }

  /** Releases the input's states without a final event (the request was stopped). */
  public void abandon() {
    finished = true;
    states = null;
  }

  private void finish(ExitEvent event) {
    finished = true;
    states = null;
    listener.onEvent(event);
  }

  private int exitIndexAt(int at) {
    int[] exits = profile.exits();
    for (int i = exitIndex; i < exits.length; i++) {
      if (exits[i] == at) {
        return i;
      }
      if (exits[i] > at) {
        break;
      }
    }
    return -1;
  }
}
