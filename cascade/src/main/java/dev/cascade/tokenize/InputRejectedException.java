package dev.cascade.tokenize;

/** An input the tokenizer refuses, with the reason and the limit it broke. */
public final class InputRejectedException extends IllegalArgumentException {
  /** Why an input was refused. */
  public enum Reason {
    EMPTY,
    TOO_LONG
  }

  private final Reason reason;
  private final int index;

  public InputRejectedException(Reason reason, int index, String message) {
    super(message);
    this.reason = reason;
    this.index = index;
  }

  public Reason reason() {
    return reason;
  }

  /** Position of the refused input in the request, or -1 when it was given alone. */
  public int index() {
    return index;
  }
}
