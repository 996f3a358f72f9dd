package dev.cascade.tokenize;

/** What to do with input longer than the model's maximum number of tokens. */
public enum Truncation {
  /** Refuse it with an {@link InputRejectedException}. */
  REFUSE,
  /** Keep the first tokens that fit, and report the input as truncated. */
  TRUNCATE
}
