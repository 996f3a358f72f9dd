package dev.cascade.model;

/**
 * Hyper-parameters of a BERT-family encoder, as read from its exported graph.
 *
 * @param layers number of transformer layers
 * @param hiddenSize width of the hidden states
 * @param heads attention heads per layer; {@code hiddenSize} is a multiple of it
 * @param intermediateSize width of the feed-forward layer
 * @param vocabSize rows of the word-embedding table
 * @param maxPositions rows of the position-embedding table
 * @param typeVocabSize rows of the token-type table (0 when the model has none)
 * @param layerNormEpsilon epsilon of every LayerNorm
 * @param maskValue value added to attention scores of padded positions
 */
public record BertConfig(
    int layers,
    int hiddenSize,
    int heads,
    int intermediateSize,
    int vocabSize,
    int maxPositions,
    int typeVocabSize,
    float layerNormEpsilon,
    float maskValue) {

  public BertConfig {
    require(layers > 0, "layers must be positive, was " + layers);
    require(hiddenSize > 0, "hidden size must be positive, was " + hiddenSize);
    require(
        heads > 0 && hiddenSize % heads == 0,
        "hidden size " + hiddenSize + " is not a multiple of heads " + heads);
    require(intermediateSize > 0, "intermediate size must be positive, was " + intermediateSize);
    require(vocabSize > 0, "vocabulary size must be positive, was " + vocabSize);
    require(maxPositions > 0, "max positions must be positive, was " + maxPositions);
    require(typeVocabSize >= 0, "token-type vocabulary must not be negative");
    require(
        layerNormEpsilon > 0 && layerNormEpsilon < 1e-2,
        "LayerNorm epsilon out of range: " + layerNormEpsilon);
  }

  /** Width of one attention head. */
  public int headSize() {
    return hiddenSize / heads;
  }

  private static void require(boolean condition, String message) {
    if (!condition) {
      throw new IllegalArgumentException(message);
    }
  }
}
