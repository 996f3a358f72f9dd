package dev.cascade.policy;

/**
 * Per-request limits on where inputs may stop.
 *
 * @param minExit inputs never stop below this layer; 0 means no lower bound
 * @param maxExit inputs stop at the last exit at or below this layer; 0 means the last layer
 */
public record ExitBounds(int minExit, int maxExit) {
  /** No bounds. */
  public static final ExitBounds NONE = new ExitBounds(0, 0);

  public ExitBounds {
    if (minExit < 0 || maxExit < 0) {
      throw new IllegalArgumentException("exit bounds must not be negative");
    }
    if (maxExit != 0 && minExit > maxExit) {
      throw new IllegalArgumentException(
          "min exit layer " + minExit + " is above max exit layer " + maxExit);
    }
  }

  /**
   * Checks the bounds against a model and its exits, with a message that names the limit.
   *
   * @param layers the model's layers
   * @param exits the exit layers available, ascending
   */
  public void validate(int layers, int[] exits) {
    if (minExit > layers) {
      throw new IllegalArgumentException(
          "min exit layer " + minExit + " is beyond the model's " + layers + " layers");
    }
    if (maxExit > layers) {
      throw new IllegalArgumentException(
          "max exit layer " + maxExit + " is beyond the model's " + layers + " layers");
    }
    if (maxExit != 0 && maxExit < layers && (exits.length == 0 || maxExit < exits[0])) {
      throw new IllegalArgumentException(
          "max exit layer "
              + maxExit
              + " is below the first exit layer"
              + (exits.length == 0 ? " (this profile has no early exits)" : " " + exits[0])
              + "; use 0 or a layer from "
              + (exits.length == 0 ? layers : exits[0])
              + " to "
              + layers);
    }
  }

  /** The last layer an input may run to under these bounds. */
  public int effectiveMax(int layers, int[] exits) {
    if (maxExit == 0 || maxExit >= layers) {
      return layers;
    }
    int best = layers;
    for (int e : exits) {
      if (e <= maxExit) {
        best = e;
      }
    }
    return best;
  }
}
