package dev.cascade.model;

import java.util.List;

/**
 * All weights of a BERT-family encoder, with matrices laid out as {@code [in, out]} so that a
 * projection is {@code x · W + b}.
 *
 * @param config hyper-parameters the weights were read with
 * @param checksum SHA-256 (hex) of the file the weights came from; binds heads and profiles to it
 * @param wordEmbeddings {@code [vocab, hidden]}
 * @param positionEmbeddings {@code [maxPositions, hidden]}
 * @param tokenTypeEmbeddings {@code [typeVocab, hidden]}, or {@code null} when the model has none
 * @param embeddingNormGamma {@code [hidden]}
 * @param embeddingNormBeta {@code [hidden]}
 * @param layers one entry per transformer layer, bottom first
 */
public record BertWeights(
    BertConfig config,
    String checksum,
    Weight wordEmbeddings,
    Weight positionEmbeddings,
    Weight tokenTypeEmbeddings,
    Weight embeddingNormGamma,
    Weight embeddingNormBeta,
    List<Layer> layers) {

  public BertWeights {
    layers = List.copyOf(layers);
    if (layers.size() != config.layers()) {
      throw new ModelFormatException(
          "config says " + config.layers() + " layers but " + layers.size() + " were read");
    }
  }

  /** Weights of one transformer layer; matrices are {@code [in, out]}. */
  public record Layer(
      Weight query,
      Weight queryBias,
      Weight key,
      Weight keyBias,
      Weight value,
      Weight valueBias,
      Weight attentionOutput,
      Weight attentionOutputBias,
      Weight attentionNormGamma,
      Weight attentionNormBeta,
      Weight intermediate,
      Weight intermediateBias,
      Weight output,
      Weight outputBias,
      Weight outputNormGamma,
      Weight outputNormBeta) {}
}
