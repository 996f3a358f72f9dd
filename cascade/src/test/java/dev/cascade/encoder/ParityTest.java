package dev.cascade.encoder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.cascade.model.ModelSpec;
import dev.cascade.testing.TestData;
import dev.cascade.tokenize.TokenizedInput;
import dev.cascade.tokenize.Truncation;
import dev.cascade.vector.Vectors;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.bgesmallenv15.BgeSmallEnV15EmbeddingModel;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Final-layer embeddings agree with ONNX Runtime running the same artifact's model. Inputs over the
 * model's limit are compared with the reference's embedding of the prefix that fits, which is its
 * first chunk.
 */
class ParityTest {
  static Stream<Arguments> models() {
    return Stream.of(
        Arguments.of(
            "bge-small-en-v1.5", (Supplier<EmbeddingModel>) BgeSmallEnV15EmbeddingModel::new),
        Arguments.of(
            "all-minilm-l6-v2", (Supplier<EmbeddingModel>) AllMiniLmL6V2EmbeddingModel::new));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("models")
  void finalEmbeddings_variedInputs_matchOnnxRuntime(String name, Supplier<EmbeddingModel> ref)
      throws Exception {
    List<String> inputs = TestData.variedInputs();
    assertTrue(inputs.size() >= 50, "at least 50 inputs");
    EmbeddingModel reference = ref.get();
    try (EncoderModel model =
            EncoderModel.load(ModelSpec.builtIn(name), EncoderOptions.defaults());
        InputStream json = model.spec().openTokenizer();
        HuggingFaceTokenizer raw =
            HuggingFaceTokenizer.newInstance(json, Map.of("truncation", "false"))) {
      int max = model.tokenizer().maxTokens();
      List<TokenizedInput> tokenized = model.tokenizer().tokenize(inputs, Truncation.TRUNCATE);
      float[][] ours = model.encoder().encode(tokenized);
      int truncated = 0;
      double worst = 1;
      for (int i = 0; i < inputs.size(); i++) {
        String text = inputs.get(i);
        if (tokenized.get(i).truncated()) {
          truncated++;
          text = prefixWithin(raw, text, max);
          assertArrayEquals(
              tokenized.get(i).ids(),
              model.tokenizer().tokenize(text, i, Truncation.REFUSE).ids(),
              "the prefix tokenizes to the truncated ids");
        }
        float[] expected = reference.embed(text).content().vector();
        double cosine = Vectors.cosine(ours[i], expected);
        worst = Math.min(worst, cosine);
        assertTrue(
            cosine >= 0.9999, name + " input " + i + " cosine " + cosine + ": " + abbrev(text));
      }
      assertTrue(truncated >= 3, "some inputs exceed the limit of " + max + " tokens");
      System.out.printf(
          "%s: %d inputs, %d truncated, worst cosine %.7f%n",
          name, inputs.size(), truncated, worst);
    }
  }

  /**
   * The longest prefix of {@code text} whose tokens fit in {@code max}, special tokens included.
   */
  static String prefixWithin(HuggingFaceTokenizer raw, String text, int max) {
    Encoding e = raw.encode(text);
    int lastKept = max - 2;
    return text.substring(0, e.getCharTokenSpans()[lastKept].getEnd());
  }

  private static String abbrev(String s) {
    return s.length() < 60 ? s : s.substring(0, 60) + "...";
  }
}
