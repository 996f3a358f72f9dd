package dev.cascade.exit;

import dev.cascade.model.BertConfig;
import dev.cascade.model.BertWeights;
import dev.cascade.model.Weight;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The weights of one exit head, by parameter name; matrices are {@code [in, out]}.
 *
 * @param layer the exit layer whose hidden states the head reads (1-based)
 * @param type the head's architecture
 * @param tensors parameters by name; see {@link #NAMES}, and {@link #ESTIMATOR_NAMES} for heads
 *     fitted with an agreement estimate
 */
public record HeadWeights(int layer, HeadType type, Map<String, Weight> tensors) {
  /** Parameter names of every head type; the feed-forward ones only when it has one. */
  public static final List<String> NAMES =
      List.of(
          "query",
          "query_bias",
          "key",
          "value",
          "value_bias",
          "attention_output",
          "attention_output_bias",
          "attention_norm_gamma",
          "attention_norm_beta",
          "intermediate",
          "intermediate_bias",
          "output",
          "output_bias",
          "output_norm_gamma",
          "output_norm_beta");

  /**
   * The agreement estimate's parameters: {@code estimator} {@code [hidden]} and {@code
   * estimator_bias} {@code [1]}, a linear map from the head's normalised embedding to its expected
   * cosine with the final embedding. Optional; both or neither.
   */
  public static final List<String> ESTIMATOR_NAMES = List.of("estimator", "estimator_bias");

  public HeadWeights {
    tensors = Map.copyOf(tensors);
    for (String name : names(type)) {
      if (!tensors.containsKey(name)) {
        throw new IllegalArgumentException("head at layer " + layer + " lacks " + name);
      }
    }
    if (tensors.containsKey(ESTIMATOR_NAMES.get(0))
        != tensors.containsKey(ESTIMATOR_NAMES.get(1))) {
      throw new IllegalArgumentException(
          "head at layer " + layer + " has only one of " + ESTIMATOR_NAMES);
    }
  }

  /** The parameter names this head has, in the order files store them. */
  public List<String> tensorNames() {
    if (!hasEstimator()) {
      return names(type);
    }
    List<String> all = new ArrayList<>(names(type));
    all.addAll(ESTIMATOR_NAMES);
    return all;
  }

  /** Whether the head carries an agreement estimate. */
  public boolean hasEstimator() {
    return tensors.containsKey(ESTIMATOR_NAMES.get(0));
  }

  /** The head's agreement estimate, or null when it has none. */
  public AgreementEstimate estimator() {
    if (!hasEstimator()) {
      return null;
    }
    return new AgreementEstimate(
        get(ESTIMATOR_NAMES.get(0)).values(), get(ESTIMATOR_NAMES.get(1)).values()[0]);
  }

  /** This head with {@code estimate} as its agreement estimate. */
  public HeadWeights withEstimator(AgreementEstimate estimate) {
    Map<String, Weight> t = new LinkedHashMap<>(tensors);
    float[] w = estimate.weights();
    t.put(
        ESTIMATOR_NAMES.get(0),
        new Weight(ESTIMATOR_NAMES.get(0), new long[] {w.length}, w.clone()));
    t.put(
        ESTIMATOR_NAMES.get(1),
        new Weight(ESTIMATOR_NAMES.get(1), new long[] {1}, new float[] {estimate.bias()}));
    return new HeadWeights(layer, type, t);
  }

  /** The parameter names a head of {@code type} has, in a fixed order. */
  public static List<String> names(HeadType type) {
    return type == HeadType.ATTENTION ? NAMES.subList(0, 9) : NAMES;
  }

  /** A parameter. */
  public Weight get(String name) {
    Weight w = tensors.get(name);
    if (w == null) {
      throw new IllegalArgumentException("head has no parameter " + name);
    }
    return w;
  }

  /** Number of parameters. */
  public long parameterCount() {
    return tensors.values().stream().mapToLong(w -> w.values().length).sum();
  }

  /**
   * A head initialised from the model's last transformer layer: its attention as is, and its
   * feed-forward block cut to the type's width (first units).
   */
  public static HeadWeights fromLastLayer(BertWeights model, int layer, HeadType type) {
    BertConfig config = model.config();
    BertWeights.Layer last = model.layers().get(config.layers() - 1);
    Map<String, Weight> t = new LinkedHashMap<>();
    t.put("query", last.query());
    t.put("query_bias", last.queryBias());
    t.put("key", last.key());
    t.put("value", last.value());
    t.put("value_bias", last.valueBias());
    t.put("attention_output", last.attentionOutput());
    t.put("attention_output_bias", last.attentionOutputBias());
    t.put("attention_norm_gamma", last.attentionNormGamma());
    t.put("attention_norm_beta", last.attentionNormBeta());
    int width = type.feedForwardWidth(config.hiddenSize(), config.intermediateSize());
    if (width > 0) {
      t.put("intermediate", columns(last.intermediate(), width));
      t.put("intermediate_bias", prefix(last.intermediateBias(), width));
      t.put("output", rows(last.output(), width));
      t.put("output_bias", last.outputBias());
      t.put("output_norm_gamma", last.outputNormGamma());
      t.put("output_norm_beta", last.outputNormBeta());
    }
    Map<String, Weight> renamed = new LinkedHashMap<>();
    t.forEach((k, w) -> renamed.put(k, new Weight(k, w.shape(), w.values().clone())));
    return new HeadWeights(layer, type, renamed);
  }

  private static Weight columns(Weight w, int n) {
    int rows = w.dim(0);
    int cols = w.dim(1);
    float[] out = new float[rows * n];
    for (int r = 0; r < rows; r++) {
      System.arraycopy(w.values(), r * cols, out, r * n, n);
    }
    return new Weight(w.name(), new long[] {rows, n}, out);
  }

  private static Weight rows(Weight w, int n) {
    return new Weight(w.name(), new long[] {n, w.dim(1)}, Arrays.copyOf(w.values(), n * w.dim(1)));
  }

  private static Weight prefix(Weight w, int n) {
    return new Weight(w.name(), new long[] {n}, Arrays.copyOf(w.values(), n));
  }
}
