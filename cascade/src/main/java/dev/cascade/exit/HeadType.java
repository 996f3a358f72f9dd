package dev.cascade.exit;

import java.util.Locale;

/**
 * The architecture of an exit head. Every type is a copy of the model's last transformer layer,
 * initialised from it and computed for the pooled position only; they differ in the feed-forward
 * block.
 */
public enum HeadType {
  /** The full feed-forward block of the last layer. */
  FULL,
  /** A feed-forward block as wide as the hidden size, initialised from the first units. */
  NARROW,
  /** Attention and its LayerNorm only. */
  ATTENTION;

  /**
   * Feed-forward width for a model whose own layers use {@code intermediate} and {@code hidden}.
   */
  public int feedForwardWidth(int hidden, int intermediate) {
    return switch (this) {
      case FULL -> intermediate;
      case NARROW -> hidden;
      case ATTENTION -> 0;
    };
  }

  /** Parses a name such as {@code narrow}, case-insensitively. */
  public static HeadType parse(String name) {
    try {
      return valueOf(name.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "unknown head type '" + name + "': expected full, narrow or attention", e);
    }
  }

  /** Lower-case name, as used on the command line and in files. */
  public String id() {
    return name().toLowerCase(Locale.ROOT);
  }
}
