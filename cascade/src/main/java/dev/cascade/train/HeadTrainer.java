package dev.cascade.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cascade.encoder.EncoderOptions;
import dev.cascade.encoder.GraphVariables;
import dev.cascade.exit.HeadGraph;
import dev.cascade.exit.HeadType;
import dev.cascade.exit.HeadWeights;
import dev.cascade.model.BertConfig;
import dev.cascade.model.Pooling;
import dev.cascade.model.Weight;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Gradients;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.op.linalg.MatMul;
import org.tensorflow.types.TFloat32;

/**
 * Trains one exit head by self-distillation in a TensorFlow graph: the head reads the frozen
 * backbone's hidden states at its layer and learns to produce the backbone's final embedding.
 *
 * <p>The loss is {@code mean(1 - cos(head, final)) + w · InfoNCE}, where the contrastive term asks
 * each head embedding to be closer to its own final embedding than to the other texts' in the
 * batch, so that the ranking of texts is kept and not only their direction. With a ranking weight,
 * a third term {@code r · CE(softmax(t · N / T), softmax(s · N / T))} asks the head's embedding
 * {@code s} to score the text's nearest documents {@code N} (see {@link TeacherNeighbours}) as the
 * final embedding {@code t} does: the hard negatives that decide a top 10. Gradients come from
 * {@code tf.gradients}; updates from Adam ({@code ApplyAdam}). A validation slice picks the epoch.
 * Deterministic for a fixed seed. Checkpoints after every epoch let a stopped run resume.
 *
 * <p>Not thread-safe. {@link #close()} releases the session.
 */
