package dev.cascade.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cascade.encoder.EncoderModel;
import dev.cascade.encoder.EncoderOptions;
import dev.cascade.exit.ExitHeads;
import dev.cascade.exit.HeadOutput;
import dev.cascade.exit.HeadType;
import dev.cascade.exit.HeadWeights;
import dev.cascade.exit.HeadsFile;
import dev.cascade.model.BertWeights;
import dev.cascade.model.ModelSpec;
import dev.cascade.model.OnnxBertReader;
import dev.cascade.testing.TestData;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.types.TFloat32;

class HeadTrainerTest {
  private static final int LAYER = 4;
  private static EncoderModel model;
  private static BertWeights weights;
  private static TeacherTraces traces;
  private static int[] documents;

  @BeforeAll
  static void collectTraces() throws Exception {
    ModelSpec spec = ModelSpec.builtIn("bge-small-en-v1.5");
    try (InputStream in = spec.openWeights()) {
      weights = OnnxBertReader.read(in);
    }
    model = EncoderModel.load(spec, EncoderOptions.defaults());
    List<String> texts = new ArrayList<>();
    List<Integer> documentRows = new ArrayList<>();
    Random random = new Random(7);
    for (String doc : TestData.texts("javadoc-dev/corpus.jsonl", 160)) {
      documentRows.add(texts.size());
      texts.add(doc);
      texts.addAll(QueryDeriver.derive(doc, random));
    }
    traces = TeacherTraces.collect(model, texts, new int[] {LAYER}, 128, done -> {});
    documents = documentRows.stream().mapToInt(Integer::intValue).toArray();
  }

  @AfterAll
  static void close() {
    model.close();
  }

  private static TrainingOptions options() {
    return TrainingOptions.defaults().withEpochs(8).withRankingWeight(0f);
  }

  private static TrainedHead train(Path checkpoints) throws Exception {
    return train(options(), null, checkpoints);
  }

  private static TrainedHead train(
      TrainingOptions options, TeacherNeighbours neighbours, Path checkpoints) throws Exception {
    HeadWeights init = HeadWeights.fromLastLayer(weights, LAYER, HeadType.NARROW);
    try (HeadTrainer trainer =
        new HeadTrainer(weights.config(), model.spec().pooling(), init, options)) {
      return trainer.train(traces, neighbours, checkpoints, TrainingListener.NONE);
    }
  }

  private static double dot(float[] a, float[] b) {
    double sum = 0;
    for (int i = 0; i < a.length; i++) {
      sum += (double) a[i] * b[i];
    }
    return sum;
  }

  @Test
  void neighbours_areTheNearestDocumentsByTheFinalEmbedding_nearestFirst() {
    int k = 8;
    TeacherNeighbours near = TeacherNeighbours.find(traces, documents, k);
    assertEquals(traces.size(), near.size());
    assertEquals(k, near.k());
    for (int d : documents) {
      assertEquals(d, near.of(d)[0], "a document is its own nearest document");
    }
    for (int text = 0; text < traces.size(); text += 7) {
      int[] rows = near.of(text);
      float[] query = traces.teacher(text);
      for (int n = 1; n < k; n++) {
        assertTrue(
            dot(query, traces.teacher(rows[n - 1])) >= dot(query, traces.teacher(rows[n])) - 1e-6,
            "nearest first");
      }
      double kth = dot(query, traces.teacher(rows[k - 1]));
      int closer = 0;
      for (int d : documents) {
        if (dot(query, traces.teacher(d)) > kth + 1e-6) {
          closer++;
        }
      }
      assertTrue(closer < k, closer + " documents closer than the k-th neighbour of " + text);
    }
  }

  @Test
  void train_withRankingTerm_raisesCosineAndNeedsNeighbours() throws Exception {
    TrainingOptions ranking = options().withRankingWeight(1f);
    TrainedHead head = train(ranking, TeacherNeighbours.find(traces, documents, 8), null);
    assertTrue(
        head.validationCosine() > head.initialValidationCosine() + 0.2,
        "trained " + head.validationCosine() + " vs untrained " + head.initialValidationCosine());
    IllegalArgumentException missing =
        assertThrows(IllegalArgumentException.class, () -> train(ranking, null, null));
    assertTrue(missing.getMessage().contains("neighbours"), missing.getMessage());
  }

