package dev.cascade.encoder;

/**
 * Threading of the TensorFlow session that runs the encoder.
 *
 * @param intraOpThreads threads one operation (a matrix product) may use; 0 means all cores
 * @param interOpThreads operations run at once within one step; 0 lets TensorFlow choose
 */
public record EncoderOptions(int intraOpThreads, int interOpThreads) {

  public EncoderOptions {
    if (intraOpThreads < 0 || interOpThreads < 0) {
      throw new IllegalArgumentException("thread counts must not be negative");
    }
  }

  /** All cores for each operation, one operation at a time. */
  public static EncoderOptions defaults() {
    return new EncoderOptions(Runtime.getRuntime().availableProcessors(), 1);
  }
}
