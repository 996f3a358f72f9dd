package dev.cascade.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import dev.cascade.encoder.EncoderModel;
import dev.cascade.encoder.EncoderOptions;
import dev.cascade.model.onnx.AttributeProto;
import dev.cascade.model.onnx.GraphProto;
import dev.cascade.model.onnx.ModelProto;
import dev.cascade.model.onnx.NodeProto;
import dev.cascade.model.onnx.TensorProto;
import dev.cascade.tokenize.Truncation;
import dev.cascade.vector.Vectors;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Weights and hyper-parameters come out of real exports as their model cards say, and files that
 * are not BERT-style encoders are refused with a message that names what is missing.
 */
class OnnxBertReaderTest {
  private static final Map<String, BertWeights> BUILT_IN = new LinkedHashMap<>();
  private static final Map<String, String> SHA256 = new LinkedHashMap<>();

  @BeforeAll
  static void readBuiltInModels() throws IOException {
    for (String name : ModelSpec.BUILT_IN) {
      ModelSpec spec = ModelSpec.builtIn(name);
      try (InputStream in = spec.openWeights()) {
        BUILT_IN.put(name, OnnxBertReader.read(in));
      }
      try (InputStream in = spec.openWeights()) {
        SHA256.put(name, sha256(in.readAllBytes()));
      }
    }
  }