  @Test
  void train_smallCorpus_raisesCosineWellAboveUntrainedHead() throws Exception {
    TrainedHead head = train(null);
    System.out.printf(
        "layer %d: validation cosine %.4f untrained -> %.4f trained (epoch %d, %.1f s)%n",
        LAYER,
        head.initialValidationCosine(),
        head.validationCosine(),
        head.bestEpoch(),
        head.seconds());
    assertTrue(head.bestEpoch() >= 1, "some epoch improved on the untrained head");
    assertTrue(
        head.validationCosine() > head.initialValidationCosine() + 0.2,
        "trained " + head.validationCosine() + " vs untrained " + head.initialValidationCosine());
    assertTrue(head.validationCosine() > 0.8, "trained cosine " + head.validationCosine());
  }

  @Test
  void train_sameSeedTwice_givesIdenticalWeights(@TempDir Path dir) throws Exception {
    TrainedHead first = train(null);
    TrainedHead second = train(dir);
    assertEquals(first.bestEpoch(), second.bestEpoch());
    for (String name : HeadWeights.names(HeadType.NARROW)) {
      assertArrayEquals(
          first.weights().get(name).values(), second.weights().get(name).values(), name);
    }
    TrainedHead resumed = train(dir);
    assertEquals(
        second.bestEpoch(), resumed.bestEpoch(), "a finished run resumes to the same head");
    assertArrayEquals(
        second.weights().get("query").values(), resumed.weights().get("query").values());
  }

  @Test
  void agreementEstimate_tracksTheHeadsCosineOnHeldOutTexts_andSurvivesTheFile(@TempDir Path dir)
      throws Exception {
    TrainedHead trained = train(null);
    HeadsFile plain =
        new HeadsFile(model.spec().name(), model.checksum(), List.of(trained.weights()), null);
    AgreementEstimator.Fit fit =
        AgreementEstimator.fit(
                plain, weights.config(), model.spec().pooling(), EncoderOptions.defaults(), traces)
            .get(0);
    System.out.printf(
        "layer %d: agreement estimate correlation %.3f, mean error %.4f on %d held-out texts%n",
        LAYER, fit.correlation(), fit.meanAbsoluteError(), fit.heldOut());
    assertEquals(traces.size(), fit.fitTexts() + fit.heldOut());
    assertTrue(fit.correlation() > 0.3, "held-out correlation " + fit.correlation());

    Path file = dir.resolve("estimated.heads");
    new HeadsFile(model.spec().name(), model.checksum(), List.of(fit.head()), null).write(file);
    HeadsFile read = HeadsFile.read(file);
    assertTrue(read.head(LAYER).hasEstimator());
    assertArrayEquals(
        fit.head().get("estimator").values(), read.head(LAYER).get("estimator").values());
    int[] rows = {0, 1, 2, 3};
    try (ExitHeads heads =
            new ExitHeads(
                read, weights.config(), model.spec().pooling(), EncoderOptions.defaults());
        ExitHeads without =
            new ExitHeads(
                plain, weights.config(), model.spec().pooling(), EncoderOptions.defaults());
        TFloat32 hidden = traces.paddedHidden(0, rows);
        TFloat32 mask = traces.mask(rows)) {
      HeadOutput out = heads.apply(LAYER, hidden, mask);
      float[] w = read.head(LAYER).get("estimator").values();
      double b = read.head(LAYER).get("estimator_bias").values()[0];
      for (int r = 0; r < rows.length; r++) {
        assertEquals(b + dot(w, out.embeddings()[r]), out.estimates()[r], 1e-5);
      }
      assertTrue(Double.isNaN(without.apply(LAYER, hidden, mask).estimates()[0]));
    }
  }
}
