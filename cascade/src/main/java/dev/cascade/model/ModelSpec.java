package dev.cascade.model;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where a model's ONNX weights and {@code tokenizer.json} come from, and how its hidden states are
 * pooled. Built-in models are read from the Maven artifacts on the classpath; any other BERT-style
 * export is given by path.
 *
 * <p>Instances are immutable; each {@code open*} call returns a new stream the caller closes.
 */
public final class ModelSpec {
  /** Name of the default model. */
  public static final String DEFAULT = "bge-small-en-v1.5";

  /** Names of the models that ship inside the build. */
  public static final List<String> BUILT_IN = List.of("bge-small-en-v1.5", "all-minilm-l6-v2");

  private static final Pattern POOLING_MODE =
      Pattern.compile("\"pooling_mode_([a-z_]+)\"\\s*:\\s*true");

  private final String name;
  private final Pooling pooling;
  private final String weightsLocation;
  private final String tokenizerLocation;
  private final boolean classpath;

  private ModelSpec(
      String name,
      Pooling pooling,
      String weightsLocation,
      String tokenizerLocation,
      boolean classpath) {
    this.name = name;
    this.pooling = pooling;
    this.weightsLocation = weightsLocation;
    this.tokenizerLocation = tokenizerLocation;
    this.classpath = classpath;
  }

  /** A model that ships inside the build, by one of the names in {@link #BUILT_IN}. */
  public static ModelSpec builtIn(String name) {
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "bge-small-en-v1.5", "bge-small" ->
          new ModelSpec(
              "bge-small-en-v1.5",
              Pooling.CLS,
              "bge-small-en-v1.5.onnx",
              "bge-small-en-v1.5-tokenizer.json",
              true);
      case "all-minilm-l6-v2", "minilm" ->
          new ModelSpec(
              "all-minilm-l6-v2",
              Pooling.MEAN,
              "all-minilm-l6-v2.onnx",
              "all-minilm-l6-v2-tokenizer.json",
              true);
      default ->
          throw new IllegalArgumentException(
              "unknown model '"
                  + name
                  + "': built-in models are "
                  + BUILT_IN
                  + "; give another model as a path to its .onnx file or directory");
    };
  }

  /**
   * A BERT-style ONNX export on disk.
   *
   * @param onnxFile the exported encoder, whose output is the last hidden state
   * @param tokenizerJson the Hugging Face {@code tokenizer.json} that goes with it
   * @param pooling the model's pooling
   */
  public static ModelSpec fromFiles(Path onnxFile, Path tokenizerJson, Pooling pooling) {
    for (Path p : List.of(onnxFile, tokenizerJson)) {
      if (!Files.isRegularFile(p)) {
        throw new IllegalArgumentException("model file not found: " + p);
      }
    }
    String fileName = onnxFile.getFileName().toString();
    String name =
        fileName.endsWith(".onnx") ? fileName.substring(0, fileName.length() - 5) : fileName;
    Path parent = onnxFile.toAbsolutePath().getParent();
    if (name.equals("model") && parent != null) {
      name = parent.getFileName().toString();
    }
    return new ModelSpec(
        name,
        Objects.requireNonNull(pooling),
        onnxFile.toString(),
        tokenizerJson.toString(),
        false);
  }

  /**
   * A built-in model by name, or an export by path: either an {@code .onnx} file with {@code
   * tokenizer.json} beside it, or a directory holding {@code model.onnx} (also under {@code onnx/})
   * and {@code tokenizer.json}. Pooling is {@code pooling} when given, else read from a
   * sentence-transformers {@code 1_Pooling/config.json} beside the model, else mean.
   */
  public static ModelSpec resolve(String nameOrPath, Pooling pooling) {
    if (BUILT_IN.contains(nameOrPath.toLowerCase(Locale.ROOT))
        || nameOrPath.equalsIgnoreCase("bge-small")
        || nameOrPath.equalsIgnoreCase("minilm")) {
      ModelSpec spec = builtIn(nameOrPath);
      return pooling == null ? spec : spec.withPooling(pooling);
    }
    Path path = Path.of(nameOrPath);
    if (!Files.exists(path)) {
      throw new IllegalArgumentException(
          "model '" + nameOrPath + "' is neither a built-in model " + BUILT_IN + " nor a path");
    }
    Path dir = Files.isDirectory(path) ? path : path.toAbsolutePath().getParent();
    Path onnx = path;
    if (Files.isDirectory(path)) {
      onnx = path.resolve("model.onnx");
      if (!Files.isRegularFile(onnx)) {
        onnx = path.resolve("onnx").resolve("model.onnx");
      }
    }
    Path tokenizer = dir.resolve("tokenizer.json");
    if (!Files.isRegularFile(tokenizer) && dir.getParent() != null) {
      tokenizer = dir.getParent().resolve("tokenizer.json");
    }
    Pooling chosen = pooling != null ? pooling : detectPooling(dir);
    return fromFiles(onnx, tokenizer, chosen);
  }

  private static Pooling detectPooling(Path dir) {
    for (Path candidate :
        List.of(
            dir.resolve("1_Pooling/config.json"), dir.resolveSibling("1_Pooling/config.json"))) {
      if (Files.isRegularFile(candidate)) {
        try {
          Matcher m = POOLING_MODE.matcher(Files.readString(candidate));
          if (m.find()) {
            return switch (m.group(1)) {
              case "cls_token" -> Pooling.CLS;
              case "mean_tokens" -> Pooling.MEAN;
              default ->
                  throw new IllegalArgumentException(
                      candidate
                          + " declares pooling_mode_"
                          + m.group(1)
                          + ", which Cascade does not support (cls or mean)");
            };
          }
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
    }
    return Pooling.MEAN;
  }

  /** This model with another pooling. */
  public ModelSpec withPooling(Pooling newPooling) {
    return new ModelSpec(name, newPooling, weightsLocation, tokenizerLocation, classpath);
  }

  public String name() {
    return name;
  }

  public Pooling pooling() {
    return pooling;
  }

  /** Opens the ONNX file. */
  public InputStream openWeights() throws IOException {
    return open(weightsLocation);
  }

  /** Opens {@code tokenizer.json}. */
  public InputStream openTokenizer() throws IOException {
    return open(tokenizerLocation);
  }

  private InputStream open(String location) throws IOException {
    if (!classpath) {
      return Files.newInputStream(Path.of(location));
    }
    InputStream in = ModelSpec.class.getClassLoader().getResourceAsStream(location);
    if (in == null) {
      throw new IOException(
          "resource " + location + " of built-in model " + name + " is not on the classpath");
    }
    return in;
  }

  @Override
  public String toString() {
    return name
        + " ("
        + pooling.name().toLowerCase(Locale.ROOT)
        + " pooling, "
        + weightsLocation
        + ")";
  }
}
