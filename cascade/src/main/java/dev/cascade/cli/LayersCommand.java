package dev.cascade.cli;

import dev.cascade.encoder.EncoderBatch;
import dev.cascade.encoder.EncoderModel;
import dev.cascade.tokenize.TokenizedInput;
import dev.cascade.tokenize.Truncation;
import dev.cascade.vector.Vectors;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code cascade layers TEXT}: runs a text through the model one layer at a time and prints, per
 * layer, the pooled embedding's cosine to the final embedding and the time the layer took.
 */
@Command(
    name = "layers",
    mixinStandardHelpOptions = true,
    description = "Show how a text's embedding forms layer by layer.")
public final class LayersCommand implements Callable<Integer> {
  @Mixin ModelOptions modelOptions;

  @Option(names = "--truncate", description = "Truncate over-length input instead of refusing it.")
  boolean truncate;

  @Parameters(arity = "1", paramLabel = "TEXT", description = "The text to embed.")
  String text;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    long loadStart = System.nanoTime();
    try (EncoderModel model = modelOptions.load()) {
      double loadMs = (System.nanoTime() - loadStart) / 1e6;
      TokenizedInput input =
          model.tokenizer().tokenize(text, -1, truncate ? Truncation.TRUNCATE : Truncation.REFUSE);
      try (EncoderBatch warmUp = model.encoder().start(List.of(input))) {
        warmUp.pool();
        while (!warmUp.atLastLayer()) {
          warmUp.advanceAndPool();
        }
      }
      int layers = model.encoder().config().layers();
      float[][] pooled = new float[layers + 1][];
      double[] millis = new double[layers + 1];
      try (EncoderBatch batch = model.encoder().start(List.of(input))) {
        long t = System.nanoTime();
        pooled[0] = batch.pool()[0];
        millis[0] = (System.nanoTime() - t) / 1e6;
        for (int layer = 1; layer <= layers; layer++) {
          t = System.nanoTime();
          pooled[layer] = batch.advanceAndPool()[0];
          millis[layer] = (System.nanoTime() - t) / 1e6;
        }
      }
      out.printf(
          "model %s (%d layers, %d-d, %s pooling), loaded in %.0f ms%n",
          model.spec().name(),
          layers,
          model.encoder().config().hiddenSize(),
          model.encoder().pooling().name().toLowerCase(java.util.Locale.ROOT),
          loadMs);
      out.printf(
          "input: %d tokens%s%n%n",
          input.length(),
          input.truncated() ? " (truncated from " + input.originalTokens() + ")" : "");
      out.printf("%5s  %14s  %9s  %9s%n", "layer", "cos to final", "ms", "total ms");
      double total = 0;
      for (int layer = 0; layer <= layers; layer++) {
        total += millis[layer];
        out.printf(
            "%5s  %14.4f  %9.2f  %9.2f%n",
            layer == 0 ? "emb" : Integer.toString(layer),
            Vectors.dot(pooled[layer], pooled[layers]),
            millis[layer],
            total);
      }
      out.flush();
      return 0;
    }
  }
}
