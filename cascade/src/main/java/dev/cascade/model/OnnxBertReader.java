package dev.cascade.model;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import dev.cascade.model.onnx.GraphProto;
import dev.cascade.model.onnx.ModelProto;
import dev.cascade.model.onnx.NodeProto;
import dev.cascade.model.onnx.TensorProto;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the weights and hyper-parameters of a BERT-style encoder out of an ONNX export (as made by
 * {@code torch.onnx} or Optimum from a Hugging Face {@code BertModel}).
 *
 * <p>Parameters are found by their Hugging Face names ({@code embeddings.word_embeddings.weight},
 * {@code encoder.layer.N.attention.self.query.bias}, ...); projection matrices that the exporter
 * renamed ({@code onnx::MatMul_123}) are found through the graph, as the {@code MatMul} whose
 * output the named bias is added to. Heads, LayerNorm epsilon and the attention-mask value are read
 * from the graph's constants. Nothing is hard-coded per model.
 */
public final class OnnxBertReader {
  private static final Pattern LAYER = Pattern.compile("encoder\\.layer\\.(\\d+)\\.");
  private static final String WORDS = "embeddings.word_embeddings.weight";

  private final GraphProto graph;
  private final Map<String, TensorProto> initializers = new HashMap<>();
  private final Map<String, NodeProto> producers = new HashMap<>();
  private final Map<String, List<NodeProto>> consumers = new HashMap<>();
  private final String prefix;

  private OnnxBertReader(GraphProto graph) {
    this.graph = graph;
    for (TensorProto t : graph.getInitializerList()) {
      initializers.put(t.getName(), t);
    }
    for (NodeProto node : graph.getNodeList()) {
      for (String out : node.getOutputList()) {
        producers.put(out, node);
      }
      for (String in : node.getInputList()) {
        consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(node);
      }
    }
    this.prefix =
        initializers.keySet().stream()
            .filter(n -> n.endsWith(WORDS))
            .map(n -> n.substring(0, n.length() - WORDS.length()))
            .findFirst()
            .orElseThrow(
                () ->
                    new ModelFormatException(
                        "not a BERT-style encoder: no initializer named '"
                            + WORDS
                            + "' (found "
                            + initializers.size()
                            + " initializers)"));
  }

  /** Reads a model file. */
  public static BertWeights read(Path onnxFile) throws IOException {
    if (!Files.isRegularFile(onnxFile)) {
      throw new ModelFormatException("model file not found: " + onnxFile);
    }
    try (InputStream in = Files.newInputStream(onnxFile)) {
      return read(in);
    }
  }

  /** Reads a model from a stream, which this method does not close. */
  public static BertWeights read(InputStream in) throws IOException {
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    ModelProto model;
    try {
      CodedInputStream coded =
          CodedInputStream.newInstance(
              new DigestInputStream(new BufferedInputStream(in, 1 << 20), sha));
      coded.setSizeLimit(Integer.MAX_VALUE);
      model = ModelProto.parseFrom(coded);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new ModelFormatException("not an ONNX model: " + e.getMessage(), e);
    }
    if (!model.hasGraph() || model.getGraph().getNodeCount() == 0) {
      throw new ModelFormatException("not an ONNX model: it has no graph");
    }
    String checksum = HexFormat.of().formatHex(sha.digest());
    return new OnnxBertReader(model.getGraph()).weights(checksum);
  }

  private BertWeights weights(String checksum) {
    Weight words = weight(prefix + WORDS);
    Weight positions = weight(prefix + "embeddings.position_embeddings.weight");
    Weight types =
        initializers.containsKey(prefix + "embeddings.token_type_embeddings.weight")
            ? weight(prefix + "embeddings.token_type_embeddings.weight")
            : null;
    int layers = layerCount();
    List<BertWeights.Layer> layerWeights = new ArrayList<>();
    for (int i = 0; i < layers; i++) {
      layerWeights.add(layer(i));
    }
    int hidden = words.dim(1);
    int[] heads = attentionHeads(hidden);
    BertConfig config =
        new BertConfig(
            layers,
            hidden,
            heads[0],
            layerWeights.get(0).intermediateBias().dim(0),
            words.dim(0),
            positions.dim(0),
            types == null ? 0 : types.dim(0),
            layerNormEpsilon(),
            maskValue());
    return new BertWeights(
        config,
        checksum,
        words,
        positions,
        types,
        weight(prefix + "embeddings.LayerNorm.weight"),
        weight(prefix + "embeddings.LayerNorm.bias"),
        layerWeights);
  }

