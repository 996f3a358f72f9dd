package dev.cascade.encoder;

import dev.cascade.model.BertConfig;
import dev.cascade.model.Pooling;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Prod;
import org.tensorflow.op.core.Variable;
import org.tensorflow.op.train.BatchMatMul;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * Graph-building functions for the BERT encoder. Each takes {@code Ops} first and returns an
 * operand; weights come in as variables. Matrices are {@code [in, out]}; the query projection is
 * pre-scaled by {@code 1/sqrt(head size)} and fused with key and value into one {@code [H, 3H]}
 * product. Layers work on the real tokens of a batch ({@link Tokens}), not on its padded grid.
 */
final class BertGraph {

  private BertGraph() {}

  /** Weights of one layer as graph variables. */
  record LayerVars(
      Variable<TFloat32> qkv,
      Variable<TFloat32> qkvBias,
      Variable<TFloat32> attentionOutput,
      Variable<TFloat32> attentionOutputBias,
      Variable<TFloat32> attentionNormGamma,
      Variable<TFloat32> attentionNormBeta,
      Variable<TFloat32> intermediate,
      Variable<TFloat32> intermediateBias,
      Variable<TFloat32> output,
      Variable<TFloat32> outputBias,
      Variable<TFloat32> outputNormGamma,
      Variable<TFloat32> outputNormBeta) {}

  /** Embedding-table variables. */
  record EmbeddingVars(
      Variable<TFloat32> words,
      Variable<TFloat32> positions,
      Variable<TFloat32> types,
      Variable<TFloat32> normGamma,
      Variable<TFloat32> normBeta) {}

  /** Word + position + token-type embeddings, then LayerNorm: {@code [B, T] -> [B, T, H]}. */
  static Operand<TFloat32> embeddings(
      Ops tf, BertConfig config, EmbeddingVars vars, Operand<TInt32> ids, Operand<TInt32> types) {
    Operand<TInt32> zero = tf.constant(0);
    Operand<TFloat32> words = tf.gather(vars.words(), ids, zero);
    Operand<TInt32> length = tf.gather(tf.shape(ids), tf.constant(1), zero);
    Operand<TFloat32> positions =
        tf.gather(vars.positions(), tf.range(zero, length, tf.constant(1)), zero);
    Operand<TFloat32> sum = tf.math.add(words, positions);
    if (vars.types() != null) {
      sum = tf.math.add(sum, tf.gather(vars.types(), types, zero));
    }
    return TransformerOps.layerNorm(
        tf, sum, vars.normGamma(), vars.normBeta(), config.layerNormEpsilon());
  }

  /** Additive attention bias {@code (1 - mask) * maskValue}: {@code [B, T] -> [B, 1, 1, T]}. */
  static Operand<TFloat32> maskBias(Ops tf, BertConfig config, Operand<TFloat32> mask) {
    Operand<TFloat32> inverted = tf.math.sub(tf.constant(1f), mask);
    Operand<TFloat32> bias = tf.math.mul(inverted, tf.constant(config.maskValue()));
    return tf.expandDims(tf.expandDims(bias, tf.constant(1)), tf.constant(1));
  }

  /**
   * The real tokens of a padded batch. Token-wise work (every matrix product but the attention
   * scores and context, LayerNorm, GELU) is done on a {@code [N, C]} matrix of the {@code N} real
   * tokens only, so that padding costs nothing there; attention alone runs on the padded {@code [B,
   * T]} grid.
   *
   * @param grid {@code [B, T]} as a vector
   * @param positions {@code [N]}: flat grid position of each token row, in row-major grid order
   * @param scatterPositions the same as {@code [N, 1]}
   */
  record Tokens(Operand<TInt32> grid, Operand<TInt32> positions, Operand<TInt32> scatterPositions) {

    /** The tokens where {@code mask} ({@code [B, T]}) is non-zero. */
    static Tokens where(Ops tf, Operand<TFloat32> mask) {
      Operand<TInt32> at =
          tf.dtypes.cast(
              tf.where(tf.math.notEqual(tf.reshape(mask, tf.constant(new int[] {-1})), zero(tf))),
              TInt32.class);
      return new Tokens(tf.shape(mask), tf.reshape(at, tf.constant(new int[] {-1})), at);
    }

    /** The tokens whose attention bias ({@code [B, 1, 1, T]}) is 0, which is every unmasked one. */
    static Tokens ofBias(Ops tf, Operand<TFloat32> bias) {
      Operand<TInt32> shape = tf.shape(bias);
      Operand<TInt32> grid = tf.gather(shape, tf.constant(new int[] {0, 3}), tf.constant(0));
      Operand<TFloat32> real =
          tf.dtypes.cast(tf.math.equal(tf.reshape(bias, grid), zero(tf)), TFloat32.class);
      return where(tf, real);
    }

