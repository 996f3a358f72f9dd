package dev.cascade.encoder;

import dev.cascade.model.Weight;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TFloat32;

/**
 * Declares weights as graph variables and loads their values into a session once, so that graphs
 * never carry weights as constants (which makes graph optimisation slow for every new fetch
 * signature).
 *
 * <p>Use from the thread that builds the graph; not thread-safe.
 */
public final class GraphVariables {
  private final Map<Placeholder<TFloat32>, Weight> values = new LinkedHashMap<>();
  private final List<Operand<?>> assigns = new ArrayList<>();
  private final Map<String, Variable<TFloat32>> byName = new LinkedHashMap<>();

  /** Declares a variable named {@code name} in {@code tf}'s scope that will hold {@code weight}. */
  public Variable<TFloat32> declare(Ops tf, String name, Weight weight) {
    Shape shape = Shape.of(weight.shape());
    Variable<TFloat32> v = tf.withName(name).variable(shape, TFloat32.class);
    Placeholder<TFloat32> value =
        tf.withName(name + "_value").placeholder(TFloat32.class, Placeholder.shape(shape));
    values.put(value, weight);
    assigns.add(tf.withName(name + "_assign").assign(v, value));
    byName.put(name, v);
    return v;
  }

  /** The variables declared so far, by the name given to {@link #declare}. */
  public Map<String, Variable<TFloat32>> byName() {
    return Map.copyOf(byName);
  }

  /**
   * Opens a session on {@code graph} with {@code options}' threading (idle threads sleep rather
   * than spin) and loads the declared variables into it. The session is closed again if loading
   * fails.
   */
  public Session openSession(Graph graph, EncoderOptions options) {
    int threads =
        options.intraOpThreads() == 0
            ? Runtime.getRuntime().availableProcessors()
            : options.intraOpThreads();
    Session session =
        new Session(
            graph,
            ConfigProto.newBuilder()
                .setIntraOpParallelismThreads(threads)
                .setInterOpParallelismThreads(options.interOpThreads())
                .setExperimental(
                    ConfigProto.Experimental.newBuilder().setDisableThreadSpinning(true))
                .build());
    try {
      load(session);
      return session;
    } catch (RuntimeException e) {
      session.close();
      throw e;
    }
  }

  /** Assigns every declared variable its value in {@code session}, in one run. */
  public void load(Session session) {
    List<TFloat32> tensors = new ArrayList<>();
    try {
      Session.Runner runner = session.runner();
      for (var entry : values.entrySet()) {
        Weight w = entry.getValue();
        TFloat32 t =
            TFloat32.tensorOf(Shape.of(w.shape()), DataBuffers.of(w.values(), true, false));
        tensors.add(t);
        runner.feed(entry.getKey(), t);
      }
      for (Operand<?> assign : assigns) {
        runner.addTarget(assign.op());
      }
      try (Result ignored = runner.run()) {
        // Targets only: nothing is fetched.
      }
    } finally {
      tensors.forEach(TFloat32::close);
    }
  }

  /** Reads the current values of {@code variables} out of {@code session}. */
  public static Map<String, Weight> read(
      Session session, Map<String, ? extends Operand<TFloat32>> variables) {
    Session.Runner runner = session.runner();
    List<String> names = new ArrayList<>(variables.keySet());
    for (String name : names) {
      runner.fetch(variables.get(name));
    }
    Map<String, Weight> out = new LinkedHashMap<>();
    try (Result result = runner.run()) {
      for (int i = 0; i < names.size(); i++) {
        TFloat32 t = (TFloat32) result.get(i);
        float[] data = new float[(int) t.shape().size()];
        t.asRawTensor().data().asFloats().read(data);
        out.put(names.get(i), new Weight(names.get(i), t.shape().asArray(), data));
      }
    }
    return out;
  }
}
