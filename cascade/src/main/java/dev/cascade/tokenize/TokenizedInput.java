package dev.cascade.tokenize;

/**
 * One input as token ids, special tokens included.
 *
 * @param ids token ids, {@code [CLS] ... [SEP]}; never longer than the model's maximum
 * @param originalTokens how many tokens the whole input had before any truncation
 * @param truncated whether tokens were cut to fit the model
 */
public record TokenizedInput(int[] ids, int originalTokens, boolean truncated) {

  /** Number of tokens the model sees. */
  public int length() {
    return ids.length;
  }
}
