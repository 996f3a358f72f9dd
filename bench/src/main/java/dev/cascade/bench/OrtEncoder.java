package dev.cascade.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.cascade.model.Pooling;
import dev.cascade.tokenize.TokenizedInput;
import java.io.IOException;
import java.io.InputStream;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The peer: ONNX Runtime in-process on a model's ONNX file, fed the same token ids as the engine
 * and pooled the same way, so both sides do the same work.
 *
 * <p>The session uses {@code threads} intra-op threads (ONNX Runtime's default is one here, which
 * would be an unfair peer), sequential execution and every graph optimisation. Thread-safe like an
 * {@link OrtSession}; {@link #close()} releases the session.
 */
final class OrtEncoder implements AutoCloseable {
  private static final String OUTPUT = "last_hidden_state";

  private final OrtEnvironment env;
  private final OrtSession session;
  private final Pooling pooling;
  private final Set<String> inputNames;

  private OrtEncoder(OrtEnvironment env, OrtSession session, Pooling pooling) throws OrtException {
    this.env = env;
    this.session = session;
    this.pooling = pooling;
    this.inputNames = session.getInputNames();
    if (!session.getOutputNames().contains(OUTPUT)) {
      throw new IllegalStateException(
          "model has no output " + OUTPUT + ": " + session.getOutputNames());
    }
  }

  /**
   * Opens the ONNX file that is the classpath resource {@code resource}.
   *
   * @param threads intra-op threads, at least 1
   * @param spinning whether idle pool threads spin before they sleep (ONNX Runtime's default)
   */
  static OrtEncoder open(String resource, Pooling pooling, int threads, boolean spinning)
      throws IOException, OrtException {
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be positive, was " + threads);
    }
    byte[] model;
    try (InputStream in = OrtEncoder.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new IOException("resource " + resource + " is not on the classpath");
      }
      model = in.readAllBytes();
    }
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      options.setIntraOpNumThreads(threads);
      options.setInterOpNumThreads(1);
      options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
      options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
      options.addConfigEntry("session.intra_op.allow_spinning", spinning ? "1" : "0");
      return new OrtEncoder(env, env.createSession(model, options), pooling);
    }
  }

  /** ONNX Runtime's version. */
  String version() {
    return env.getVersion();
  }

  /** Pooled, L2-normalised embeddings of a batch padded to its longest input, in input order. */
  float[][] encode(List<TokenizedInput> inputs) {
    int n = inputs.size();
    int length = 0;
    for (TokenizedInput in : inputs) {
      length = Math.max(length, in.length());
    }
    long[] ids = new long[n * length];
    long[] mask = new long[n * length];
    for (int r = 0; r < n; r++) {
      int[] row = inputs.get(r).ids();
      for (int c = 0; c < row.length; c++) {
        ids[r * length + c] = row[c];
        mask[r * length + c] = 1;
      }
    }
    long[] shape = {n, length};
    Map<String, OnnxTensor> feed = new HashMap<>();
    try {
      feed.put("input_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(ids), shape));
      feed.put("attention_mask", OnnxTensor.createTensor(env, LongBuffer.wrap(mask), shape));
      if (inputNames.contains("token_type_ids")) {
        feed.put(
            "token_type_ids",
            OnnxTensor.createTensor(env, LongBuffer.wrap(new long[n * length]), shape));
      }
      try (OrtSession.Result result = session.run(feed, Set.of(OUTPUT))) {
        FloatBuffer hidden = ((OnnxTensor) result.get(0)).getFloatBuffer();
        return pool(hidden, mask, n, length);
      }
    } catch (OrtException e) {
      throw new IllegalStateException("ONNX Runtime failed", e);
    } finally {
      feed.values().forEach(OnnxTensor::close);
    }
  }

  private float[][] pool(FloatBuffer hidden, long[] mask, int n, int length) {
    int width = hidden.capacity() / (n * length);
    float[][] out = new float[n][width];
    for (int r = 0; r < n; r++) {
      float[] v = out[r];
      int base = r * length * width;
      if (pooling == Pooling.CLS) {
        hidden.get(base, v);
      } else {
        int count = 0;
        for (int t = 0; t < length; t++) {
          if (mask[r * length + t] != 0) {
            count++;
            int at = base + t * width;
            for (int j = 0; j < width; j++) {
              v[j] += hidden.get(at + j);
            }
          }
        }
        for (int j = 0; j < width; j++) {
          v[j] /= Math.max(count, 1);
        }
      }
      double norm = 0;
      for (float x : v) {
        norm += (double) x * x;
      }
      float scale = (float) (1 / Math.max(Math.sqrt(norm), 1e-12));
      for (int j = 0; j < width; j++) {
        v[j] *= scale;
      }
    }
    return out;
  }

  @Override
  public void close() throws OrtException {
    session.close();
  }
}
