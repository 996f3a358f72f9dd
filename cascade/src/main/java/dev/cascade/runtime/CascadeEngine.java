package dev.cascade.runtime;

import dev.cascade.confidence.ExitObservation;
import dev.cascade.encoder.Encoder;
import dev.cascade.encoder.EncoderBatch;
import dev.cascade.encoder.EncoderModel;
import dev.cascade.exit.ExitHeads;
import dev.cascade.exit.HeadOutput;
import dev.cascade.policy.ExitBounds;
import dev.cascade.policy.Profile;
import dev.cascade.policy.StopReason;
import dev.cascade.tokenize.TokenizedInput;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;
import org.tensorflow.types.TFloat32;

/**
 * Runs inputs through the encoder with early exit: after each exit layer, the exit's head gives
 * each input an embedding and the profile's confidence; an input stops at the first exit whose
 * threshold its confidence reaches (within the request's bounds), at its maximum exit, or at the
 * last layer. Stopped inputs leave the batch at once. Cancellation is checked at every layer
 * boundary.
 *
 * <p>Thread-safe: runs on the caller's thread, any number at once.
 */
public final class CascadeEngine {
  private final EncoderModel model;
  private final ExitHeads heads;

  /**
   * @param heads the model's exit heads, or null for a model that only runs to the last layer
   */
  public CascadeEngine(EncoderModel model, ExitHeads heads) {
    this.model = model;
    this.heads = heads;
  }

  public EncoderModel model() {
    return model;
  }

  /** Exit layers that have a head, ascending; empty without heads. */
  public int[] exitLayers() {
    return heads == null ? new int[0] : heads.layers();
  }

  /**
   * Checks that a profile can run here: same backbone, and a head for each of its exits.
   *
   * @throws IllegalArgumentException naming what does not match
   */
  public void check(Profile profile) {
    profile.requireBackbone(model.spec().name(), model.checksum());
    for (int exit : profile.exits()) {
      if (heads == null || !heads.has(exit)) {
        throw new IllegalArgumentException(
            "profile "
                + profile.name()
                + " uses exit layer "
                + exit
                + " but the loaded heads cover "
                + Arrays.toString(exitLayers()));
      }
      if (profile.confidence().needsEstimate() && !heads.hasEstimate(exit)) {
        throw new IllegalArgumentException(
            "profile "
                + profile.name()
                + " scores confidence with the heads' agreement estimate, but the head at layer "
                + exit
                + " has none; tune the profile on these heads (cascade tune --heads ...)");
      }
    }
  }

  /**
   * Runs the inputs to completion, or until {@code stop} says why not.
   *
   * @param stop asked before every layer; returns null to go on, or {@link StopReason#CANCELLED} /
   *     {@link StopReason#DEADLINE_EXCEEDED} to stop every unfinished input
   */
  public RunSummary run(
      List<TokenizedInput> inputs,
      Profile profile,
      ExitBounds bounds,
      ExitListener listener,
      Supplier<StopReason> stop) {
    int layers = model.encoder().config().layers();
    int[] exits = profile.exits();
    bounds.validate(layers, exits);
    int maxLayer = bounds.effectiveMax(layers, exits);
    boolean skipHeads = profile.neverStops() && !listener.wantsIntermediate();
    float[][] previous = new float[inputs.size()][];
    long computed = 0;
    long evaluated = 0;
    StopReason stopped = stop.get();
    if (stopped != null) {
      return new RunSummary(0, (long) layers * inputs.size(), 0, stopped);
    }
    try (EncoderBatch batch = model.encoder().start(inputs)) {
      int exitIndex = 0;
      while (batch.size() > 0) {
        stopped = stop.get();
        if (stopped != null) {
          break;
        }
        batch.advance();
        computed += batch.size();
        int layer = batch.layer();
        while (exitIndex < exits.length && exits[exitIndex] < layer) {
          exitIndex++;
        }
        boolean atExit =
            exitIndex < exits.length
                && exits[exitIndex] == layer
                && (!skipHeads || layer == maxLayer);
        int[] ids = batch.ids();
        int[] lengths = batch.lengths();
        List<Integer> keep = new ArrayList<>();
        if (layer == layers) {
          float[][] pooled = batch.pool();
          for (int r = 0; r < ids.length; r++) {
            listener.onEvent(event(inputs, ids[r], layer, pooled[r], 1, StopReason.LAST_LAYER));
          }
        } else if (atExit) {
          HeadOutput out = heads.apply(batch);
          evaluated += ids.length;
          for (int r = 0; r < ids.length; r++) {
            int id = ids[r];
            float[] embedding = out.embeddings()[r];
            double score =
                profile
                    .confidence()
                    .score(
                        new ExitObservation(
                            exitIndex,
                            layer,
                            layers,
                            lengths[r],
                            embedding,
                            previous[id],
                            out.norms()[r],
                            out.estimates()[r]));
            previous[id] = embedding;
            StopReason reason = decide(profile, exitIndex, score, layer, maxLayer, bounds);
            listener.onEvent(event(inputs, id, layer, embedding, score, reason));
            if (reason == null) {
              keep.add(r);
            }
          }
        } else {
          for (int r = 0; r < ids.length; r++) {
            keep.add(r);
          }
        }
        if (layer == layers) {
          break;
        }
        if (keep.size() < ids.length) {
          batch.retain(keep.stream().mapToInt(Integer::intValue).toArray());
        }
      }
      long saved = (long) inputs.size() * layers - computed;
      return new RunSummary(computed, saved, evaluated, batch.size() > 0 ? stopped : null);
    }
  }

