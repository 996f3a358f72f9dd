package dev.cascade.encoder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cascade.testing.BuiltInModels;
import dev.cascade.testing.TestData;
import dev.cascade.tokenize.TokenizedInput;
import dev.cascade.tokenize.Truncation;
import dev.cascade.vector.Vectors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.tensorflow.Result;

/**
 * {@link EncoderBatch#retain} drops finished rows mid-stack without disturbing the rows that stay:
 * their pooled embeddings at every later layer equal those of a batch that never dropped anything.
 */
class RowDroppingTest {
  private static final double MIN_COSINE = 0.99999;
  @RegisterExtension static final BuiltInModels models = new BuiltInModels();

  /** Seven inputs of distinct lengths; the longest is row 4, the second longest row 1. */
  static List<TokenizedInput> inputs(EncoderModel model) {
    List<String> corpus = TestData.texts("javadoc-dev/corpus.jsonl", 3);
    List<String> texts =
        List.of(
            "hi",
            words(corpus.get(0) + " " + corpus.get(1), 40),
            "How do I read a file line by line in Java?",
            "for (int i = 0; i < n; i++) { sum += a[i] * b[i]; }",
            words(String.join(" ", TestData.texts("man/paragraphs.jsonl", 3)), 70),
            "The quick brown fox jumps over the lazy dog.",
            words(corpus.get(2), 20));
    List<TokenizedInput> inputs = model.tokenizer().tokenize(texts, Truncation.TRUNCATE);
    int[] lengths = inputs.stream().mapToInt(TokenizedInput::length).toArray();
    int[] byLength =
        IntStream.range(0, lengths.length)
            .boxed()
            .sorted((a, b) -> lengths[b] - lengths[a])
            .mapToInt(Integer::intValue)
            .toArray();
    assertEquals(4, byLength[0], "row 4 is the longest: " + Arrays.toString(lengths));
    assertEquals(1, byLength[1], "row 1 is the second longest: " + Arrays.toString(lengths));
    assertTrue(lengths[1] < lengths[4] && lengths[6] < lengths[1], Arrays.toString(lengths));
    return inputs;
  }

