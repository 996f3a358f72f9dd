package dev.cascade.exit;

import dev.cascade.encoder.TransformerOps;
import dev.cascade.model.BertConfig;
import dev.cascade.model.Pooling;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.train.BatchMatMul;
import org.tensorflow.types.TFloat32;

/**
 * Builds an exit head's graph: the model's last layer computed for the pooled position only.
 *
 * <p>The query row (the {@code [CLS]} state, or the masked mean for mean-pooled models) attends
 * over every token. Keys and values are never materialised: the query is folded into the key matrix
 * ({@code q·(x·Wk)ᵀ = (q·Wkᵀ)·xᵀ}; the key bias shifts every score of a row equally and drops out
 * of the softmax), and the value projection is applied after the attention-weighted sum of the
 * hidden states. The result equals the full layer's pooled row, at a cost that grows with heads ×
 * tokens × hidden instead of tokens × hidden².
 */
public final class HeadGraph {
  private HeadGraph() {}

  /**
   * Optional entries of {@link #build}'s parameters: the key and value projections already in
   * {@link #keyByHead} and {@link #valueByHead} layout, so that a serving graph does not rearrange
   * them on every run.
   */
  public static final String KEY_BY_HEAD = "key_by_head";

  /** See {@link #KEY_BY_HEAD}. */
  public static final String VALUE_BY_HEAD = "value_by_head";

  /** The head's outputs. */
  public record Output(Operand<TFloat32> embedding, Operand<TFloat32> norm) {}

  /**
   * @param w parameters by {@link HeadWeights#NAMES} name, optionally with {@link #KEY_BY_HEAD} and
   *     {@link #VALUE_BY_HEAD}
   * @param hidden {@code [B, T, H]} hidden states at the exit layer
   * @param mask {@code [B, T]}, 1 for real tokens
   * @return the L2-normalised embedding {@code [B, H]} and its norm before normalisation {@code [B,
   *     1]}
   */
  public static Output build(
      Ops tf,
      BertConfig config,
      Pooling pooling,
      HeadType type,
      Map<String, ? extends Operand<TFloat32>> w,
      Operand<TFloat32> hidden,
      Operand<TFloat32> mask) {
    int h = config.hiddenSize();
    int heads = config.heads();
    int d = config.headSize();
    Operand<TFloat32> bias =
        tf.expandDims(
            tf.math.mul(tf.math.sub(tf.constant(1f), mask), tf.constant(config.maskValue())),
            tf.constant(1));

    Operand<TFloat32> row =
        pooling == Pooling.CLS
            ? tf.reshape(
                tf.slice(
                    hidden, tf.constant(new int[] {0, 0, 0}), tf.constant(new int[] {-1, 1, -1})),
                tf.constant(new int[] {-1, h}))
            : TransformerOps.maskedMean(tf, hidden, mask);

    Operand<TFloat32> q =
        tf.math.mul(
            tf.nn.biasAdd(tf.linalg.matMul(row, w.get("query")), w.get("query_bias")),
            tf.constant((float) (1 / Math.sqrt(d))));
    Operand<TFloat32> keys =
        w.containsKey(KEY_BY_HEAD) ? w.get(KEY_BY_HEAD) : keyByHead(tf, config, w.get("key"));
    Operand<TFloat32> values =
        w.containsKey(VALUE_BY_HEAD)
            ? w.get(VALUE_BY_HEAD)
            : valueByHead(tf, config, w.get("value"));
    Operand<TFloat32> folded =
        tf.reshape(
            tf.train.batchMatMul(
                tf.reshape(q, tf.constant(new int[] {-1, heads, 1, d})), keys, TFloat32.class),
            tf.constant(new int[] {-1, heads, h}));
    Operand<TFloat32> scores =
        tf.math.add(
            tf.train.batchMatMul(folded, hidden, TFloat32.class, BatchMatMul.adjY(true)), bias);
    Operand<TFloat32> attended =
        tf.reshape(
            tf.train.batchMatMul(tf.nn.softmax(scores), hidden, TFloat32.class),
            tf.constant(new int[] {-1, heads, 1, h}));
    Operand<TFloat32> context =
        tf.nn.biasAdd(
            tf.reshape(
                tf.train.batchMatMul(attended, values, TFloat32.class),
                tf.constant(new int[] {-1, h})),
            w.get("value_bias"));

    float eps = config.layerNormEpsilon();
    Operand<TFloat32> out =
        TransformerOps.layerNorm(
            tf,
            tf.math.add(
                tf.nn.biasAdd(
                    tf.linalg.matMul(context, w.get("attention_output")),
                    w.get("attention_output_bias")),
                row),
            w.get("attention_norm_gamma"),
            w.get("attention_norm_beta"),
            eps);
    if (type != HeadType.ATTENTION) {
      Operand<TFloat32> inner =
          TransformerOps.gelu(
              tf,
              tf.nn.biasAdd(
                  tf.linalg.matMul(out, w.get("intermediate")), w.get("intermediate_bias")));
      out =
          TransformerOps.layerNorm(
              tf,
              tf.math.add(
                  tf.nn.biasAdd(tf.linalg.matMul(inner, w.get("output")), w.get("output_bias")),
                  out),
              w.get("output_norm_gamma"),
              w.get("output_norm_beta"),
              eps);
    }
    Operand<TFloat32> norm = TransformerOps.rowNorm(tf, out);
    return new Output(tf.math.div(out, norm), norm);
  }

  /**
   * The key projection {@code [H, H]} (input by output) as one {@code [d, H]} matrix per attention
   * head, {@code [heads, d, H]}, to fold a head's query into the keys.
   */
  public static Operand<TFloat32> keyByHead(Ops tf, BertConfig config, Operand<TFloat32> key) {
    return tf.linalg.transpose(
        tf.reshape(
            key, tf.constant(new int[] {config.hiddenSize(), config.heads(), config.headSize()})),
        tf.constant(new int[] {1, 2, 0}));
  }

  /**
   * The value projection {@code [H, H]} as one {@code [H, d]} matrix per attention head, {@code
   * [heads, H, d]}, applied after the attention-weighted sum of the hidden states.
   */
  public static Operand<TFloat32> valueByHead(Ops tf, BertConfig config, Operand<TFloat32> value) {
    return tf.linalg.transpose(
        tf.reshape(
            value, tf.constant(new int[] {config.hiddenSize(), config.heads(), config.headSize()})),
        tf.constant(new int[] {1, 0, 2}));
  }

  /**
   * Multiply-adds of one head for one input of {@code tokens} tokens, for cost accounting against
   * {@link #layerMacs}.
   */
  public static long macs(BertConfig config, HeadType type, int tokens) {
    long h = config.hiddenSize();
    long ffn = type.feedForwardWidth(config.hiddenSize(), config.intermediateSize());
    long attention = 2L * config.heads() * tokens * h;
    return 4 * h * h + attention + 2 * h * ffn;
  }

  /** Multiply-adds of one encoder layer for one input of {@code tokens} tokens. */
  public static long layerMacs(BertConfig config, int tokens) {
    long h = config.hiddenSize();
    long i = config.intermediateSize();
    return tokens * (4 * h * h + 2 * h * i) + 2L * tokens * tokens * h;
  }
}