  private int layerCount() {
    Set<Integer> seen = new TreeSet<>();
    for (String name : initializers.keySet()) {
      Matcher m = LAYER.matcher(name);
      if (name.startsWith(prefix) && m.find()) {
        seen.add(Integer.parseInt(m.group(1)));
      }
    }
    if (seen.isEmpty()) {
      throw new ModelFormatException(
          "not a BERT-style encoder: no initializers named 'encoder.layer.N.*'");
    }
    int count = seen.size();
    if (!seen.contains(0) || !seen.contains(count - 1)) {
      throw new ModelFormatException(
          "encoder layers are not numbered 0.." + (count - 1) + ": " + seen);
    }
    return count;
  }

  private BertWeights.Layer layer(int i) {
    String p = prefix + "encoder.layer." + i + ".";
    return new BertWeights.Layer(
        projection(p + "attention.self.query"),
        weight(p + "attention.self.query.bias"),
        projection(p + "attention.self.key"),
        weight(p + "attention.self.key.bias"),
        projection(p + "attention.self.value"),
        weight(p + "attention.self.value.bias"),
        projection(p + "attention.output.dense"),
        weight(p + "attention.output.dense.bias"),
        weight(p + "attention.output.LayerNorm.weight"),
        weight(p + "attention.output.LayerNorm.bias"),
        projection(p + "intermediate.dense"),
        weight(p + "intermediate.dense.bias"),
        projection(p + "output.dense"),
        weight(p + "output.dense.bias"),
        weight(p + "output.LayerNorm.weight"),
        weight(p + "output.LayerNorm.bias"));
  }

  /** The {@code [in, out]} matrix of the linear layer {@code name}. */
  private Weight projection(String name) {
    if (initializers.containsKey(name + ".weight")) {
      return weight(name + ".weight").transposed();
    }
    String bias = name + ".bias";
    if (!initializers.containsKey(bias)) {
      throw missing(name + ".weight or " + bias);
    }
    for (NodeProto add : consumers.getOrDefault(bias, List.of())) {
      for (String in : add.getInputList()) {
        NodeProto matMul = producers.get(in);
        if (matMul != null && matMul.getOpType().equals("MatMul")) {
          for (String operand : matMul.getInputList()) {
            if (initializers.containsKey(operand)) {
              Weight w = weight(operand);
              return new Weight(name + ".weight", w.shape(), w.values());
            }
          }
        }
      }
    }
    throw new ModelFormatException(
        "not a BERT-style encoder: no MatMul with a weight initializer feeds the addition of "
            + bias);
  }

  /** Heads and head size, read from the Reshape of layer 0's query projection. */
  private int[] attentionHeads(int hidden) {
    String bias = prefix + "encoder.layer.0.attention.self.query.bias";
    for (NodeProto add : consumers.getOrDefault(bias, List.of())) {
      for (String out : add.getOutputList()) {
        for (NodeProto reshape : consumers.getOrDefault(out, List.of())) {
          if (!reshape.getOpType().equals("Reshape") || reshape.getInputCount() < 2) {
            continue;
          }
          List<Long> dims = integers(reshape.getInput(1));
          if (dims.size() >= 2) {
            long heads = dims.get(dims.size() - 2);
            long size = dims.get(dims.size() - 1);
            if (heads > 0 && size > 0 && heads * size == hidden) {
              return new int[] {(int) heads, (int) size};
            }
          }
        }
      }
    }
    throw new ModelFormatException(
        "not a BERT-style encoder: could not read the number of attention heads (expected a"
            + " Reshape of layer 0's query projection to [batch, tokens, heads, head_size])");
  }

  /** Integer values that make up a shape tensor: a constant, or a Concat of constants. */
  private List<Long> integers(String tensor) {
    Optional<TensorProto> constant = constant(tensor);
    if (constant.isPresent()) {
      return longs(constant.get());
    }
    NodeProto node = producers.get(tensor);
    List<Long> values = new ArrayList<>();
    if (node != null && node.getOpType().equals("Concat")) {
      for (String in : node.getInputList()) {
        Optional<TensorProto> part = constant(in);
        if (part.isPresent()) {
          values.addAll(longs(part.get()));
        } else {
          values.add(-1L);
        }
      }
    }
    return values;
  }

