package dev.cascade.encoder;

import dev.cascade.model.BertConfig;
import dev.cascade.model.BertWeights;
import dev.cascade.model.Pooling;
import dev.cascade.model.Weight;
import dev.cascade.tokenize.TokenizedInput;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.ndarray.buffer.FloatDataBuffer;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * A BERT-family encoder in one TensorFlow graph, run one layer at a time.
 *
 * <p>The weights are loaded once into graph variables. The graph has an embedding step, one
 * sub-graph per transformer layer (fed the previous layer's hidden states, which stay in native
 * memory between layers), a pooling step usable at any layer, a compaction step that drops finished
 * rows, and a fused full-depth pass for callers that never stop early.
 *
 * <p>Padding costs little: every step but attention (the matrix products, LayerNorm, GELU) runs on
 * the real tokens only, packed into one matrix, and attention alone on the padded grid. Idle
 * session threads sleep rather than spin, so that waiting threads do not take the cores a shared
 * machine (or a container's CPU quota) has left. Unless {@value #ONEDNN_SWITCH} says otherwise,
 * TensorFlow's oneDNN kernels are turned on before TensorFlow loads, when this class initialises.
 *
 * <p>Thread-safe: any number of threads may start and advance their own {@link EncoderBatch}es at
 * once. {@link #close()} must come after every batch is closed; it releases the session and graph.
 */
public final class Encoder implements AutoCloseable {
  /** TensorFlow's switch for its oneDNN kernels, read once when its native library loads. */
  static final String ONEDNN_SWITCH = "TF_ENABLE_ONEDNN_OPTS";

  static {
    preferOneDnn();
  }

  private final BertConfig config;
  private final Pooling pooling;
  private final Graph graph;
  private final Session session;

  final Placeholder<TInt32> ids;
  final Placeholder<TInt32> types;
  final Placeholder<TFloat32> mask;
  final Operand<TFloat32> embedded;
  final Operand<TFloat32> maskBias;

  final Placeholder<TFloat32> hiddenIn;
  final Placeholder<TFloat32> biasIn;
  final List<Operand<TFloat32>> layerOut = new ArrayList<>();
  final List<Operand<TFloat32>> layerPooled = new ArrayList<>();

  final Operand<TFloat32> pooledIn;

  final Placeholder<TInt32> keepRows;
  final Placeholder<TInt32> keepLength;
  final Operand<TFloat32> compactHidden;
  final Operand<TFloat32> compactMask;
  final Operand<TFloat32> compactBias;

  private final Operand<TFloat32> fusedPooled;

  private final Placeholder<TFloat32> rowsIn;
  private final Operand<TFloat32> raggedEmbedded;
  private final List<Operand<TFloat32>> rowsOut = new ArrayList<>();
  private final List<Operand<TFloat32>> rowsPooled = new ArrayList<>();

  /**
   * Builds the graph and loads the weights.
   *
   * @param weights the model; its arrays are copied into the session and may be dropped after
   * @param pooling the model's pooling
   * @param options session threading
   */
  public Encoder(BertWeights weights, Pooling pooling, EncoderOptions options) {
    this.config = weights.config();
    this.pooling = pooling;
    this.graph = new Graph();
    boolean built = false;
    try {
      Ops tf = Ops.create(graph);
      GraphVariables variables = new GraphVariables();
      Ops vars = tf.withSubScope("weights");

      BertGraph.EmbeddingVars embeddingVars =
          new BertGraph.EmbeddingVars(
              variables.declare(vars, "words", weights.wordEmbeddings()),
              variables.declare(vars, "positions", weights.positionEmbeddings()),
              weights.tokenTypeEmbeddings() == null
                  ? null
                  : variables.declare(vars, "types", weights.tokenTypeEmbeddings()),
              variables.declare(vars, "embedding_norm_gamma", weights.embeddingNormGamma()),
              variables.declare(vars, "embedding_norm_beta", weights.embeddingNormBeta()));
      List<BertGraph.LayerVars> layerVars = new ArrayList<>();
      for (int i = 0; i < config.layers(); i++) {
        layerVars.add(
            layerVariables(vars.withSubScope("layer_" + i), weights.layers().get(i), variables));
      }

      Ops embed = tf.withSubScope("embeddings");
      ids = embed.withName("ids").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, -1)));
      types =
          embed.withName("types").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, -1)));
      mask =
          embed.withName("mask").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, -1)));
      embedded = BertGraph.embeddings(embed, config, embeddingVars, ids, types);
      maskBias = BertGraph.maskBias(embed, config, mask);

      hiddenIn =
          tf.withName("hidden")
              .placeholder(
                  TFloat32.class, Placeholder.shape(Shape.of(-1, -1, config.hiddenSize())));
      biasIn =
          tf.withName("mask_bias")
              .placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 1, 1, -1)));
      BertGraph.Tokens layerTokens = BertGraph.Tokens.ofBias(tf.withSubScope("tokens"), biasIn);
      for (int i = 0; i < config.layers(); i++) {
        Ops scope = tf.withSubScope("layer_" + i);
        Operand<TFloat32> out =
            BertGraph.paddedLayer(scope, config, layerVars.get(i), hiddenIn, biasIn, layerTokens);
        layerOut.add(out);
        layerPooled.add(BertGraph.pool(scope, pooling, out, mask));
      }
      pooledIn = BertGraph.pool(tf.withSubScope("pool"), pooling, hiddenIn, mask);

      Ops compact = tf.withSubScope("compact");
      keepRows =
          compact.withName("rows").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1)));
      keepLength =
          compact.withName("length").placeholder(TInt32.class, Placeholder.shape(Shape.scalar()));
      Operand<TInt32> zero = compact.constant(0);
      Operand<TInt32> all = compact.constant(-1);
      compactHidden =
          compact.slice(
              compact.gather(hiddenIn, keepRows, zero),
              compact.constant(new int[] {0, 0, 0}),
              compact.stack(List.of(all, keepLength, all)));
      compactMask =
          compact.slice(
              compact.gather(mask, keepRows, zero),
              compact.constant(new int[] {0, 0}),
              compact.stack(List.of(all, keepLength)));
      Operand<TInt32> one = compact.constant(1);
      compactBias =
          compact.slice(
              compact.gather(biasIn, keepRows, zero),
              compact.constant(new int[] {0, 0, 0, 0}),
              compact.stack(List.of(all, one, one, keepLength)));

      Ops fused = tf.withSubScope("fused");
      Operand<TFloat32> fusedBias = BertGraph.maskBias(fused, config, mask);
      BertGraph.Tokens tokens = BertGraph.Tokens.where(fused, mask);
      int width = config.hiddenSize();
      Operand<TFloat32> embeddedRows =
          fused.reshape(
              BertGraph.embeddings(fused, config, embeddingVars, ids, types),
              fused.constant(new int[] {-1, width}));
      Operand<TFloat32> h = tokens.pack(fused, embeddedRows);
      for (int i = 0; i < config.layers(); i++) {
        h =
            BertGraph.layer(
                fused.withSubScope("layer_" + i), config, layerVars.get(i), h, fusedBias, tokens);
      }
      Operand<TFloat32> finalHidden =
          fused.reshape(
              tokens.unpack(fused, h, width),
              fused.concat(
                  List.of(tokens.grid(), fused.constant(new int[] {width})), fused.constant(0)));
      fusedPooled = BertGraph.pool(fused, pooling, finalHidden, mask);

      Ops ragged = tf.withSubScope("rows");
      BertGraph.Tokens raggedTokens = BertGraph.Tokens.where(ragged, mask);
      Operand<TFloat32> raggedBias = BertGraph.maskBias(ragged, config, mask);
      raggedEmbedded =
          raggedTokens.pack(
              ragged,
              ragged.reshape(
                  BertGraph.embeddings(ragged, config, embeddingVars, ids, types),
                  ragged.constant(new int[] {-1, width})));
      rowsIn =
          ragged
              .withName("rows_in")
              .placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, width)));
      for (int i = 0; i < config.layers(); i++) {
        Ops scope = ragged.withSubScope("layer_" + i);
        Operand<TFloat32> out =
            BertGraph.layer(scope, config, layerVars.get(i), rowsIn, raggedBias, raggedTokens);
        rowsOut.add(out);
        Operand<TFloat32> grid =
            scope.reshape(
                raggedTokens.unpack(scope, out, width),
                scope.concat(
                    List.of(raggedTokens.grid(), scope.constant(new int[] {width})),
                    scope.constant(0)));
        rowsPooled.add(BertGraph.pool(scope, pooling, grid, mask));
      }

      session = variables.openSession(graph, options);
      built = true;
    } finally {
      if (!built) {
        graph.close();
      }
    }
  }

  /**
   * Turns TensorFlow's oneDNN kernels on, unless {@value #ONEDNN_SWITCH} is set. TensorFlow leaves
   * them off on CPUs without AVX-512; with them, matrix products take their bias, GELU and residual
   * add in one kernel. Takes effect only if TensorFlow has not loaded yet, and changes the
   * environment of the whole process; without JNA it does nothing.
   */
  private static void preferOneDnn() {
    if (System.getenv(ONEDNN_SWITCH) != null) {
      return;
    }
    try {
      LibC.INSTANCE.setenv(ONEDNN_SWITCH, "1", 0);
    } catch (LinkageError | RuntimeException e) {
      // No JNA or no libc: TensorFlow keeps its default kernels, which give the same results.
    }
  }

  /** The one libc function the encoder needs. */
  private interface LibC extends com.sun.jna.Library {
    LibC INSTANCE = com.sun.jna.Native.load("c", LibC.class);

    int setenv(String name, String value, int overwrite);
  }

  private BertGraph.LayerVars layerVariables(
      Ops tf, BertWeights.Layer w, GraphVariables variables) {
    float scale = (float) (1 / Math.sqrt(config.headSize()));
    Weight qkv = concatColumns("qkv", scaled(w.query(), scale), w.key(), w.value());
    Weight qkvBias =
        concatColumns("qkv_bias", scaled(w.queryBias(), scale), w.keyBias(), w.valueBias());
    return new BertGraph.LayerVars(
        variables.declare(tf, "qkv", qkv),
        variables.declare(tf, "qkv_bias", qkvBias),
        variables.declare(tf, "attention_output", w.attentionOutput()),
        variables.declare(tf, "attention_output_bias", w.attentionOutputBias()),
        variables.declare(tf, "attention_norm_gamma", w.attentionNormGamma()),
        variables.declare(tf, "attention_norm_beta", w.attentionNormBeta()),
        variables.declare(tf, "intermediate", w.intermediate()),
        variables.declare(tf, "intermediate_bias", w.intermediateBias()),
        variables.declare(tf, "output", w.output()),
        variables.declare(tf, "output_bias", w.outputBias()),
        variables.declare(tf, "output_norm_gamma", w.outputNormGamma()),
        variables.declare(tf, "output_norm_beta", w.outputNormBeta()));
  }

  private static Weight scaled(Weight w, float scale) {
    float[] out = w.values().clone();
    for (int i = 0; i < out.length; i++) {
      out[i] *= scale;
    }
    return new Weight(w.name(), w.shape(), out);
  }

  /** Joins {@code [in, out_i]} matrices (or {@code [out_i]} vectors) along their last axis. */
  private static Weight concatColumns(String name, Weight... parts) {
    int rows = parts[0].rank() == 1 ? 1 : parts[0].dim(0);
    int total = 0;
    for (Weight p : parts) {
      total += p.dim(p.rank() - 1);
    }
    float[] out = new float[rows * total];
    int offset = 0;
    for (Weight p : parts) {
      int cols = p.dim(p.rank() - 1);
      for (int r = 0; r < rows; r++) {
        System.arraycopy(p.values(), r * cols, out, r * total + offset, cols);
      }
      offset += cols;
    }
    long[] shape = parts[0].rank() == 1 ? new long[] {total} : new long[] {rows, total};
    return new Weight(name, shape, out);
  }

  /** The model's hyper-parameters. */
  public BertConfig config() {
    return config;
  }

  /** The model's pooling. */
  public Pooling pooling() {
    return pooling;
  }

  /**
   * Embeds the inputs and returns a batch at layer 0 (the embedding output). Rows are padded to the
   * longest input; row {@code i} of the batch has id {@code i}.
   *
   * @param inputs at least one; each no longer than the model's positions
   */
  public EncoderBatch start(List<TokenizedInput> inputs) {
    Padded padded = pad(inputs);
    TFloat32 maskTensor = padded.mask();
    try (TInt32 idTensor = padded.ids();
        TInt32 typeTensor = padded.types()) {
      Result result =
          session
              .runner()
              .feed(ids, idTensor)
              .feed(types, typeTensor)
              .feed(mask, maskTensor)
              .fetch(embedded)
              .fetch(maskBias)
              .run();
      return new EncoderBatch(this, result, maskTensor, padded.lengths());
    } catch (RuntimeException e) {
      maskTensor.close();
      throw e;
    }
  }

  /**
   * Runs all layers in one fused pass and returns each input's pooled, L2-normalised final
   * embedding, in input order.
   */
  public float[][] encode(List<TokenizedInput> inputs) {
    try (Result result = runTokens(pad(inputs), fusedPooled)) {
      return rows((TFloat32) result.get(0), inputs.size());
    }
  }

  /** Runs {@code fetch} on the padded token ids and mask; the caller closes the result. */
  private Result runTokens(Padded padded, Operand<TFloat32> fetch) {
    try (TInt32 idTensor = padded.ids();
        TInt32 typeTensor = padded.types();
        TFloat32 maskTensor = padded.mask()) {
      return session
          .runner()
          .feed(ids, idTensor)
          .feed(types, typeTensor)
          .feed(mask, maskTensor)
          .fetch(fetch)
          .run();
    }
  }

  /**
   * Embeds inputs for {@link #advanceRows}: each input's state at layer 0, as its real tokens' rows
   * ({@code length × hidden} floats, row-major) on the Java heap. Inputs in this form can be
   * advanced together with any other inputs at the same layer, whatever batch they started in.
   */
  public float[][] embedRows(List<TokenizedInput> inputs) {
    Padded padded = pad(inputs);
    int[] lengths = padded.lengths();
    float[][] rows = new float[lengths.length][];
    for (int i = 0; i < rows.length; i++) {
      rows[i] = new float[lengths[i] * config.hiddenSize()];
    }
    try (Result result = runTokens(padded, raggedEmbedded)) {
      scatter((TFloat32) result.get(0), rows);
    }
    return rows;
  }

  /**
   * Runs layer {@code layer + 1} on inputs that are all at {@code layer}, in place: each {@code
   * rows[i]} (from {@link #embedRows} or an earlier call) is overwritten with the next layer's
   * states. A row's result does not depend on which other rows share the call.
   *
   * @param layer the layer the inputs are at, from 0 to {@code layers - 1}
   * @param lengths each input's token count
   * @param pool whether to return each input's pooled, L2-normalised embedding at the new layer
   * @return the pooled embeddings in input order, or null unless {@code pool}
   */
  public float[][] advanceRows(int layer, float[][] rows, int[] lengths, boolean pool) {
    if (layer < 0 || layer >= config.layers()) {
      throw new IllegalArgumentException(
          "layer " + layer + " is outside 0.." + (config.layers() - 1));
    }
    int width = config.hiddenSize();
    int total = 0;
    for (int i = 0; i < rows.length; i++) {
      if (rows[i].length != lengths[i] * width) {
        throw new IllegalArgumentException(
            "input " + i + " has " + rows[i].length + " floats for " + lengths[i] + " tokens");
      }
      total += lengths[i];
    }
    var runner = session.runner();
    try (TFloat32 maskTensor = maskOf(lengths);
        TFloat32 rowTensor = TFloat32.tensorOf(Shape.of(total, width))) {
      FloatDataBuffer in = rowTensor.asRawTensor().data().asFloats();
      long offset = 0;
      for (float[] r : rows) {
        in.offset(offset).write(r);
        offset += r.length;
      }
      runner.feed(rowsIn, rowTensor).feed(mask, maskTensor).fetch(rowsOut.get(layer));
      if (pool) {
        runner.fetch(rowsPooled.get(layer));
      }
      try (Result result = runner.run()) {
        scatter((TFloat32) result.get(0), rows);
        return pool ? rows((TFloat32) result.get(1), rows.length) : null;
      }
    }
  }

  /**
   * Hidden states in {@link #advanceRows}' form, laid out as a padded batch for the exit heads.
   *
   * @return {@code [inputs, longest, hidden]} with zeros at padding; the caller closes it
   */
  public TFloat32 paddedStates(float[][] rows, int[] lengths) {
    int width = config.hiddenSize();
    int longest = Arrays.stream(lengths).max().orElse(0);
    TFloat32 out = TFloat32.tensorOf(Shape.of(rows.length, longest, width));
    FloatDataBuffer data = out.asRawTensor().data().asFloats();
    for (int i = 0; i < rows.length; i++) {
      data.offset((long) i * longest * width).write(rows[i]);
      long pad = (long) (longest - lengths[i]) * width;
      if (pad > 0) {
        data.slice((long) i * longest * width + rows[i].length, pad).write(new float[(int) pad]);
      }
    }
    return out;
  }

  /** The attention mask of inputs of these lengths: {@code [inputs, longest]}, 1 for tokens. */
  public static TFloat32 maskOf(int[] lengths) {
    int longest = Arrays.stream(lengths).max().orElse(0);
    float[] data = new float[lengths.length * longest];
    for (int i = 0; i < lengths.length; i++) {
      Arrays.fill(data, i * longest, i * longest + lengths[i], 1f);
    }
    return TFloat32.tensorOf(Shape.of(lengths.length, longest), DataBuffers.of(data, true, false));
  }

  private static void scatter(TFloat32 packed, float[][] rows) {
    FloatDataBuffer data = packed.asRawTensor().data().asFloats();
    long offset = 0;
    for (float[] r : rows) {
      data.slice(offset, r.length).read(r);
      offset += r.length;
    }
  }

  Session session() {
    return session;
  }

  static float[][] rows(TFloat32 matrix, int count) {
    int width = (int) matrix.shape().get(1);
    float[] flat = new float[count * width];
    matrix.asRawTensor().data().asFloats().read(flat);
    float[][] out = new float[count][];
    for (int i = 0; i < count; i++) {
      out[i] = new float[width];
      System.arraycopy(flat, i * width, out[i], 0, width);
    }
    return out;
  }

  private Padded pad(List<TokenizedInput> inputs) {
    if (inputs.isEmpty()) {
      throw new IllegalArgumentException("a batch needs at least one input");
    }
    int length = 0;
    for (TokenizedInput in : inputs) {
      if (in.length() > config.maxPositions()) {
        throw new IllegalArgumentException(
            "input of "
                + in.length()
                + " tokens exceeds the model's "
                + config.maxPositions()
                + " positions");
      }
      length = Math.max(length, in.length());
    }
    int n = inputs.size();
    int[] idData = new int[n * length];
    float[] maskData = new float[n * length];
    int[] lengths = new int[n];
    for (int r = 0; r < n; r++) {
      int[] row = inputs.get(r).ids();
      System.arraycopy(row, 0, idData, r * length, row.length);
      for (int c = 0; c < row.length; c++) {
        maskData[r * length + c] = 1f;
      }
      lengths[r] = row.length;
    }
    Shape shape = Shape.of(n, length);
    return new Padded(shape, idData, maskData, lengths);
  }

  private record Padded(Shape shape, int[] idData, float[] maskData, int[] lengths) {
    TInt32 ids() {
      return TInt32.tensorOf(shape, DataBuffers.of(idData, true, false));
    }

    TInt32 types() {
      return TInt32.tensorOf(shape, DataBuffers.of(new int[idData.length], true, false));
    }

    TFloat32 mask() {
      return TFloat32.tensorOf(shape, DataBuffers.of(maskData, true, false));
    }
  }

  @Override
  public void close() {
    session.close();
    graph.close();
  }
}