  static Stream<Arguments> knownModels() {
    return Stream.of(Arguments.of("bge-small-en-v1.5", 12), Arguments.of("all-minilm-l6-v2", 6));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("knownModels")
  void read_builtInModel_configMatchesModelCard(String name, int layers) {
    BertWeights weights = BUILT_IN.get(name);
    BertConfig c = weights.config();
    System.out.printf("%s: %s%n", name, c);
    assertEquals(layers, c.layers());
    assertEquals(384, c.hiddenSize());
    assertEquals(12, c.heads());
    assertEquals(32, c.headSize());
    assertEquals(1536, c.intermediateSize());
    assertEquals(30522, c.vocabSize());
    assertEquals(512, c.maxPositions());
    assertEquals(2, c.typeVocabSize());
    assertEquals(1e-12f, c.layerNormEpsilon());
    assertTrue(c.maskValue() <= -1e4f, "padded positions are masked out: " + c.maskValue());

    assertEquals(layers, weights.layers().size());
    assertArrayEquals(new long[] {30522, 384}, weights.wordEmbeddings().shape());
    BertWeights.Layer top = weights.layers().get(layers - 1);
    assertArrayEquals(new long[] {384, 384}, top.key().shape(), "[in, out]");
    assertArrayEquals(new long[] {384, 1536}, top.intermediate().shape(), "[in, out]");
    assertArrayEquals(new long[] {1536, 384}, top.output().shape(), "[in, out]");
    assertNotEquals(
        weights.layers().get(0).key().values()[0],
        top.key().values()[0],
        "each layer has its own weights");
  }

  @Test
  void checksum_builtInModels_isSha256OfTheFileAndDiffers() {
    for (String name : ModelSpec.BUILT_IN) {
      String checksum = BUILT_IN.get(name).checksum();
      assertTrue(checksum.matches("[0-9a-f]{64}"), name + ": " + checksum);
      assertEquals(SHA256.get(name), checksum, name + ": SHA-256 of the whole file");
    }
    assertNotEquals(
        BUILT_IN.get("bge-small-en-v1.5").checksum(), BUILT_IN.get("all-minilm-l6-v2").checksum());
  }

  @Test
  void read_tinySyntheticBert_readsConfigAndTransposesProjections() throws IOException {
    BertWeights weights = read(tinyBert(2));
    assertEquals(new BertConfig(2, 4, 2, 8, 10, 16, 2, 1e-12f, -10000f), weights.config());
    // PyTorch keeps Linear weights as [out, in]; the reader gives [in, out].
    float[] torch = tensorValues(4, 4, 300);
    Weight query = weights.layers().get(1).query();
    assertArrayEquals(new long[] {4, 4}, query.shape());
    for (int out = 0; out < 4; out++) {
      for (int in = 0; in < 4; in++) {
        assertEquals(torch[out * 4 + in], query.values()[in * 4 + out]);
      }
    }
    assertArrayEquals(new long[] {4, 8}, weights.layers().get(0).intermediate().shape());
  }

  @Test
  void read_notOnnx_refusedAsNotAnOnnxModel(@TempDir Path dir) throws IOException {
    byte[] random = new byte[4096];
    new Random(7).nextBytes(random);
    Map<String, byte[]> files = new LinkedHashMap<>();
    files.put("text.onnx", "this is a text file, not a model\n".getBytes(StandardCharsets.UTF_8));
    files.put("random.onnx", random);
    files.put("empty.onnx", new byte[0]);
    files.put("tokenizer.onnx", readResource("all-minilm-l6-v2-tokenizer.json"));
    for (var file : files.entrySet()) {
      Path path = Files.write(dir.resolve(file.getKey()), file.getValue());
      ModelFormatException e =
          assertThrows(ModelFormatException.class, () -> OnnxBertReader.read(path), file.getKey());
      assertTrue(e.getMessage().startsWith("not an ONNX model"), e.getMessage());
    }
    ModelFormatException missing =
        assertThrows(
            ModelFormatException.class, () -> OnnxBertReader.read(dir.resolve("absent.onnx")));
    assertTrue(missing.getMessage().contains("absent.onnx"), missing.getMessage());
  }

  @Test
  void read_onnxWithoutBertWeights_namesTheWordEmbeddings(@TempDir Path dir) throws IOException {
    ModelProto resnetLike =
        ModelProto.newBuilder()
            .setIrVersion(8)
            .setGraph(
                GraphProto.newBuilder()
                    .setName("classifier")
                    .addNode(node("MatMul", List.of("x", "fc.weight"), "y"))
                    .addInitializer(floats("fc.weight", new long[] {4, 4}, tensorValues(4, 4, 0))))
            .build();
    Path path = Files.write(dir.resolve("classifier.onnx"), resnetLike.toByteArray());
    ModelFormatException e =
        assertThrows(ModelFormatException.class, () -> OnnxBertReader.read(path));
    assertTrue(e.getMessage().contains("embeddings.word_embeddings.weight"), e.getMessage());
  }

  @Test
  void read_tinyBertWithoutAKeyBias_namesIt(@TempDir Path dir) throws IOException {
    ModelProto broken = without(tinyBert(2), Set.of("encoder.layer.1.attention.self.key.bias"));
    Path path = Files.write(dir.resolve("broken.onnx"), broken.toByteArray());
    ModelFormatException e =
        assertThrows(ModelFormatException.class, () -> OnnxBertReader.read(path));
    assertTrue(e.getMessage().contains("encoder.layer.1.attention.self.key.bias"), e.getMessage());
  }

  @Test
  void read_tinyBertWithALayerMissing_namesTheNumbering() {
    ModelProto gap = tinyBert(3);
    Set<String> layer1 =
        Set.copyOf(
            gap.getGraph().getInitializerList().stream()
                .map(TensorProto::getName)
                .filter(n -> n.startsWith("encoder.layer.1."))
                .toList());
    ModelFormatException e =
        assertThrows(ModelFormatException.class, () -> read(without(gap, layer1)));
    assertTrue(e.getMessage().contains("[0, 2]"), e.getMessage());
  }

  @Test
  void read_tinyBertWithBadWeights_namesTheTensor() {
    ModelFormatException external =
        assertThrows(
            ModelFormatException.class,
            () ->
                read(
                    replace(
                        tinyBert(1),
                        "embeddings.position_embeddings.weight",
                        t -> t.setDataLocation(TensorProto.DataLocation.EXTERNAL))));
    assertTrue(
        external.getMessage().contains("embeddings.position_embeddings.weight")
            && external.getMessage().contains("external"),
        external.getMessage());

    ModelFormatException shape =
        assertThrows(
            ModelFormatException.class,
            () ->
                read(
                    replace(
                        tinyBert(1),
                        "encoder.layer.0.output.dense.bias",
                        t -> t.clearDims().addDims(5))));
    assertTrue(
        shape.getMessage().contains("encoder.layer.0.output.dense.bias"), shape.getMessage());

    ModelFormatException type =
        assertThrows(
            ModelFormatException.class,
            () ->
                read(
                    replace(
                        tinyBert(1),
                        "encoder.layer.0.attention.output.LayerNorm.weight",
                        t -> t.setDataType(TensorProto.DataType.DOUBLE_VALUE))));
    assertTrue(
        type.getMessage().contains("encoder.layer.0.attention.output.LayerNorm.weight"),
        type.getMessage());
  }

  @Test
  void read_realExportWithoutAKeyBias_namesIt() throws IOException {
    ModelProto model;
    try (InputStream in = ModelSpec.builtIn("all-minilm-l6-v2").openWeights()) {
      CodedInputStream coded = CodedInputStream.newInstance(in);
      coded.setSizeLimit(Integer.MAX_VALUE);
      model = ModelProto.parseFrom(coded);
    }
    ModelProto broken = without(model, Set.of("encoder.layer.2.attention.self.key.bias"));
    ModelFormatException e = assertThrows(ModelFormatException.class, () -> read(broken));
    assertTrue(e.getMessage().contains("encoder.layer.2.attention.self.key"), e.getMessage());
  }

  @Test
  void resolve_directoryWithModelAndTokenizer_embedsLikeBuiltIn(@TempDir Path dir)
      throws IOException {
    Path model = dir.resolve("my-minilm");
    Files.createDirectories(model);
    Files.write(model.resolve("model.onnx"), readResource("all-minilm-l6-v2.onnx"));
    Files.write(model.resolve("tokenizer.json"), readResource("all-minilm-l6-v2-tokenizer.json"));

    ModelSpec spec = ModelSpec.resolve(model.toString(), null);
    assertEquals("my-minilm", spec.name());
    assertEquals(Pooling.MEAN, spec.pooling(), "mean when nothing says otherwise");
    assertEquals(
        BUILT_IN.get("all-minilm-l6-v2").checksum(),
        OnnxBertReader.read(model.resolve("model.onnx")).checksum());

    List<String> texts =
        List.of("hi", "How do I read a file line by line in Java?", "word ".repeat(300));
    try (EncoderModel fromDir = EncoderModel.load(spec, EncoderOptions.defaults());
        EncoderModel builtIn =
            EncoderModel.load(ModelSpec.builtIn("all-minilm-l6-v2"), EncoderOptions.defaults())) {
      assertEquals(builtIn.checksum(), fromDir.checksum());
      assertEquals(128, fromDir.tokenizer().maxTokens());
      float[][] ours = fromDir.embed(texts, Truncation.TRUNCATE);
      float[][] reference = builtIn.embed(texts, Truncation.TRUNCATE);
      for (int i = 0; i < texts.size(); i++) {
        assertTrue(Vectors.cosine(reference[i], ours[i]) >= 0.999999, "text " + i);
      }
    }
  }

  @Test
  void resolve_sentenceTransformersLayouts_findWeightsAndTokenizer(@TempDir Path dir)
      throws IOException {
    // onnx/model.onnx with tokenizer.json at the top, as Optimum exports sit in a model repository.
    Path repo = dir.resolve("st-model");
    Files.createDirectories(repo.resolve("onnx"));
    Files.writeString(repo.resolve("onnx/model.onnx"), "weights");
    Files.writeString(repo.resolve("tokenizer.json"), "{}");
    for (String path : List.of(repo.toString(), repo.resolve("onnx/model.onnx").toString())) {
      ModelSpec spec = ModelSpec.resolve(path, Pooling.CLS);
      assertEquals("weights", new String(open(spec::openWeights), StandardCharsets.UTF_8), path);
      assertEquals("{}", new String(open(spec::openTokenizer), StandardCharsets.UTF_8), path);
      assertEquals(Pooling.CLS, spec.pooling(), "the pooling given wins");
    }
    assertEquals(Pooling.MEAN, ModelSpec.resolve(repo.toString(), null).pooling(), "default");

    assertEquals(Pooling.CLS, ModelSpec.resolve("bge-small-en-v1.5", null).pooling());
    assertEquals(Pooling.MEAN, ModelSpec.resolve("minilm", null).pooling());
    IllegalArgumentException unknown =
        assertThrows(
            IllegalArgumentException.class,
            () -> ModelSpec.resolve(dir.resolve("nothing-here").toString(), null));
    assertTrue(unknown.getMessage().contains("nothing-here"), unknown.getMessage());
    Path noTokenizer = dir.resolve("no-tokenizer");
    Files.createDirectories(noTokenizer);
    Files.writeString(noTokenizer.resolve("model.onnx"), "weights");
    IllegalArgumentException missing =
        assertThrows(
            IllegalArgumentException.class, () -> ModelSpec.resolve(noTokenizer.toString(), null));
    assertTrue(missing.getMessage().contains("tokenizer.json"), missing.getMessage());
  }

  /**
   * The pooling a sentence-transformers model declares in {@code 1_Pooling/config.json}, written
   * here as BAAI/bge-small-en-v1.5 and sentence-transformers/all-MiniLM-L6-v2 ship it. The CLS flag
   * is {@code pooling_mode_cls_token} (singular), the mean flag {@code pooling_mode_mean_tokens}.
   */
  @Test
  void resolve_sentenceTransformersPoolingConfig_readsDeclaredPooling(@TempDir Path dir)
      throws IOException {
    Map<String, Pooling> declared = new LinkedHashMap<>();
    declared.put(
        "{\n  \"word_embedding_dimension\": 384,\n  \"pooling_mode_cls_token\": false,\n"
            + "  \"pooling_mode_mean_tokens\": true,\n  \"pooling_mode_max_tokens\": false,\n"
            + "  \"pooling_mode_mean_sqrt_len_tokens\": false\n}\n",
        Pooling.MEAN);
    declared.put(
        "{\n  \"word_embedding_dimension\": 384,\n  \"pooling_mode_cls_token\": true,\n"
            + "  \"pooling_mode_mean_tokens\": false,\n  \"pooling_mode_max_tokens\": false,\n"
            + "  \"pooling_mode_mean_sqrt_len_tokens\": false\n}\n",
        Pooling.CLS);
    int n = 0;
    for (var entry : declared.entrySet()) {
      Path model = dir.resolve("model-" + n++);
      Files.createDirectories(model.resolve("1_Pooling"));
      Files.writeString(model.resolve("model.onnx"), "weights");
      Files.writeString(model.resolve("tokenizer.json"), "{}");
      Files.writeString(model.resolve("1_Pooling/config.json"), entry.getKey());
      assertEquals(
          entry.getValue(),
          ModelSpec.resolve(model.toString(), null).pooling(),
          "pooling declared by " + entry.getKey());
      assertEquals(Pooling.MEAN, ModelSpec.resolve(model.toString(), Pooling.MEAN).pooling());
    }
  }

  // ---- building small ONNX graphs ----

  /**
   * A complete BERT-style export in miniature: hidden 4, 2 heads, intermediate 8, vocabulary 10, 16
   * positions, 2 token types, LayerNorm epsilon 1e-12, mask value -10000, weights named as Hugging
   * Face names them and laid out as PyTorch keeps them ({@code [out, in]}).
   */
  static ModelProto tinyBert(int layers) {
    GraphProto.Builder g = GraphProto.newBuilder().setName("tiny_bert");
    int seed = 0;
    g.addInitializer(
        floats("embeddings.word_embeddings.weight", dims(10, 4), tensorValues(10, 4, seed++)));
    g.addInitializer(
        floats("embeddings.position_embeddings.weight", dims(16, 4), tensorValues(16, 4, seed++)));
    g.addInitializer(
        floats("embeddings.token_type_embeddings.weight", dims(2, 4), tensorValues(2, 4, seed++)));
    g.addInitializer(floats("embeddings.LayerNorm.weight", dims(4), tensorValues(1, 4, seed++)));
    g.addInitializer(floats("embeddings.LayerNorm.bias", dims(4), tensorValues(1, 4, seed++)));
    for (int i = 0; i < layers; i++) {
      String p = "encoder.layer." + i + ".";
      for (String proj :
          List.of(
              "attention.self.query",
              "attention.self.key",
              "attention.self.value",
              "attention.output.dense")) {
        int s = proj.equals("attention.self.query") ? 300 * i : 1000 * i + proj.length();
        g.addInitializer(floats(p + proj + ".weight", dims(4, 4), tensorValues(4, 4, s)));
        g.addInitializer(floats(p + proj + ".bias", dims(4), tensorValues(1, 4, s + 1)));
      }
      g.addInitializer(floats(p + "intermediate.dense.weight", dims(8, 4), tensorValues(8, 4, i)));
      g.addInitializer(floats(p + "intermediate.dense.bias", dims(8), tensorValues(1, 8, i)));
      g.addInitializer(floats(p + "output.dense.weight", dims(4, 8), tensorValues(4, 8, i)));
      g.addInitializer(floats(p + "output.dense.bias", dims(4), tensorValues(1, 4, i)));
      for (String norm : List.of("attention.output.LayerNorm", "output.LayerNorm")) {
        g.addInitializer(floats(p + norm + ".weight", dims(4), tensorValues(1, 4, i)));
        g.addInitializer(floats(p + norm + ".bias", dims(4), tensorValues(1, 4, i)));
      }
    }
    g.addNode(
        node(
                "LayerNormalization",
                List.of(
                    "embedding_sum", "embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias"),
                "embedded")
            .addAttribute(AttributeProto.newBuilder().setName("epsilon").setF(1e-12f)));
    // Layer 0's query projection reshaped to [batch, tokens, heads, head_size].
    g.addNode(node("MatMul", List.of("embedded", "q_weight"), "q_product"));
    g.addNode(
        node("Add", List.of("q_product", "encoder.layer.0.attention.self.query.bias"), "q_sum"));
    g.addNode(
        node("Constant", List.of(), "q_shape")
            .addAttribute(
                AttributeProto.newBuilder()
                    .setName("value")
                    .setT(
                        TensorProto.newBuilder()
                            .addDims(4)
                            .setDataType(TensorProto.DataType.INT64_VALUE)
                            .addAllInt64Data(List.of(0L, 0L, 2L, 2L)))));
    g.addNode(node("Reshape", List.of("q_sum", "q_shape"), "q_heads"));
    // The attention mask becomes (1 - mask) * -10000.
    g.addNode(node("Cast", List.of("attention_mask"), "mask_float"));
    g.addNode(node("Sub", List.of("one", "mask_float"), "inverted"));
    g.addNode(
        node("Constant", List.of(), "mask_value")
            .addAttribute(
                AttributeProto.newBuilder()
                    .setName("value")
                    .setT(floats("", new long[0], new float[] {-10000f}))));
    g.addNode(node("Mul", List.of("inverted", "mask_value"), "mask_bias"));
    return ModelProto.newBuilder().setIrVersion(8).setProducerName("test").setGraph(g).build();
  }

  private static long[] dims(long... dims) {
    return dims;
  }

  /** Distinct values for a {@code rows x cols} tensor, different for each seed. */
  private static float[] tensorValues(int rows, int cols, int seed) {
    float[] v = new float[rows * cols];
    for (int i = 0; i < v.length; i++) {
      v[i] = seed + i / 100f;
    }
    return v;
  }

  private static TensorProto floats(String name, long[] dims, float[] values) {
    ByteBuffer raw = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      raw.putFloat(v);
    }
    TensorProto.Builder t =
        TensorProto.newBuilder()
            .setName(name)
            .setDataType(TensorProto.DataType.FLOAT_VALUE)
            .setRawData(ByteString.copyFrom(raw.array()));
    for (long d : dims) {
      t.addDims(d);
    }
    return t.build();
  }

