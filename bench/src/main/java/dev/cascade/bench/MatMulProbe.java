package dev.cascade.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.tensorflow.Graph;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.linalg.MatMul;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TFloat32;

/** The machine's float32 matrix-product rate, measured with a TensorFlow {@code MatMul}. */
final class MatMulProbe {
  private MatMulProbe() {}

  /**
   * GFLOP/s of repeated products.
   *
   * @param median over the timed products
   * @param best of the fastest product, closest to what idle cores give
   */
  record Rate(double median, double best) {}

  /**
   * Times {@code [m, k] x [k, n]} products ({@code 2mkn} FLOPs each) for about {@code seconds},
   * with the engine's threading: {@code threads} intra-op threads, one inter-op, no spinning.
   */
  static Rate measure(int m, int k, int n, int threads, double seconds) {
    ConfigProto config =
        ConfigProto.newBuilder()
            .setIntraOpParallelismThreads(threads)
            .setInterOpParallelismThreads(1)
            .setExperimental(ConfigProto.Experimental.newBuilder().setDisableThreadSpinning(true))
            .build();
    try (Graph graph = new Graph()) {
      Ops tf = Ops.create(graph);
      Placeholder<TFloat32> a = tf.placeholder(TFloat32.class);
      Placeholder<TFloat32> b = tf.placeholder(TFloat32.class);
      MatMul<TFloat32> product = tf.linalg.matMul(a, b);
      try (Session session = new Session(graph, config);
          TFloat32 left = random(m, k, 1);
          TFloat32 right = random(k, n, 2)) {
        Runnable once =
            () -> session.runner().feed(a, left).feed(b, right).addTarget(product.op()).run();
        for (int i = 0; i < 3; i++) {
          once.run();
        }
        List<Double> times = new ArrayList<>();
        long end = System.nanoTime() + (long) (seconds * 1e9);
        while (times.size() < 5 || System.nanoTime() < end) {
          long start = System.nanoTime();
          once.run();
          times.add((System.nanoTime() - start) / 1e9);
        }
        double[] t = times.stream().mapToDouble(Double::doubleValue).toArray();
        double flops = 2.0 * m * k * n / 1e9;
        return new Rate(flops / Samples.percentile(t, 50), flops / Samples.percentile(t, 0));
      }
    }
  }

  private static TFloat32 random(int rows, int cols, long seed) {
    Random random = new Random(seed);
    float[] values = new float[rows * cols];
    for (int i = 0; i < values.length; i++) {
      values[i] = random.nextFloat() - 0.5f;
    }
    return TFloat32.tensorOf(Shape.of(rows, cols), DataBuffers.of(values, true, false));
  }
}
