package dev.cascade.encoder;

import java.util.Arrays;
import org.tensorflow.Result;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * A batch of inputs in flight through an {@link Encoder}: their hidden states at the current layer,
 * in native memory, with the attention mask.
 *
 * <p>Start one with {@link Encoder#start}; {@link #advance()} runs the next layer; {@link #pool()}
 * (or {@link #advanceAndPool()}) gives the pooled, L2-normalised embedding of each row at the
 * current layer; {@link #retain(int[])} drops finished rows so that they cost no more compute. Each
 * row keeps the id it was started with ({@link #ids()}).
 *
 * <p>Not thread-safe: one thread at a time, though it may be handed between threads. Must be
 * closed; closing releases every tensor it holds.
 */
public final class EncoderBatch implements AutoCloseable {
  private final Encoder encoder;
  private int layer;
  private int[] ids;
  private int[] lengths;

  private TFloat32 hidden;
  private AutoCloseable hiddenOwner;
  private TFloat32 mask;
  private AutoCloseable maskOwner;
  private TFloat32 bias;
  private AutoCloseable biasOwner;
  private boolean closed;

  EncoderBatch(Encoder encoder, Result embedded, TFloat32 mask, int[] lengths) {
    this.encoder = encoder;
    this.hidden = (TFloat32) embedded.get(0);
    this.hiddenOwner = embedded;
    this.bias = (TFloat32) embedded.get(1);
    this.biasOwner = embedded;
    this.mask = mask;
    this.maskOwner = mask;
    this.lengths = lengths.clone();
    this.ids = new int[lengths.length];
    Arrays.setAll(ids, i -> i);
  }

  /** Layers computed so far: 0 after the embeddings, {@code layers()} at full depth. */
  public int layer() {
    return layer;
  }

  /** Total layers of the model. */
  public int layers() {
    return encoder.config().layers();
  }

  /** Whether every layer has been computed. */
  public boolean atLastLayer() {
    return layer == layers();
  }

  /** Rows still in the batch. */
  public int size() {
    return ids.length;
  }

  /** The id of each row, in row order: the index it had in {@link Encoder#start}'s list. */
  public int[] ids() {
    return ids.clone();
  }

  /** Token count of each row, in row order. */
  public int[] lengths() {
    return lengths.clone();
  }

  /** Padded length of the rows: the longest row's token count. */
  public int paddedLength() {
    return (int) hidden.shape().get(1);
  }

  /** Runs the next layer. */
  public void advance() {
    step(false);
  }

  /** Runs the next layer and returns each row's pooled, L2-normalised embedding there. */
  public float[][] advanceAndPool() {
    return step(true);
  }

  /** Each row's pooled, L2-normalised embedding at the current layer, in row order. */
  public float[][] pool() {
    checkOpen();
    try (Result r =
        encoder
            .session()
            .runner()
            .feed(encoder.hiddenIn, hidden)
            .feed(encoder.mask, mask)
            .fetch(encoder.pooledIn)
            .run()) {
      return Encoder.rows((TFloat32) r.get(0), ids.length);
    }
  }

  private float[][] step(boolean pool) {
    checkOpen();
    if (atLastLayer()) {
      throw new IllegalStateException("all " + layers() + " layers have been computed");
    }
    var runner =
        encoder
            .session()
            .runner()
            .feed(encoder.hiddenIn, hidden)
            .feed(encoder.biasIn, bias)
            .fetch(encoder.layerOut.get(layer));
    if (pool) {
      runner.feed(encoder.mask, mask).fetch(encoder.layerPooled.get(layer));
    }
    Result result = runner.run();
    float[][] pooled = null;
    try {
      if (pool) {
        pooled = Encoder.rows((TFloat32) result.get(1), ids.length);
      }
    } catch (RuntimeException e) {
      result.close();
      throw e;
    }
    AutoCloseable old = hiddenOwner;
    hidden = (TFloat32) result.get(0);
    hiddenOwner = result;
    release(old);
    layer++;
    return pooled;
  }

  /**
   * Keeps only the rows at the given positions (indices into the current row order, ascending), and
   * trims padding to the longest kept row. Kept rows' results are unchanged.
   *
   * @param rows positions to keep; empty keeps none, which leaves the batch empty
   */
  public void retain(int[] rows) {
    checkOpen();
    for (int i = 0; i < rows.length; i++) {
      if (rows[i] < 0 || rows[i] >= ids.length || (i > 0 && rows[i] <= rows[i - 1])) {
        throw new IllegalArgumentException(
            "rows must be ascending positions below " + ids.length + ": " + Arrays.toString(rows));
      }
    }
    if (rows.length == ids.length) {
      return;
    }
    int[] newIds = new int[rows.length];
    int[] newLengths = new int[rows.length];
    int longest = 0;
    for (int i = 0; i < rows.length; i++) {
      newIds[i] = ids[rows[i]];
      newLengths[i] = lengths[rows[i]];
      longest = Math.max(longest, newLengths[i]);
    }
    if (rows.length == 0) {
      longest = 0;
    }
    Result result;
    try (TInt32 rowTensor =
            TInt32.tensorOf(Shape.of(rows.length), DataBuffers.of(rows, true, false));
        TInt32 lengthTensor = TInt32.scalarOf(longest)) {
      result =
          encoder
              .session()
              .runner()
              .feed(encoder.hiddenIn, hidden)
              .feed(encoder.mask, mask)
              .feed(encoder.biasIn, bias)
              .feed(encoder.keepRows, rowTensor)
              .feed(encoder.keepLength, lengthTensor)
              .fetch(encoder.compactHidden)
              .fetch(encoder.compactMask)
              .fetch(encoder.compactBias)
              .run();
    }
    AutoCloseable oldHidden = hiddenOwner;
    AutoCloseable oldMask = maskOwner;
    AutoCloseable oldBias = biasOwner;
    hidden = (TFloat32) result.get(0);
    mask = (TFloat32) result.get(1);
    bias = (TFloat32) result.get(2);
    hiddenOwner = result;
    maskOwner = result;
    biasOwner = result;
    release(oldHidden);
    if (oldMask != oldHidden) {
      release(oldMask);
    }
    if (oldBias != oldHidden && oldBias != oldMask) {
      release(oldBias);
    }
    ids = newIds;
    lengths = newLengths;
  }

  /**
   * The hidden states at the current layer, {@code [rows, paddedLength, hidden]}. The tensor
   * belongs to this batch: do not close it, and do not use it after the batch advances, shrinks or
   * closes.
   */
  public TFloat32 hiddenStates() {
    checkOpen();
    return hidden;
  }

  /**
   * The attention mask, {@code [rows, paddedLength]}, 1 for real tokens; owned like {@link
   * #hiddenStates()}.
   */
  public TFloat32 attentionMask() {
    checkOpen();
    return mask;
  }

  private void release(AutoCloseable owner) {
    if (owner != hiddenOwner && owner != maskOwner && owner != biasOwner) {
      closeQuietly(owner);
    }
  }

  private static void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception e) {
      throw new IllegalStateException("failed to release a tensor", e);
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("batch is closed");
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    AutoCloseable h = hiddenOwner;
    AutoCloseable m = maskOwner;
    AutoCloseable b = biasOwner;
    closeQuietly(h);
    if (m != h) {
      closeQuietly(m);
    }
    if (b != h && b != m) {
      closeQuietly(b);
    }
  }
}