  private static NodeProto.Builder node(String op, List<String> inputs, String output) {
    return NodeProto.newBuilder()
        .setOpType(op)
        .setName(op + "_" + output)
        .addAllInput(inputs)
        .addOutput(output);
  }

  private static ModelProto without(ModelProto model, Set<String> initializers) {
    GraphProto.Builder g = model.getGraph().toBuilder().clearInitializer();
    int removed = 0;
    for (TensorProto t : model.getGraph().getInitializerList()) {
      if (initializers.contains(t.getName())) {
        removed++;
      } else {
        g.addInitializer(t);
      }
    }
    assertEquals(initializers.size(), removed, "all of " + initializers + " were there");
    return model.toBuilder().setGraph(g).build();
  }

  private static ModelProto replace(
      ModelProto model, String name, UnaryOperator<TensorProto.Builder> change) {
    GraphProto.Builder g = model.getGraph().toBuilder();
    for (int i = 0; i < g.getInitializerCount(); i++) {
      if (g.getInitializer(i).getName().equals(name)) {
        g.setInitializer(i, change.apply(g.getInitializer(i).toBuilder()));
        return model.toBuilder().setGraph(g).build();
      }
    }
    throw new AssertionError("no initializer " + name);
  }

  private static BertWeights read(ModelProto model) throws IOException {
    return OnnxBertReader.read(new ByteArrayInputStream(model.toByteArray()));
  }

  private static byte[] readResource(String name) throws IOException {
    try (InputStream in = OnnxBertReaderTest.class.getClassLoader().getResourceAsStream(name)) {
      assertTrue(in != null, name + " is on the classpath");
      return in.readAllBytes();
    }
  }

  private interface Opener {
    InputStream open() throws IOException;
  }

  private static byte[] open(Opener opener) throws IOException {
    try (InputStream in = opener.open()) {
      return in.readAllBytes();
    }
  }

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
