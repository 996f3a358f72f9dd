package dev.cascade.encoder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cascade.testing.BuiltInModels;
import dev.cascade.testing.TestData;
import dev.cascade.tokenize.TokenizedInput;
import dev.cascade.tokenize.Truncation;
import dev.cascade.vector.Vectors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Padding is invisible: an input's pooled embedding is the same whether it runs alone or inside a
 * batch padded to a much longer input, at every layer from the embeddings to the last.
 */
class BatchInvarianceTest {
  private static final double MIN_COSINE = 0.99999;
  @RegisterExtension static final BuiltInModels models = new BuiltInModels();

  /** Short and long inputs; the last is long enough to be truncated by MiniLM. */
  static List<String> mixedTexts() {
    List<String> texts =
        new ArrayList<>(
            List.of(
                "hi",
                "How do I read a file line by line in Java?",
                "Zürich, São Paulo, Kraków, Malmö and Reykjavík are cities.",
                "for (int i = 0; i < n; i++) { sum += a[i] * b[i]; }"));
    texts.addAll(TestData.texts("javadoc-dev/corpus.jsonl", 2));
    texts.add(String.join(" ", TestData.texts("man/paragraphs.jsonl", 8)));
    return texts;
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"bge-small-en-v1.5", "all-minilm-l6-v2"})
  void pooledEmbeddings_aloneAndInPaddedBatch_agreeAtEveryLayer(String name) {
    EncoderModel model = models.get(name);
    Encoder encoder = model.encoder();
    List<TokenizedInput> inputs = model.tokenizer().tokenize(mixedTexts(), Truncation.TRUNCATE);
    int[] lengths = inputs.stream().mapToInt(TokenizedInput::length).toArray();
    int longest = Arrays.stream(lengths).max().orElseThrow();
    assertTrue(
        Arrays.stream(lengths).min().orElseThrow() * 10 < longest,
        "some rows are mostly padding: " + Arrays.toString(lengths));

    float[][][] batched = layerwise(encoder, inputs, longest);
    int layers = encoder.config().layers();
    assertEquals(layers + 1, batched.length);

    double worst = 1;
    for (int i = 0; i < inputs.size(); i++) {
      float[][][] alone = layerwise(encoder, List.of(inputs.get(i)), lengths[i]);
      for (int layer = 0; layer <= layers; layer++) {
        double cosine = Vectors.cosine(alone[layer][0], batched[layer][i]);
        worst = Math.min(worst, cosine);
        assertTrue(
            cosine >= MIN_COSINE,
            name
                + " input "
                + i
                + " ("
                + lengths[i]
                + " of "
                + longest
                + " tokens) at layer "
                + layer
                + ": cosine "
                + cosine);
      }
      assertTrue(
          Vectors.cosine(alone[0][0], alone[layers][0]) < 0.99,
          "the layers change the embedding, so agreement at each layer is not vacuous");
    }
    System.out.printf(
        "%s: lengths %s, padded to %d, %d layers, worst 1-cosine alone vs batched %.2e%n",
        name, Arrays.toString(lengths), longest, layers, 1 - worst);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"bge-small-en-v1.5", "all-minilm-l6-v2"})
  void lastLayer_layerByLayer_matchesFusedEncodeInAnyRowOrder(String name) {
    EncoderModel model = models.get(name);
    Encoder encoder = model.encoder();
    List<TokenizedInput> inputs = model.tokenizer().tokenize(mixedTexts(), Truncation.TRUNCATE);
    int longest = inputs.stream().mapToInt(TokenizedInput::length).max().orElseThrow();
    float[][] layered = layerwise(encoder, inputs, longest)[encoder.config().layers()];

    float[][] fused = encoder.encode(inputs);
    List<TokenizedInput> reversed = new ArrayList<>(inputs);
    Collections.reverse(reversed);
    float[][] fusedReversed = encoder.encode(reversed);
    int n = inputs.size();
    for (int i = 0; i < n; i++) {
      assertEquals(1, Vectors.norm(fused[i]), 1e-4, "fused output is L2-normalised");
      assertTrue(
          Vectors.cosine(layered[i], fused[i]) >= MIN_COSINE, "layer by layer vs fused " + i);
      assertTrue(
          Vectors.cosine(fused[i], fusedReversed[n - 1 - i]) >= MIN_COSINE,
          "row order does not matter for input " + i);
    }
  }

  /**
   * Pooled embeddings of every row at layers 0..L, indexed {@code [layer][row]}, checking the
   * batch's bookkeeping on the way.
   */
  private static float[][][] layerwise(
      Encoder encoder, List<TokenizedInput> inputs, int expectedPadding) {
    int layers = encoder.config().layers();
    float[][][] out = new float[layers + 1][][];
    try (EncoderBatch batch = encoder.start(inputs)) {
      assertEquals(inputs.size(), batch.size());
      assertEquals(expectedPadding, batch.paddedLength());
      assertArrayEquals(
          inputs.stream().mapToInt(TokenizedInput::length).toArray(), batch.lengths());
      assertEquals(0, batch.layer());
      out[0] = batch.pool();
      while (!batch.atLastLayer()) {
        float[][] pooled = batch.advanceAndPool();
        out[batch.layer()] = pooled;
      }
      assertEquals(layers, batch.layer());
    }
    for (float[][] layer : out) {
      assertEquals(inputs.size(), layer.length);
      for (float[] row : layer) {
        assertEquals(encoder.config().hiddenSize(), row.length);
        assertEquals(1, Vectors.norm(row), 1e-4, "pooled rows are L2-normalised");
      }
    }
    return out;
  }
}
