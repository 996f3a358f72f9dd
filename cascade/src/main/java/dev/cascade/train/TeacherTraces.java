package dev.cascade.train;

import dev.cascade.encoder.EncoderBatch;
import dev.cascade.encoder.EncoderModel;
import dev.cascade.tokenize.TokenizedInput;
import dev.cascade.tokenize.Truncation;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.function.IntConsumer;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TFloat32;

/**
 * The frozen backbone's hidden states at each exit layer and its final embedding, for every
 * training text, computed once and kept in memory (real tokens only, no padding).
 */
public final class TeacherTraces {
  private final int[] layers;
  private final int hiddenSize;
  private final int[] lengths;
  private final float[][][] hidden;
  private final float[][] teacher;

  private TeacherTraces(
      int[] layers, int hiddenSize, int[] lengths, float[][][] hidden, float[][] teacher) {
    this.layers = layers;
    this.hiddenSize = hiddenSize;
    this.lengths = lengths;
    this.hidden = hidden;
    this.teacher = teacher;
  }

  /**
   * Runs every text through the model.
   *
   * @param layers exit layers to keep hidden states of, ascending, below the last layer
   * @param maxTokens texts are truncated to this many tokens
   * @param progress told how many texts are done after each batch
   */
  public static TeacherTraces collect(
      EncoderModel model, List<String> texts, int[] layers, int maxTokens, IntConsumer progress) {
    int last = model.encoder().config().layers();
    for (int layer : layers) {
      if (layer < 1 || layer >= last) {
        throw new IllegalArgumentException(
            "exit layer " + layer + " must be between 1 and " + (last - 1));
      }
    }
    int h = model.encoder().config().hiddenSize();
    int n = texts.size();
    List<TokenizedInput> inputs = new ArrayList<>(n);
    int limit = Math.min(maxTokens, model.tokenizer().maxTokens());
    for (int i = 0; i < n; i++) {
      inputs.add(model.tokenizer().tokenize(texts.get(i), i, Truncation.TRUNCATE, limit));
    }
    Integer[] order = new Integer[n];
    Arrays.setAll(order, i -> i);
    Arrays.sort(order, Comparator.comparingInt(i -> inputs.get(i).length()));
    int[] lengths = new int[n];
    float[][][] hidden = new float[layers.length][n][];
    float[][] teacher = new float[n][];
    int done = 0;
    int tokenBudget = 8192;
    for (int start = 0; start < n; ) {
      int end = start;
      while (end < n
          && (end - start + 1) * inputs.get(order[end]).length() <= tokenBudget
          && end - start < 128) {
        end++;
      }
      end = Math.max(end, start + 1);
      List<TokenizedInput> batchInputs = new ArrayList<>();
      for (int i = start; i < end; i++) {
        batchInputs.add(inputs.get(order[i]));
        lengths[order[i]] = inputs.get(order[i]).length();
      }
      try (EncoderBatch batch = model.encoder().start(batchInputs)) {
        for (int e = 0; e < layers.length; e++) {
          while (batch.layer() < layers[e]) {
            batch.advance();
          }
          copyRows(batch.hiddenStates(), batch.lengths(), h, hidden[e], order, start);
        }
        float[][] pooled = null;
        while (!batch.atLastLayer()) {
          pooled = batch.advanceAndPool();
        }
        for (int i = start; i < end; i++) {
          teacher[order[i]] = pooled[i - start];
        }
      }
      done += end - start;
      progress.accept(done);
      start = end;
    }
    return new TeacherTraces(layers.clone(), h, lengths, hidden, teacher);
  }

  private static void copyRows(
      TFloat32 states, int[] rowLengths, int h, float[][] into, Integer[] order, int offset) {
    int rows = (int) states.shape().get(0);
    int padded = (int) states.shape().get(1);
    float[] flat = new float[rows * padded * h];
    states.asRawTensor().data().asFloats().read(flat);
    for (int r = 0; r < rows; r++) {
      into[order[offset + r]] =
          Arrays.copyOfRange(flat, r * padded * h, r * padded * h + rowLengths[r] * h);
    }
  }

  /** Number of texts. */
  public int size() {
    return lengths.length;
  }

  /** Exit layers with hidden states. */
  public int[] layers() {
    return layers.clone();
  }

  public int hiddenSize() {
    return hiddenSize;
  }

  /** Token count of text {@code i}. */
  public int length(int i) {
    return lengths[i];
  }

  /** Hidden states of text {@code i} at exit {@code exitIndex}, {@code [length, hidden]} flat. */
  public float[] hidden(int exitIndex, int i) {
    return hidden[exitIndex][i];
  }

  /**
   * Hidden states of the texts at {@code rows} at exit {@code exitIndex}, zero-padded to the
   * longest of them: {@code [rows, T, hidden]}. The caller closes the tensor.
   */
  public TFloat32 paddedHidden(int exitIndex, int[] rows) {
    int padded = paddedLength(rows);
    float[] data = new float[rows.length * padded * hiddenSize];
    for (int r = 0; r < rows.length; r++) {
      float[] states = hidden[exitIndex][rows[r]];
      System.arraycopy(states, 0, data, r * padded * hiddenSize, states.length);
    }
    return TFloat32.tensorOf(
        Shape.of(rows.length, padded, hiddenSize), DataBuffers.of(data, true, false));
  }

  /**
   * The attention mask that goes with {@link #paddedHidden}: {@code [rows, T]}, 1 on real tokens.
   */
  public TFloat32 mask(int[] rows) {
    int padded = paddedLength(rows);
    float[] data = new float[rows.length * padded];
    for (int r = 0; r < rows.length; r++) {
      Arrays.fill(data, r * padded, r * padded + lengths[rows[r]], 1f);
    }
    return TFloat32.tensorOf(Shape.of(rows.length, padded), DataBuffers.of(data, true, false));
  }

  /**
   * {@code rows} sorted by token count and cut into consecutive chunks of at most {@code size}, so
   * that each chunk pads little when fed through {@link #paddedHidden}.
   */
  public List<int[]> lengthChunks(List<Integer> rows, int size) {
    int[] sorted =
        rows.stream().sorted(Comparator.comparingInt(i -> lengths[i])).mapToInt(i -> i).toArray();
    List<int[]> chunks = new ArrayList<>();
    for (int start = 0; start < sorted.length; start += size) {
      chunks.add(Arrays.copyOfRange(sorted, start, Math.min(sorted.length, start + size)));
    }
    return chunks;
  }

  private int paddedLength(int[] rows) {
    return Arrays.stream(rows).map(i -> lengths[i]).max().orElse(1);
  }

  /** The final, L2-normalised embedding of text {@code i}. */
  public float[] teacher(int i) {
    return teacher[i];
  }

  /** Index of {@code layer} in {@link #layers()}. */
  public int exitIndex(int layer) {
    for (int e = 0; e < layers.length; e++) {
      if (layers[e] == layer) {
        return e;
      }
    }
    throw new IllegalArgumentException("no hidden states kept for layer " + layer);
  }
}
