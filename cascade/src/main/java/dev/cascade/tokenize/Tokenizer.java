package dev.cascade.tokenize;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The model's Hugging Face tokenizer (through DJL), with Cascade's length policy: inputs are
 * tokenized whole, so that the true token count is always known, then truncated or refused.
 *
 * <p>Thread-safe. Owns a native tokenizer: {@link #close()} releases it.
 */
public final class Tokenizer implements AutoCloseable {
  private final HuggingFaceTokenizer tokenizer;
  private final int maxTokens;

  private Tokenizer(HuggingFaceTokenizer tokenizer, int maxTokens) {
    this.tokenizer = tokenizer;
    this.maxTokens = maxTokens;
  }

  /**
   * Loads a {@code tokenizer.json}.
   *
   * @param json the file's content; not closed
   * @param maxPositions the model's position-embedding size; the limit is the smaller of it and the
   *     {@code truncation.max_length} the file declares
   */
  public static Tokenizer load(InputStream json, int maxPositions) throws IOException {
    byte[] bytes = json.readAllBytes();
    int limit = maxPositions;
    JsonNode truncation = new ObjectMapper().readTree(bytes).path("truncation");
    if (truncation.has("max_length") && truncation.get("max_length").asInt() > 0) {
      limit = Math.min(limit, truncation.get("max_length").asInt());
    }
    HuggingFaceTokenizer tokenizer =
        HuggingFaceTokenizer.newInstance(
            new ByteArrayInputStream(bytes),
            Map.of("truncation", "false", "padding", "false", "addSpecialTokens", "true"));
    return new Tokenizer(tokenizer, limit);
  }

  /** The most tokens, special tokens included, an input may have. */
  public int maxTokens() {
    return maxTokens;
  }

  /** Tokenizes one input; {@code index} names it in error messages (-1 for none). */
  public TokenizedInput tokenize(String text, int index, Truncation truncation) {
    return tokenize(text, index, truncation, maxTokens);
  }

  /**
   * Tokenizes one input against a limit of {@code limit} tokens, which may be below the model's
   * (for example to bound training memory).
   */
  public TokenizedInput tokenize(String text, int index, Truncation truncation, int limit) {
    if (limit < 3 || limit > maxTokens) {
      throw new IllegalArgumentException("limit must be in [3, " + maxTokens + "], was " + limit);
    }
    String where = index < 0 ? "input" : "input " + index;
    if (text == null || text.isBlank()) {
      throw new InputRejectedException(
          InputRejectedException.Reason.EMPTY, index, where + " is empty");
    }
    Encoding encoding = tokenizer.encode(text);
    long[] ids = encoding.getIds();
    if (ids.length <= 2) {
      throw new InputRejectedException(
          InputRejectedException.Reason.EMPTY, index, where + " has no tokens");
    }
    if (ids.length <= limit) {
      return new TokenizedInput(toInts(ids, ids.length), ids.length, false);
    }
    if (truncation == Truncation.REFUSE) {
      throw new InputRejectedException(
          InputRejectedException.Reason.TOO_LONG,
          index,
          where
              + " has "
              + ids.length
              + " tokens; the model accepts at most "
              + limit
              + " (allow truncation to keep the first "
              + limit
              + ")");
    }
    int[] kept = toInts(ids, limit);
    kept[limit - 1] = (int) ids[ids.length - 1];
    return new TokenizedInput(kept, ids.length, true);
  }

  /** Tokenizes inputs in order; the first refused input throws. */
  public List<TokenizedInput> tokenize(List<String> texts, Truncation truncation) {
    List<TokenizedInput> out = new ArrayList<>(texts.size());
    for (int i = 0; i < texts.size(); i++) {
      out.add(tokenize(texts.get(i), i, truncation));
    }
    return out;
  }

  private static int[] toInts(long[] ids, int n) {
    int[] out = new int[n];
    for (int i = 0; i < n; i++) {
      out[i] = Math.toIntExact(ids[i]);
    }
    return out;
  }

  @Override
  public void close() {
    tokenizer.close();
  }
}