  private static String words(String text, int n) {
    String[] words = text.trim().split("\\s+");
    return String.join(" ", Arrays.copyOf(words, Math.min(n, words.length)));
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"bge-small-en-v1.5", "all-minilm-l6-v2"})
  void retain_atSeveralLayers_leavesKeptRowsUnchangedAtEveryLaterLayer(String name) {
    EncoderModel model = models.get(name);
    Encoder encoder = model.encoder();
    List<TokenizedInput> inputs = inputs(model);
    int[] lengths = inputs.stream().mapToInt(TokenizedInput::length).toArray();
    int layers = encoder.config().layers();

    float[][][] reference = new float[layers + 1][][];
    try (EncoderBatch batch = encoder.start(inputs)) {
      reference[0] = batch.pool();
      while (!batch.atLastLayer()) {
        reference[batch.layer() + 1] = batch.advanceAndPool();
      }
    }

    // Layer at which to drop -> ids to drop there. The longest row goes at layer 1, the next
    // longest half-way, so the padding shrinks twice; the last drop is one layer before the top.
    Map<Integer, int[]> drops = new LinkedHashMap<>();
    drops.put(0, new int[] {0});
    drops.put(1, new int[] {4, 5});
    drops.put(layers / 2, new int[] {1});
    drops.put(layers - 1, new int[] {3});

    List<Integer> alive = new ArrayList<>(List.of(0, 1, 2, 3, 4, 5, 6));
    double worst = 1;
    List<String> paddings = new ArrayList<>();
    try (EncoderBatch batch = encoder.start(inputs)) {
      while (true) {
        int layer = batch.layer();
        if (drops.containsKey(layer)) {
          int before = batch.paddedLength();
          List<Integer> dropped = Arrays.stream(drops.get(layer)).boxed().toList();
          int[] keep =
              IntStream.range(0, alive.size())
                  .filter(row -> !dropped.contains(alive.get(row)))
                  .toArray();
          batch.retain(keep);
          alive.removeAll(dropped);
          int longest = alive.stream().mapToInt(id -> lengths[id]).max().orElseThrow();
          assertEquals(longest, batch.paddedLength(), "padding trimmed to the longest kept row");
          paddings.add("layer " + layer + ": " + before + "->" + batch.paddedLength());
          assertEquals(layer, batch.layer(), "retain does not advance");
        }
        assertEquals(alive.size(), batch.size());
        assertArrayEquals(alive.stream().mapToInt(Integer::intValue).toArray(), batch.ids());
        assertArrayEquals(alive.stream().mapToInt(id -> lengths[id]).toArray(), batch.lengths());

        float[][] pooled = batch.pool();
        assertEquals(alive.size(), pooled.length);
        for (int row = 0; row < pooled.length; row++) {
          int id = alive.get(row);
          double cosine = Vectors.cosine(reference[layer][id], pooled[row]);
          worst = Math.min(worst, cosine);
          assertTrue(
              cosine >= MIN_COSINE,
              name + " id " + id + " at layer " + layer + " after drops: cosine " + cosine);
        }
        if (batch.atLastLayer()) {
          break;
        }
        float[][] advanced = batch.advanceAndPool();
        for (int row = 0; row < advanced.length; row++) {
          assertTrue(
              Vectors.cosine(reference[batch.layer()][alive.get(row)], advanced[row]) >= MIN_COSINE,
              "advanceAndPool agrees for id " + alive.get(row) + " at layer " + batch.layer());
        }
      }
      assertEquals(List.of(2, 6), alive);
      assertTrue(batch.paddedLength() < lengths[4], "dropping the longest row shrank the padding");
    }
    System.out.printf(
        "%s: lengths %s, padding %s, worst 1-cosine %.2e%n",
        name, Arrays.toString(lengths), paddings, 1 - worst);
  }

  @Test
  void retain_nothing_emptiesBatch() {
    Encoder encoder = models.get("all-minilm-l6-v2").encoder();
    try (EncoderBatch batch = encoder.start(inputs(models.get("all-minilm-l6-v2")))) {
      batch.advance();
      batch.retain(new int[0]);
      assertEquals(0, batch.size());
      assertArrayEquals(new int[0], batch.ids());
      assertArrayEquals(new int[0], batch.lengths());
      assertEquals(0, batch.paddedLength());
      assertEquals(0, batch.pool().length);
      assertEquals(1, batch.layer());
    }
  }

  @Test
  void retain_allRows_changesNothing() {
    EncoderModel model = models.get("all-minilm-l6-v2");
    try (EncoderBatch batch = model.encoder().start(inputs(model))) {
      batch.advance();
      float[][] before = batch.pool();
      int padded = batch.paddedLength();
      batch.retain(new int[] {0, 1, 2, 3, 4, 5, 6});
      assertEquals(7, batch.size());
      assertEquals(padded, batch.paddedLength());
      assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6}, batch.ids());
      float[][] after = batch.pool();
      for (int row = 0; row < before.length; row++) {
        assertArrayEquals(before[row], after[row]);
      }
    }
  }

  @Test
  void retain_badRows_throwIllegalArgumentAndLeaveBatchIntact() {
    EncoderModel model = models.get("all-minilm-l6-v2");
    try (EncoderBatch batch = model.encoder().start(inputs(model))) {
      batch.advance();
      batch.retain(new int[] {1, 2, 3, 4});
      int[] ids = batch.ids();
      int padded = batch.paddedLength();
      float[][] before = batch.pool();
      for (int[] bad :
          List.of(
              new int[] {-1},
              new int[] {4},
              new int[] {0, 7},
              new int[] {2, 1},
              new int[] {1, 1},
              new int[] {0, 1, 2, 3, 3})) {
        IllegalArgumentException e =
            assertThrows(
                IllegalArgumentException.class,
                () -> batch.retain(bad),
                "retain " + Arrays.toString(bad) + " of 4 rows");
        assertTrue(
            e.getMessage().contains(Arrays.toString(bad)),
            "message shows the rows: " + e.getMessage());
      }
      assertArrayEquals(ids, batch.ids());
      assertEquals(padded, batch.paddedLength());
      float[][] after = batch.pool();
      for (int row = 0; row < before.length; row++) {
        assertArrayEquals(before[row], after[row]);
      }
    }
  }

  /**
   * Each TensorFlow {@link Result} a batch lets go of is closed exactly once. TF Java tolerates a
   * second close but logs "Closing an already closed Result", so a warning here means the batch's
   * ownership bookkeeping is wrong (and spams the log on every retain in production).
   */
  @Test
  void retain_atSeveralLayers_closesEachReleasedResultOnce() {
    EncoderModel model = models.get("all-minilm-l6-v2");
    Logger logger = Logger.getLogger(Result.class.getName());
    List<String> warnings = new CopyOnWriteArrayList<>();
    Handler handler =
        new Handler() {
          @Override
          public void publish(LogRecord record) {
            warnings.add(record.getLevel() + ": " + record.getMessage());
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };
    logger.addHandler(handler);
    try (EncoderBatch batch = model.encoder().start(inputs(model))) {
      batch.retain(new int[] {1, 2, 3, 4, 5, 6});
      batch.advance();
      batch.retain(new int[] {0, 1, 2, 4, 5});
      batch.retain(new int[] {0, 1, 2, 3});
      batch.advanceAndPool();
      batch.retain(new int[] {1, 3});
      assertArrayEquals(new int[] {2, 5}, batch.ids());
    } finally {
      logger.removeHandler(handler);
    }
    assertEquals(List.of(), warnings, "log records from org.tensorflow.Result");
  }
}