public final class HeadTrainer implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final float BETA1 = 0.9f;
  private static final float BETA2 = 0.999f;

  private final BertConfig config;
  private final HeadWeights initial;
  private final TrainingOptions options;
  private final Graph graph;
  private final Session session;
  private final Map<String, Variable<TFloat32>> weights;
  private final Placeholder<TFloat32> hidden;
  private final Placeholder<TFloat32> mask;
  private final Placeholder<TFloat32> teacher;
  private final Placeholder<TFloat32> labels;
  private final Placeholder<TFloat32> candidates;
  private final Placeholder<TFloat32> learningRate;
  private final Placeholder<TFloat32> beta1Power;
  private final Placeholder<TFloat32> beta2Power;
  private final Operand<TFloat32> embedding;
  private final Operand<TFloat32> loss;
  private final List<Operand<?>> updates = new ArrayList<>();
  private TeacherNeighbours neighbours;

  public HeadTrainer(
      BertConfig config, Pooling pooling, HeadWeights initial, TrainingOptions options) {
    this.config = config;
    this.initial = initial;
    this.options = options;
    this.graph = new Graph();
    boolean built = false;
    try {
      Ops tf = Ops.create(graph);
      int h = config.hiddenSize();
      hidden =
          tf.withName("hidden").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, -1, h)));
      mask = tf.withName("mask").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, -1)));
      teacher =
          tf.withName("teacher").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, h)));
      labels =
          tf.withName("labels").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, -1)));
      learningRate = scalar(tf, "learning_rate");
      beta1Power = scalar(tf, "beta1_power");
      beta2Power = scalar(tf, "beta2_power");

      GraphVariables variables = new GraphVariables();
      Ops head = tf.withSubScope("head");
      Map<String, Variable<TFloat32>> vars = new LinkedHashMap<>();
      for (String name : HeadWeights.names(initial.type())) {
        vars.put(name, variables.declare(head, name, initial.get(name)));
      }
      weights = vars;
      embedding =
          HeadGraph.build(head, config, pooling, initial.type(), vars, hidden, mask).embedding();

      Ops lossScope = tf.withSubScope("loss");
      Operand<TFloat32> cosine =
          lossScope.sum(lossScope.math.mul(embedding, teacher), lossScope.constant(-1));
      Operand<TFloat32> distance =
          lossScope.math.mean(
              lossScope.math.sub(lossScope.constant(1f), cosine), lossScope.constant(0));
      Operand<TFloat32> logits =
          lossScope.math.div(
              lossScope.linalg.matMul(embedding, teacher, MatMul.transposeB(true)),
              lossScope.constant(options.temperature()));
      Operand<TFloat32> contrastive =
          lossScope.math.mean(
              lossScope.nn.softmaxCrossEntropyWithLogits(logits, labels).loss(),
              lossScope.constant(0));
      Operand<TFloat32> total =
          lossScope.math.add(
              distance,
              lossScope.math.mul(contrastive, lossScope.constant(options.contrastiveWeight())));
      if (options.rankingWeight() > 0) {
        candidates =
            tf.withName("candidates")
                .placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, -1, h)));
        Operand<TFloat32> studentScores = scores(lossScope, embedding, candidates);
        Operand<TFloat32> teacherScores = scores(lossScope, teacher, candidates);
        Operand<TFloat32> ranking =
            lossScope.math.mean(
                lossScope
                    .nn
                    .softmaxCrossEntropyWithLogits(
                        studentScores, lossScope.nn.softmax(teacherScores))
                    .loss(),
                lossScope.constant(0));
        total =
            lossScope.math.add(
                total, lossScope.math.mul(ranking, lossScope.constant(options.rankingWeight())));
      } else {
        candidates = null;
      }
      loss = total;

      List<String> names = new ArrayList<>(vars.keySet());
      Gradients gradients = tf.gradients(loss, new ArrayList<>(vars.values()));
      Ops slots = tf.withSubScope("adam");
      // Every update waits for every gradient: the forward and backward passes read the
      // variables in place, so an early update would leak into other gradients.
      Ops adam = slots.withControlDependencyOps(gradients.dy().stream().map(o -> o.op()).toList());
      Operand<TFloat32> beta1 = slots.constant(BETA1);
      Operand<TFloat32> beta2 = slots.constant(BETA2);
      Operand<TFloat32> epsilon = slots.constant(1e-8f);
      for (int i = 0; i < names.size(); i++) {
        Weight w = initial.get(names.get(i));
        Weight zeros = new Weight(w.name(), w.shape(), new float[w.values().length]);
        Variable<TFloat32> m = variables.declare(slots, names.get(i) + "_m", zeros);
        Variable<TFloat32> v = variables.declare(slots, names.get(i) + "_v", zeros);
        Operand<TFloat32> grad = gradients.dy(i);
        updates.add(
            adam.train.applyAdam(
                vars.get(names.get(i)),
                m,
                v,
                beta1Power,
                beta2Power,
                learningRate,
                beta1,
                beta2,
                epsilon,
                grad));
      }
      session = variables.openSession(graph, EncoderOptions.defaults());
      built = true;
    } finally {
      if (!built) {
        graph.close();
      }
    }
  }

  /**
   * {@code [b, k]} scores of each row of {@code [b, h]} against its {@code [b, k, h]} candidates.
   */
  private Operand<TFloat32> scores(
      Ops tf, Operand<TFloat32> embeddings, Operand<TFloat32> rowCandidates) {
    Operand<TFloat32> dots =
        tf.sum(
            tf.math.mul(tf.expandDims(embeddings, tf.constant(1)), rowCandidates), tf.constant(-1));
    return tf.math.div(dots, tf.constant(options.temperature()));
  }

  private static Placeholder<TFloat32> scalar(Ops tf, String name) {
    return tf.withName(name).placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
  }

  /**
   * Trains the head on {@code traces} at the head's layer.
   *
   * @param neighbours each text's nearest documents, for the ranking term; null when the options'
   *     ranking weight is 0
   * @param checkpointDir where to keep checkpoints so that a stopped run resumes; null for none
   */
  public TrainedHead train(
      TeacherTraces traces,
      TeacherNeighbours neighbours,
      Path checkpointDir,
      TrainingListener listener)
      throws IOException {
    if ((candidates != null) != (neighbours != null)) {
      throw new IllegalArgumentException(
          candidates != null
              ? "a ranking weight needs each text's neighbours"
              : "neighbours were given but the ranking weight is 0");
    }
    if (neighbours != null && neighbours.size() != traces.size()) {
      throw new IllegalArgumentException(
          neighbours.size() + " texts with neighbours, " + traces.size() + " traces");
    }
    this.neighbours = neighbours;
    int exit = traces.exitIndex(initial.layer());
    List<Integer> all = new ArrayList<>();
    for (int i = 0; i < traces.size(); i++) {
      all.add(i);
    }
    Collections.shuffle(all, new Random(options.seed()));
    int validationSize = Math.max(2, (int) Math.round(all.size() * options.validationFraction()));
    List<Integer> validation = all.subList(0, validationSize);
    List<Integer> training = all.subList(validationSize, all.size());
    if (training.size() < options.batchSize()) {
      throw new IllegalArgumentException(
          "only "
              + training.size()
              + " training texts; need at least one batch of "
              + options.batchSize());
    }
    int stepsPerEpoch = training.size() / options.batchSize();
    int totalSteps = stepsPerEpoch * options.epochs();

    double initialCosine = validate(traces, exit, validation);
    int startEpoch = 1;
    int bestEpoch = 0;
    double bestCosine = initialCosine;
    Map<String, Weight> best = GraphVariables.read(session, weights);
    double seconds = 0;
    Path state = checkpointDir == null ? null : checkpointDir.resolve("layer-" + initial.layer());
    if (state != null && Files.isRegularFile(state.resolve("state.json"))) {
      JsonNode saved = JSON.readTree(state.resolve("state.json").toFile());
      checkResumable(saved);
      session.restore(state.resolve("variables").toString());
      startEpoch = saved.get("epoch").asInt() + 1;
      bestEpoch = saved.get("best_epoch").asInt();
      bestCosine = saved.get("best_cosine").asDouble();
      seconds = saved.get("seconds").asDouble();
      best = bestEpoch == 0 ? best : readBest(state);
    }

    for (int epoch = startEpoch; epoch <= options.epochs(); epoch++) {
      long started = System.nanoTime();
      List<int[]> batches = batches(traces, training, new Random(options.seed() * 31 + epoch));
      double lossSum = 0;
      for (int s = 0; s < batches.size(); s++) {
        int step = (epoch - 1) * stepsPerEpoch + s + 1;
        double progress = (double) (step - 1) / totalSteps;
        float lr =
            (float)
                (options.learningRate() * (0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * progress))));
        double stepLoss = step(traces, exit, batches.get(s), lr, step);
        lossSum += stepLoss;
        listener.onStep(initial.layer(), epoch, s + 1, batches.size(), stepLoss);
      }
      double cosine = validate(traces, exit, validation);
      boolean improved = cosine > bestCosine;
      if (improved) {
        bestCosine = cosine;
        bestEpoch = epoch;
        best = GraphVariables.read(session, weights);
      }
      seconds += (System.nanoTime() - started) / 1e9;
      listener.onEpoch(initial.layer(), epoch, lossSum / batches.size(), cosine, improved);
      if (state != null) {
        checkpoint(state, epoch, bestEpoch, bestCosine, seconds, improved ? best : null);
      }
    }
    return new TrainedHead(
        new HeadWeights(initial.layer(), initial.type(), best),
        bestEpoch,
        bestCosine,
        initialCosine,
        seconds);
  }

  /** Batches of similar length: shuffled, sorted by length within chunks, batch order shuffled. */
  private List<int[]> batches(TeacherTraces traces, List<Integer> training, Random random) {
    List<Integer> order = new ArrayList<>(training);
    Collections.shuffle(order, random);
    int b = options.batchSize();
    int chunk = b * 32;
    List<int[]> batches = new ArrayList<>();
    int usable = order.size() / b * b;
    for (int start = 0; start < usable; start += chunk) {
      List<Integer> part = new ArrayList<>(order.subList(start, Math.min(usable, start + chunk)));
      part.sort(Comparator.comparingInt(traces::length));
      for (int i = 0; i + b <= part.size(); i += b) {
        batches.add(part.subList(i, i + b).stream().mapToInt(Integer::intValue).toArray());
      }
    }
    Collections.shuffle(batches, random);
    return batches;
  }

  private double step(TeacherTraces traces, int exit, int[] rows, float lr, int step) {
    int b = rows.length;
    float[] eye = new float[b * b];
    for (int i = 0; i < b; i++) {
      eye[i * b + i] = 1;
    }
    try (Feed feed = feed(traces, exit, rows);
        TFloat32 labelTensor = TFloat32.tensorOf(Shape.of(b, b), DataBuffers.of(eye, true, false));
        TFloat32 lrTensor = TFloat32.scalarOf(lr);
        TFloat32 b1 = TFloat32.scalarOf((float) Math.pow(BETA1, step));
        TFloat32 b2 = TFloat32.scalarOf((float) Math.pow(BETA2, step))) {
      Session.Runner runner =
          session
              .runner()
              .feed(hidden, feed.hidden())
              .feed(mask, feed.mask())
              .feed(teacher, feed.teacher())
              .feed(labels, labelTensor)
              .feed(learningRate, lrTensor)
              .feed(beta1Power, b1)
              .feed(beta2Power, b2)
              .fetch(loss);
      for (Operand<?> update : updates) {
        runner.addTarget(update.op());
      }
      try (TFloat32 candidateTensor = candidates == null ? null : candidates(traces, rows)) {
        if (candidateTensor != null) {
          runner.feed(candidates, candidateTensor);
        }
        try (Result result = runner.run()) {
          return ((TFloat32) result.get(0)).getFloat();
        }
      }
    }
  }

  private TFloat32 candidates(TeacherTraces traces, int[] rows) {
    int h = config.hiddenSize();
    int k = neighbours.k();
    float[] data = new float[rows.length * k * h];
    for (int r = 0; r < rows.length; r++) {
      int[] near = neighbours.of(rows[r]);
      for (int n = 0; n < k; n++) {
        System.arraycopy(traces.teacher(near[n]), 0, data, (r * k + n) * h, h);
      }
    }
    return TFloat32.tensorOf(Shape.of(rows.length, k, h), DataBuffers.of(data, true, false));
  }

  /** Mean cosine between the head's embedding and the final embedding over {@code rows}. */
  private double validate(TeacherTraces traces, int exit, List<Integer> rows) {
    double sum = 0;
    for (int[] chunk : traces.lengthChunks(rows, 64)) {
      try (Feed feed = feed(traces, exit, chunk);
          Result result =
              session
                  .runner()
                  .feed(hidden, feed.hidden())
                  .feed(mask, feed.mask())
                  .fetch(embedding)
                  .run()) {
        TFloat32 out = (TFloat32) result.get(0);
        int h = config.hiddenSize();
        float[] flat = new float[chunk.length * h];
        out.asRawTensor().data().asFloats().read(flat);
        for (int r = 0; r < chunk.length; r++) {
          float[] t = traces.teacher(chunk[r]);
          double dot = 0;
          for (int j = 0; j < h; j++) {
            dot += (double) flat[r * h + j] * t[j];
          }
          sum += dot;
        }
      }
    }
    return sum / rows.size();
  }

  private record Feed(TFloat32 hidden, TFloat32 mask, TFloat32 teacher) implements AutoCloseable {
    @Override
    public void close() {
      hidden.close();
      mask.close();
      teacher.close();
    }
  }

  private Feed feed(TeacherTraces traces, int exit, int[] rows) {
    int h = config.hiddenSize();
    float[] teacherData = new float[rows.length * h];
    for (int r = 0; r < rows.length; r++) {
      System.arraycopy(traces.teacher(rows[r]), 0, teacherData, r * h, h);
    }
    TFloat32 hiddenTensor = traces.paddedHidden(exit, rows);
    TFloat32 maskTensor = null;
    try {
      maskTensor = traces.mask(rows);
      TFloat32 teacherTensor =
          TFloat32.tensorOf(Shape.of(rows.length, h), DataBuffers.of(teacherData, true, false));
      return new Feed(hiddenTensor, maskTensor, teacherTensor);
    } catch (RuntimeException e) {
      hiddenTensor.close();
      if (maskTensor != null) {
        maskTensor.close();
      }
      throw e;
    }
  }

  private void checkResumable(JsonNode saved) {
    ObjectNode expected = describe();
    if (!saved.get("run").toString().equals(expected.toString())) {
      throw new IllegalArgumentException(
          "the checkpoint was made by a run with other settings ("
              + saved.get("run")
              + "); delete it or use the same settings ("
              + expected
              + ")");
    }
  }

  private ObjectNode describe() {
    ObjectNode run = JSON.createObjectNode();
    run.put("layer", initial.layer());
    run.put("head_type", initial.type().id());
    run.put("epochs", options.epochs());
    run.put("batch_size", options.batchSize());
    run.put("learning_rate", options.learningRate());
    run.put("ranking_weight", options.rankingWeight());
    run.put("neighbours", neighbours == null ? 0 : neighbours.k());
    run.put("seed", options.seed());
    return run;
  }

  private void checkpoint(
      Path state,
      int epoch,
      int bestEpoch,
      double bestCosine,
      double seconds,
      Map<String, Weight> best)
      throws IOException {
    Files.createDirectories(state);
    session.save(state.resolve("variables").toString());
    if (best != null) {
      HeadCheckpoint.writeBest(state, initial.layer(), initial.type(), best);
    }
    ObjectNode json = JSON.createObjectNode();
    json.set("run", describe());
    json.put("epoch", epoch);
    json.put("best_epoch", bestEpoch);
    json.put("best_cosine", bestCosine);
    json.put("seconds", seconds);
    Path tmp = state.resolve("state.json.tmp");
    JSON.writeValue(tmp.toFile(), json);
    Files.move(
        tmp,
        state.resolve("state.json"),
        java.nio.file.StandardCopyOption.REPLACE_EXISTING,
        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  private Map<String, Weight> readBest(Path state) throws IOException {
    return HeadCheckpoint.readBest(state, initial.type());
  }

  /** The head type being trained. */
  public HeadType type() {
    return initial.type();
  }

  @Override
  public void close() {
    session.close();
    graph.close();
  }
}
