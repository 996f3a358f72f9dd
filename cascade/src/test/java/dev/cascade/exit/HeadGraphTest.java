package dev.cascade.exit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cascade.encoder.EncoderBatch;
import dev.cascade.encoder.EncoderModel;
import dev.cascade.encoder.EncoderOptions;
import dev.cascade.model.BertWeights;
import dev.cascade.model.ModelSpec;
import dev.cascade.model.OnnxBertReader;
import dev.cascade.testing.TestData;
import dev.cascade.tokenize.TokenizedInput;
import dev.cascade.tokenize.Truncation;
import dev.cascade.vector.Vectors;
import java.io.InputStream;
import java.util.List;
import org.junit.jupiter.api.Test;

class HeadGraphTest {

  /**
   * A full head initialised from the last layer and run on the penultimate layer's states is the
   * last layer computed for the CLS row only, so it must reproduce the model's final embedding:
   * this checks the folded key and value algebra.
   */
  @Test
  void fullHeadFromLastLayer_onPenultimateLayer_equalsFinalEmbedding() throws Exception {
    ModelSpec spec = ModelSpec.builtIn("bge-small-en-v1.5");
    BertWeights weights;
    try (InputStream in = spec.openWeights()) {
      weights = OnnxBertReader.read(in);
    }
    int last = weights.config().layers();
    HeadsFile file =
        new HeadsFile(
            spec.name(),
            weights.checksum(),
            List.of(HeadWeights.fromLastLayer(weights, last - 1, HeadType.FULL)),
            null);
    try (EncoderModel model = EncoderModel.load(spec, EncoderOptions.defaults());
        ExitHeads heads =
            new ExitHeads(file, weights.config(), spec.pooling(), EncoderOptions.defaults())) {
      List<String> texts = TestData.variedInputs().subList(0, 30);
      List<TokenizedInput> inputs = model.tokenizer().tokenize(texts, Truncation.TRUNCATE);
      float[][] expected = model.encoder().encode(inputs);
      try (EncoderBatch batch = model.encoder().start(inputs)) {
        while (batch.layer() < last - 1) {
          batch.advance();
        }
        HeadOutput out = heads.apply(batch);
        assertEquals(texts.size(), out.embeddings().length);
        for (int i = 0; i < texts.size(); i++) {
          double cos = Vectors.dot(out.embeddings()[i], expected[i]);
          assertTrue(cos > 0.99999, "input " + i + " cosine " + cos);
          assertTrue(out.norms()[i] > 1, "norm before normalisation " + out.norms()[i]);
        }
      }
    }
  }
}
