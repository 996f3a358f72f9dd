package dev.cascade.model;

/** Thrown when a model file is not a BERT-style encoder Cascade can run; the message names why. */
public final class ModelFormatException extends RuntimeException {
  public ModelFormatException(String message) {
    super(message);
  }

  public ModelFormatException(String message, Throwable cause) {
    super(message, cause);
  }
}