    /** Token rows of a grid-major matrix: {@code [B * T, C] -> [N, C]}. */
    Operand<TFloat32> pack(Ops tf, Operand<TFloat32> gridRows) {
      return tf.gather(gridRows, positions, tf.constant(0));
    }

    /** Back onto the grid, zeros at padding: {@code [N, C] -> [B * T, C]}. */
    Operand<TFloat32> unpack(Ops tf, Operand<TFloat32> rows, int width) {
      Operand<TInt32> cells = tf.prod(grid, tf.constant(0), Prod.keepDims(true));
      Operand<TInt32> shape =
          tf.concat(List.of(cells, tf.constant(new int[] {width})), tf.constant(0));
      return tf.scatterNd(scatterPositions, rows, shape);
    }

    private static Operand<TFloat32> zero(Ops tf) {
      return tf.constant(0f);
    }
  }

  /**
   * One transformer layer on the token rows of a batch: {@code [N, H] -> [N, H]}.
   *
   * @param x hidden states of the real tokens, one row each
   * @param bias attention bias of the padded batch, {@code [B, 1, 1, T]}
   */
  static Operand<TFloat32> layer(
      Ops tf,
      BertConfig config,
      LayerVars w,
      Operand<TFloat32> x,
      Operand<TFloat32> bias,
      Tokens tokens) {
    int h = config.hiddenSize();
    int heads = config.heads();
    int d = config.headSize();

    Operand<TFloat32> qkv = tf.nn.biasAdd(tf.linalg.matMul(x, w.qkv()), w.qkvBias());
    Operand<TInt32> splitShape =
        tf.concat(List.of(tokens.grid(), tf.constant(new int[] {3, heads, d})), tf.constant(0));
    Operand<TFloat32> split =
        tf.linalg.transpose(
            tf.reshape(tokens.unpack(tf, qkv, 3 * h), splitShape),
            tf.constant(new int[] {2, 0, 3, 1, 4}));
    var parts = tf.unstack(split, 3L).output();
    Operand<TFloat32> q = parts.get(0);
    Operand<TFloat32> k = parts.get(1);
    Operand<TFloat32> v = parts.get(2);

    Operand<TFloat32> scores = tf.train.batchMatMul(q, k, TFloat32.class, BatchMatMul.adjY(true));
    Operand<TFloat32> probs = tf.nn.softmax(tf.math.add(scores, bias));
    Operand<TFloat32> context = tf.train.batchMatMul(probs, v, TFloat32.class);
    Operand<TFloat32> merged =
        tokens.pack(
            tf,
            tf.reshape(
                tf.linalg.transpose(context, tf.constant(new int[] {0, 2, 1, 3})),
                tf.constant(new int[] {-1, h})));

    Operand<TFloat32> attention =
        tf.math.add(
            tf.nn.biasAdd(tf.linalg.matMul(merged, w.attentionOutput()), w.attentionOutputBias()),
            x);
    attention =
        TransformerOps.layerNorm(
            tf,
            attention,
            w.attentionNormGamma(),
            w.attentionNormBeta(),
            config.layerNormEpsilon());

    Operand<TFloat32> inner =
        TransformerOps.gelu(
            tf, tf.nn.biasAdd(tf.linalg.matMul(attention, w.intermediate()), w.intermediateBias()));
    Operand<TFloat32> out =
        tf.math.add(tf.nn.biasAdd(tf.linalg.matMul(inner, w.output()), w.outputBias()), attention);
    return TransformerOps.layerNorm(
        tf, out, w.outputNormGamma(), w.outputNormBeta(), config.layerNormEpsilon());
  }

  /**
   * One transformer layer on a padded batch, {@code [B, T, H] -> [B, T, H]}, with zeros at padding.
   */
  static Operand<TFloat32> paddedLayer(
      Ops tf,
      BertConfig config,
      LayerVars w,
      Operand<TFloat32> hidden,
      Operand<TFloat32> bias,
      Tokens tokens) {
    int h = config.hiddenSize();
    Operand<TFloat32> rows = tokens.pack(tf, tf.reshape(hidden, tf.constant(new int[] {-1, h})));
    Operand<TFloat32> out = layer(tf, config, w, rows, bias, tokens);
    return tf.reshape(tokens.unpack(tf, out, h), tf.shape(hidden));
  }

  /** Pooled, L2-normalised embeddings: {@code [B, T, H], [B, T] -> [B, H]}. */
  static Operand<TFloat32> pool(
      Ops tf, Pooling pooling, Operand<TFloat32> hidden, Operand<TFloat32> mask) {
    Operand<TFloat32> pooled;
    if (pooling == Pooling.CLS) {
      pooled = tf.gather(hidden, tf.constant(0), tf.constant(1));
    } else {
      pooled = TransformerOps.maskedMean(tf, hidden, mask);
    }
    return TransformerOps.l2Normalize(tf, pooled);
  }
}
