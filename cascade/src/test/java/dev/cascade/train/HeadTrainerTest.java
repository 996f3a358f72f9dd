package dev.cascade.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cascade.encoder.EncoderModel;
import dev.cascade.encoder.EncoderOptions;
import dev.cascade.exit.HeadType;
import dev.cascade.exit.HeadWeights;
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

class HeadTrainerTest {
  private static final int LAYER = 4;
  private static EncoderModel model;
  private static BertWeights weights;
  private static TeacherTraces traces;

  @BeforeAll
  static void collectTraces() throws Exception {
    ModelSpec spec = ModelSpec.builtIn("bge-small-en-v1.5");
    try (InputStream in = spec.openWeights()) {
      weights = OnnxBertReader.read(in);
    }
    model = EncoderModel.load(spec, EncoderOptions.defaults());
    List<String> texts = new ArrayList<>();
    Random random = new Random(7);
    for (String doc : TestData.texts("javadoc-dev/corpus.jsonl", 160)) {
      texts.add(doc);
      texts.addAll(QueryDeriver.derive(doc, random));
    }
    traces = TeacherTraces.collect(model, texts, new int[] {LAYER}, 128, done -> {});
  }

  @AfterAll
  static void close() {
    model.close();
  }

  private static TrainingOptions options() {
    return TrainingOptions.defaults().withEpochs(8);
  }

  private static TrainedHead train(Path checkpoints) throws Exception {
    HeadWeights init = HeadWeights.fromLastLayer(weights, LAYER, HeadType.NARROW);
    try (HeadTrainer trainer =
        new HeadTrainer(weights.config(), model.spec().pooling(), init, options())) {
      return trainer.train(traces, checkpoints, TrainingListener.NONE);
    }
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
}
