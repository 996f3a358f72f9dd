package dev.cascade.model;

import java.util.Arrays;

/**
 * One named weight array in row-major order.
 *
 * @param name the parameter name, as in the checkpoint
 * @param shape dimensions, outermost first
 * @param values the values; owned by this record once constructed, never modified
 */
public record Weight(String name, long[] shape, float[] values) {

  public Weight {
    long size = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
    if (size != values.length) {
      throw new ModelFormatException(
          "weight "
              + name
              + " has shape "
              + Arrays.toString(shape)
              + " but "
              + values.length
              + " values");
    }
  }

  /** Size of dimension {@code i}. */
  public int dim(int i) {
    return Math.toIntExact(shape[i]);
  }

  /** Rank of the array. */
  public int rank() {
    return shape.length;
  }

  /** This 2-D weight transposed. */
  public Weight transposed() {
    if (rank() != 2) {
      throw new IllegalStateException(name + " is not a matrix");
    }
    int rows = dim(0);
    int cols = dim(1);
    float[] out = new float[values.length];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        out[c * rows + r] = values[r * cols + c];
      }
    }
    return new Weight(name, new long[] {cols, rows}, out);
  }
}
