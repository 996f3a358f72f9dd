package dev.cascade.encoder;

import dev.cascade.model.BertWeights;
import dev.cascade.model.ModelSpec;
import dev.cascade.model.OnnxBertReader;
import dev.cascade.tokenize.TokenizedInput;
import dev.cascade.tokenize.Tokenizer;
import dev.cascade.tokenize.Truncation;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;

/**
 * A loaded model: its tokenizer and its encoder, ready to embed text.
 *
 * <p>Thread-safe. Owns both; {@link #close()} releases them.
 */
public final class EncoderModel implements AutoCloseable {
  private final ModelSpec spec;
  private final String checksum;
  private final Tokenizer tokenizer;
  private final Encoder encoder;

  private EncoderModel(ModelSpec spec, String checksum, Tokenizer tokenizer, Encoder encoder) {
    this.spec = spec;
    this.checksum = checksum;
    this.tokenizer = tokenizer;
    this.encoder = encoder;
  }

  /** Reads the weights and tokenizer named by {@code spec} and builds the encoder. */
  public static EncoderModel load(ModelSpec spec, EncoderOptions options) throws IOException {
    BertWeights weights;
    try (InputStream in = spec.openWeights()) {
      weights = OnnxBertReader.read(in);
    }
    Tokenizer tokenizer;
    try (InputStream in = spec.openTokenizer()) {
      tokenizer = Tokenizer.load(in, weights.config().maxPositions());
    }
    try {
      Encoder encoder = new Encoder(weights, spec.pooling(), options);
      return new EncoderModel(spec, weights.checksum(), tokenizer, encoder);
    } catch (RuntimeException e) {
      tokenizer.close();
      throw e;
    }
  }

  /** The default model with default threading. */
  public static EncoderModel loadDefault() throws IOException {
    return load(ModelSpec.builtIn(ModelSpec.DEFAULT), EncoderOptions.defaults());
  }

  public ModelSpec spec() {
    return spec;
  }

  /** SHA-256 of the model file, which binds heads and profiles to these weights. */
  public String checksum() {
    return checksum;
  }

  public Tokenizer tokenizer() {
    return tokenizer;
  }

  public Encoder encoder() {
    return encoder;
  }

  /**
   * Tokenizes and embeds texts at full depth; over-length input is handled per {@code truncation}.
   */
  public float[][] embed(List<String> texts, Truncation truncation) {
    List<TokenizedInput> inputs = tokenizer.tokenize(texts, truncation);
    return encoder.encode(inputs);
  }

  @Override
  public void close() {
    try {
      encoder.close();
    } finally {
      tokenizer.close();
    }
  }
}