  private float layerNormEpsilon() {
    String gamma = prefix + "embeddings.LayerNorm.weight";
    for (NodeProto node : consumers.getOrDefault(gamma, List.of())) {
      if (node.getOpType().equals("LayerNormalization")) {
        return node.getAttributeList().stream()
            .filter(a -> a.getName().equals("epsilon"))
            .map(a -> a.getF())
            .findFirst()
            .orElse(1e-5f);
      }
      NodeProto sqrt = findUpstream(node, "Sqrt", 4);
      if (sqrt != null) {
        NodeProto add = producers.get(sqrt.getInput(0));
        if (add != null && add.getOpType().equals("Add")) {
          for (String in : add.getInputList()) {
            Optional<TensorProto> eps = constant(in);
            if (eps.isPresent()) {
              return floats(eps.get())[0];
            }
          }
        }
      }
    }
    throw new ModelFormatException(
        "not a BERT-style encoder: could not read the LayerNorm epsilon of the embeddings (expected"
            + " LayerNormalization, or Sqrt(variance + epsilon))");
  }

  /** The value the graph adds to attention scores of masked positions. */
  private float maskValue() {
    ArrayDeque<String> frontier = new ArrayDeque<>(List.of("attention_mask"));
    Set<String> visited = new HashSet<>();
    for (int depth = 0; depth < 6 && !frontier.isEmpty(); depth++) {
      ArrayDeque<String> next = new ArrayDeque<>();
      for (String tensor : frontier) {
        for (NodeProto node : consumers.getOrDefault(tensor, List.of())) {
          if (!visited.add(node.getName() + node.getOutput(0))) {
            continue;
          }
          if (node.getOpType().equals("Mul")) {
            for (String in : node.getInputList()) {
              Optional<TensorProto> c = constant(in);
              if (c.isPresent() && floats(c.get()).length == 1) {
                return floats(c.get())[0];
              }
            }
          }
          next.addAll(node.getOutputList());
        }
      }
      frontier = next;
    }
    return -Float.MAX_VALUE;
  }

  private NodeProto findUpstream(NodeProto start, String opType, int depth) {
    ArrayDeque<NodeProto> frontier = new ArrayDeque<>(List.of(start));
    for (int d = 0; d < depth && !frontier.isEmpty(); d++) {
      ArrayDeque<NodeProto> next = new ArrayDeque<>();
      for (NodeProto node : frontier) {
        for (String in : node.getInputList()) {
          NodeProto p = producers.get(in);
          if (p != null) {
            if (p.getOpType().equals(opType)) {
              return p;
            }
            next.add(p);
          }
        }
      }
      frontier = next;
    }
    return null;
  }

  private Optional<TensorProto> constant(String tensor) {
    if (initializers.containsKey(tensor)) {
      return Optional.of(initializers.get(tensor));
    }
    NodeProto node = producers.get(tensor);
    if (node != null && node.getOpType().equals("Constant")) {
      return node.getAttributeList().stream()
          .filter(a -> a.getName().equals("value") && a.hasT())
          .map(a -> a.getT())
          .findFirst();
    }
    return Optional.empty();
  }

  private Weight weight(String name) {
    TensorProto t = initializers.get(name);
    if (t == null) {
      throw missing(name);
    }
    long[] shape = t.getDimsList().stream().mapToLong(Long::longValue).toArray();
    return new Weight(name, shape, floats(t));
  }

  private ModelFormatException missing(String name) {
    return new ModelFormatException(
        "not a BERT-style encoder: the graph '" + graph.getName() + "' has no weight " + name);
  }

  private static float[] floats(TensorProto t) {
    if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
      throw new ModelFormatException(
          "tensor " + t.getName() + " keeps its data in an external file, which is not supported");
    }
    if (t.getDataType() != TensorProto.DataType.FLOAT_VALUE) {
      throw new ModelFormatException(
          "tensor "
              + t.getName()
              + " has ONNX data type "
              + t.getDataType()
              + ", expected FLOAT (1)");
    }
    if (!t.getRawData().isEmpty()) {
      ByteString raw = t.getRawData();
      float[] out = new float[raw.size() / 4];
      raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
      return out;
    }
    float[] out = new float[t.getFloatDataCount()];
    for (int i = 0; i < out.length; i++) {
      out[i] = t.getFloatData(i);
    }
    return out;
  }

  private static List<Long> longs(TensorProto t) {
    List<Long> out = new ArrayList<>();
    if (t.getDataType() == TensorProto.DataType.INT64_VALUE) {
      if (!t.getRawData().isEmpty()) {
        var buf =
            t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asLongBuffer();
        while (buf.hasRemaining()) {
          out.add(buf.get());
        }
      } else {
        out.addAll(t.getInt64DataList());
      }
    } else if (t.getDataType() == TensorProto.DataType.INT32_VALUE) {
      if (!t.getRawData().isEmpty()) {
        var buf =
            t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asIntBuffer();
        while (buf.hasRemaining()) {
          out.add((long) buf.get());
        }
      } else {
        t.getInt32DataList().forEach(v -> out.add((long) v));
      }
    }
    return out;
  }
}