  /**
   * Advances inputs that are all at the same layer by one layer, as one batch, whatever requests
   * and profiles they come from; then runs the exit head at the new layer for the inputs whose
   * profile has an exit there, and lets each input stop or go on. Events go to each input's
   * listener, on this thread. Inputs at layer 0 are embedded first.
   *
   * @param group unfinished inputs at one layer below the last
   */
  public void step(List<InputRun> group) {
    step(group, new int[0]);
  }

  /**
   * {@link #step(List)}, computing besides the group {@code ballast.length} rows of these token
   * counts that belong to no input and are thrown away: the cost that batch-level early exit pays
   * for stopped inputs it cannot drop from a batch, for comparison with dropping them.
   */
  public void step(List<InputRun> group, int[] ballast) {
    if (group.isEmpty()) {
      return;
    }
    Encoder encoder = model.encoder();
    int layers = encoder.config().layers();
    int layer = group.get(0).layer();
    int n = group.size();
    int[] lengths = new int[n];
    float[][] states = new float[n][];
    for (int i = 0; i < n; i++) {
      InputRun run = group.get(i);
      if (run.layer() != layer || run.finished()) {
        throw new IllegalArgumentException(
            "a step needs unfinished inputs at one layer; input "
                + i
                + " is at layer "
                + run.layer()
                + (run.finished() ? " and finished" : "")
                + ", the first at "
                + layer);
      }
      lengths[i] = run.tokens();
      states[i] = run.states;
    }
    if (layer == 0) {
      states = encoder.embedRows(group.stream().map(InputRun::input).toList());
    }
    boolean last = layer + 1 == layers;
    float[][] rows = Arrays.copyOf(states, n + ballast.length);
    int[] rowLengths = Arrays.copyOf(lengths, n + ballast.length);
    for (int i = 0; i < ballast.length; i++) {
      rows[n + i] = new float[ballast[i] * encoder.config().hiddenSize()];
      rowLengths[n + i] = ballast[i];
    }
    float[][] pooled = encoder.advanceRows(layer, rows, rowLengths, last);
    List<InputRun> atExit = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      InputRun run = group.get(i);
      run.states = states[i];
      run.advanced();
      if (last) {
        run.last(pooled[i]);
      } else if (run.wantsHead(layer + 1)) {
        atExit.add(run);
      }
    }
    if (atExit.isEmpty()) {
      return;
    }
    float[][] exitStates = new float[atExit.size()][];
    int[] exitLengths = new int[atExit.size()];
    for (int i = 0; i < exitStates.length; i++) {
      exitStates[i] = atExit.get(i).states;
      exitLengths[i] = atExit.get(i).tokens();
    }
    HeadOutput out;
    try (TFloat32 hidden = encoder.paddedStates(exitStates, exitLengths);
        TFloat32 mask = Encoder.maskOf(exitLengths)) {
      out = heads.apply(layer + 1, hidden, mask);
    }
    for (int i = 0; i < exitStates.length; i++) {
      atExit.get(i).exit(out.embeddings()[i], out.norms()[i], out.estimates()[i]);
    }
  }

  /**
   * Whether an input stops at an exit, and why: at its maximum exit it always stops; elsewhere when
   * the confidence reaches the exit's threshold at or above the minimum exit.
   *
   * @return the stop reason, or null to go on
   */
  static StopReason decide(
      Profile profile, int exitIndex, double score, int layer, int maxLayer, ExitBounds bounds) {
    boolean confident = layer >= bounds.minExit() && profile.stops(exitIndex, score);
    if (confident) {
      return StopReason.CONFIDENT;
    }
    return layer >= maxLayer ? StopReason.MAX_EXIT : null;
  }

  private static ExitEvent event(
      List<TokenizedInput> inputs,
      int id,
      int layer,
      float[] embedding,
      double confidence,
      StopReason reason) {
    TokenizedInput in = inputs.get(id);
    return new ExitEvent(
        id, layer, embedding, confidence, reason != null, reason, in.length(), in.truncated());
  }
}
