package dev.cascade.model;

import java.util.Locale;

/** How a sequence of hidden states becomes one vector, as the model was trained to be used. */
public enum Pooling {
  /** The hidden state of the first token ({@code [CLS]}). */
  CLS,
  /** The mean of the hidden states of the real (unmasked) tokens. */
  MEAN;

  /** Parses {@code cls} or {@code mean}, case-insensitively. */
  public static Pooling parse(String name) {
    try {
      return valueOf(name.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("unknown pooling '" + name + "': expected cls or mean", e);
    }
  }
}
