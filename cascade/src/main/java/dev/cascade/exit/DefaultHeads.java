package dev.cascade.exit;

import java.io.IOException;
import java.io.InputStream;
import java.util.Optional;

/** The trained heads that ship inside the build for built-in models. */
public final class DefaultHeads {
  private DefaultHeads() {}

  /** Classpath location of a model's default heads. */
  public static String resource(String modelName) {
    return "dev/cascade/heads/" + modelName + ".heads";
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
