package dev.cascade.encoder;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Sum;
import org.tensorflow.op.math.Mean;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * Graph-building functions shared by the encoder and the exit heads: the operations of a BERT layer
 * as the reference computes them.
 */
public final class TransformerOps {
  private static final float INV_SQRT2 = (float) (1 / Math.sqrt(2));

  private TransformerOps() {}

  /** LayerNorm over the last axis. */
  public static Operand<TFloat32> layerNorm(
      Ops tf, Operand<TFloat32> x, Operand<TFloat32> gamma, Operand<TFloat32> beta, float eps) {
    Operand<TInt32> last = tf.constant(-1);
    Operand<TFloat32> centered = tf.math.sub(x, tf.math.mean(x, last, Mean.keepDims(true)));
    Operand<TFloat32> variance = tf.math.mean(tf.math.square(centered), last, Mean.keepDims(true));
    Operand<TFloat32> normalized =
        tf.math.mul(centered, tf.math.rsqrt(tf.math.add(variance, tf.constant(eps))));
    return tf.math.add(tf.math.mul(normalized, gamma), beta);
  }

  /** The exact (erf) GELU that BERT uses. */
  public static Operand<TFloat32> gelu(Ops tf, Operand<TFloat32> x) {
    Operand<TFloat32> cdf =
        tf.math.add(tf.constant(1f), tf.math.erf(tf.math.mul(x, tf.constant(INV_SQRT2))));
    return tf.math.mul(tf.math.mul(x, tf.constant(0.5f)), cdf);
  }

  /** Euclidean norm of each row: {@code [B, H] -> [B, 1]}. */
  public static Operand<TFloat32> rowNorm(Ops tf, Operand<TFloat32> x) {
    return tf.math.sqrt(
        tf.math.maximum(
            tf.sum(tf.math.square(x), tf.constant(-1), Sum.keepDims(true)), tf.constant(1e-24f)));
  }

  /** Rows scaled to unit length: {@code [B, H] -> [B, H]}. */
  public static Operand<TFloat32> l2Normalize(Ops tf, Operand<TFloat32> x) {
    return tf.math.div(x, rowNorm(tf, x));
  }

  /** Mean of the masked rows over the token axis: {@code [B, T, H], [B, T] -> [B, H]}. */
  public static Operand<TFloat32> maskedMean(
      Ops tf, Operand<TFloat32> hidden, Operand<TFloat32> mask) {
    Operand<TFloat32> weights = tf.expandDims(mask, tf.constant(-1));
    Operand<TFloat32> sum = tf.sum(tf.math.mul(hidden, weights), tf.constant(1));
    Operand<TFloat32> count =
        tf.math.maximum(tf.sum(mask, tf.constant(1), Sum.keepDims(true)), tf.constant(1e-9f));
    return tf.math.div(sum, count);
  }
}
