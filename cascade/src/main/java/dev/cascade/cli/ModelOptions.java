package dev.cascade.cli;

import dev.cascade.encoder.EncoderModel;
import dev.cascade.encoder.EncoderOptions;
import dev.cascade.model.ModelSpec;
import dev.cascade.model.Pooling;
import java.io.IOException;
import picocli.CommandLine.Option;

/** The options every engine command shares: which model, and how many threads. */
public final class ModelOptions {
  @Option(
      names = {"-m", "--model"},
      defaultValue = "${CASCADE_MODEL:-" + ModelSpec.DEFAULT + "}",
      description =
          "Built-in model (bge-small-en-v1.5, all-minilm-l6-v2) or path to a BERT-style .onnx"
              + " file or directory with tokenizer.json. Default: ${DEFAULT-VALUE}.")
  String model;

  @Option(
      names = "--pooling",
      description =
          "Pooling of a model given by path: cls or mean (default: from 1_Pooling/config.json, else mean).")
  String pooling;

  @Option(
      names = "--threads",
      defaultValue = "${CASCADE_THREADS:-0}",
      description = "Threads per TensorFlow operation; 0 = all cores. Default: ${DEFAULT-VALUE}.")
  int threads;

  /** Loads the chosen model. */
  public EncoderModel load() throws IOException {
    ModelSpec spec = ModelSpec.resolve(model, pooling == null ? null : Pooling.parse(pooling));
    return EncoderModel.load(spec, encoderOptions());
  }

  /** The TensorFlow session options these flags ask for. */
  public EncoderOptions encoderOptions() {
    return new EncoderOptions(threads, 1);
  }
}
