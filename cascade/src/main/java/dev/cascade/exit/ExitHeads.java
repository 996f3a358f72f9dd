package dev.cascade.exit;

import dev.cascade.encoder.EncoderBatch;
import dev.cascade.encoder.EncoderOptions;
import dev.cascade.encoder.GraphVariables;
import dev.cascade.model.BertConfig;
import dev.cascade.model.Pooling;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;

/**
 * Trained exit heads ready to run on an {@link EncoderBatch}'s hidden states, in their own
 * TensorFlow session (hidden states are fed from the encoder's native tensors, not copied).
 *
 * <p>Thread-safe. {@link #close()} releases the session.
 */
public final class ExitHeads implements AutoCloseable {
  private final HeadsFile file;
  private final Graph graph;
  private final Session session;
  private final Placeholder<TFloat32> hidden;
  private final Placeholder<TFloat32> mask;
  private final Map<Integer, HeadGraph.Output> outputs = new LinkedHashMap<>();
  private final Map<Integer, AgreementEstimate> estimators = new LinkedHashMap<>();

  /**
   * Builds the heads' graph.
   *
   * @param file heads for this backbone; the caller checks {@link HeadsFile#requireBackbone}
   */
  public ExitHeads(HeadsFile file, BertConfig config, Pooling pooling, EncoderOptions options) {
    this.file = file;
    this.graph = new Graph();
    boolean built = false;
    try {
      Ops tf = Ops.create(graph);
      hidden =
          tf.withName("hidden")
              .placeholder(
                  TFloat32.class, Placeholder.shape(Shape.of(-1, -1, config.hiddenSize())));
      mask = tf.withName("mask").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, -1)));
      GraphVariables variables = new GraphVariables();
      List<Operand<?>> layouts = new ArrayList<>();
      for (HeadWeights head : file.heads()) {
        AgreementEstimate estimate = head.estimator();
        if (estimate != null) {
          if (estimate.weights().length != config.hiddenSize()) {
            throw new IllegalArgumentException(
                "the agreement estimate of the head at layer "
                    + head.layer()
                    + " has "
                    + estimate.weights().length
                    + " weights; the model's hidden size is "
                    + config.hiddenSize());
          }
          estimators.put(head.layer(), estimate);
        }
        Ops scope = tf.withSubScope("head_" + head.layer());
        Map<String, Operand<TFloat32>> vars = new LinkedHashMap<>();
        for (String name : HeadWeights.names(head.type())) {
          vars.put(name, variables.declare(scope, name, head.get(name)));
        }
        Shape shape = Shape.of(config.heads(), config.headSize(), config.hiddenSize());
        layouts.add(
            layout(
                scope,
                HeadGraph.KEY_BY_HEAD,
                shape,
                HeadGraph.keyByHead(scope, config, vars.get("key")),
                vars));
        shape = Shape.of(config.heads(), config.hiddenSize(), config.headSize());
        layouts.add(
            layout(
                scope,
                HeadGraph.VALUE_BY_HEAD,
                shape,
                HeadGraph.valueByHead(scope, config, vars.get("value")),
                vars));
        outputs.put(
            head.layer(), HeadGraph.build(scope, config, pooling, head.type(), vars, hidden, mask));
      }
      Session opened = variables.openSession(graph, options);
      try {
        Session.Runner runner = opened.runner();
        layouts.forEach(assign -> runner.addTarget(assign.op()));
        try (Result ignored = runner.run()) {
          // Targets only: the layouts are computed once, here.
        }
      } catch (RuntimeException e) {
        opened.close();
        throw e;
      }
      session = opened;
      built = true;
    } finally {
      if (!built) {
        graph.close();
      }
    }
  }

  /**
   * Declares a variable {@code name} that holds {@code value} once assigned, adds it to {@code
   * vars}, and returns the assignment.
   */
  private static Operand<?> layout(
      Ops scope,
      String name,
      Shape shape,
      Operand<TFloat32> value,
      Map<String, Operand<TFloat32>> vars) {
    Variable<TFloat32> v = scope.withName(name).variable(shape, TFloat32.class);
    vars.put(name, v);
    return scope.withName(name + "_assign").assign(v, value);
  }

  /** The heads' file. */
  public HeadsFile file() {
    return file;
  }

  /** Exit layers that have a head, ascending. */
  public int[] layers() {
    return file.layers();
  }

  /** Whether {@code layer} has a head. */
  public boolean has(int layer) {
    return outputs.containsKey(layer);
  }

  /** Whether the head at {@code layer} carries an agreement estimate. */
  public boolean hasEstimate(int layer) {
    return estimators.containsKey(layer);
  }

  /** Runs the head of the batch's current layer on every row of the batch. */
  public HeadOutput apply(EncoderBatch batch) {
    return apply(batch.layer(), batch.hiddenStates(), batch.attentionMask());
  }

  /**
   * Runs the head at {@code layer}.
   *
   * @param hiddenStates {@code [B, T, H]} at that layer
   * @param attentionMask {@code [B, T]}
   */
  public HeadOutput apply(int layer, TFloat32 hiddenStates, TFloat32 attentionMask) {
    HeadGraph.Output out = outputs.get(layer);
    if (out == null) {
      throw new IllegalArgumentException(
          "no exit head at layer " + layer + "; heads exist at " + Arrays.toString(layers()));
    }
    int rows = (int) hiddenStates.shape().get(0);
    try (Result result =
        session
            .runner()
            .feed(hidden, hiddenStates)
            .feed(mask, attentionMask)
            .fetch(out.embedding())
            .fetch(out.norm())
            .run()) {
      TFloat32 embeddings = (TFloat32) result.get(0);
      int width = (int) embeddings.shape().get(1);
      float[] flat = new float[rows * width];
      embeddings.asRawTensor().data().asFloats().read(flat);
      float[][] rowsOut = new float[rows][];
      for (int i = 0; i < rows; i++) {
        rowsOut[i] = Arrays.copyOfRange(flat, i * width, (i + 1) * width);
      }
      float[] norms = new float[rows];
      ((TFloat32) result.get(1)).asRawTensor().data().asFloats().read(norms);
      double[] estimates = new double[rows];
      AgreementEstimate estimate = estimators.get(layer);
      for (int i = 0; i < rows; i++) {
        estimates[i] = estimate == null ? Double.NaN : estimate.of(rowsOut[i]);
      }
      return new HeadOutput(rowsOut, norms, estimates);
    }
  }

  @Override
  public void close() {
    session.close();
    graph.close();
  }
}
