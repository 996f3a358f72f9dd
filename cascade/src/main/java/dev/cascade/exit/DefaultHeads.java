package dev.cascade.exit;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Optional;

/** The trained heads that ship inside the build for built-in models. */
public final class DefaultHeads {
  private DefaultHeads() {}

  /** Classpath location of a model's default heads. */
  public static String resource(String modelName) {
    return "dev/cascade/heads/" + modelName + ".heads";
  }

  /**
   * The heads to use for a loaded model: those in {@code file} when given, else the model's shipped
   * heads if any; either way checked against the model's weights.
   *
   * @throws IllegalArgumentException when the heads were trained for other weights
   */
  public static Optional<HeadsFile> resolve(Path file, String modelName, String checksum)
      throws IOException {
    Optional<HeadsFile> heads =
        file != null ? Optional.of(HeadsFile.read(file)) : forModel(modelName);
    heads.ifPresent(
        h -> h.requireBackbone(modelName, checksum, file == null ? "(shipped)" : file.toString()));
    return heads;
  }

  /** The shipped heads of {@code modelName}, if the build has any. */
  public static Optional<HeadsFile> forModel(String modelName) throws IOException {
    String location = resource(modelName);
    try (InputStream in = DefaultHeads.class.getClassLoader().getResourceAsStream(location)) {
      if (in == null) {
        return Optional.empty();
      }
      return Optional.of(HeadsFile.read(in, "classpath:" + location));
    }
  }
}
