package dev.cascade.policy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The profiles a server offers for one model: {@code exact} always, the profiles shipped for the
 * model, and those in a profiles directory (which override shipped ones of the same name).
 */
public final class Profiles {
  /** Names of the profiles shipped with built-in models, when the build has them. */
  public static final List<String> SHIPPED = List.of("balanced", "fast");

  private Profiles() {}

  /** Classpath location of a shipped profile. */
  public static String resource(String modelName, String profile) {
    return "dev/cascade/profiles/" + modelName + "/" + profile + ".json";
  }

  /**
   * Loads every profile for a model.
   *
   * @param exits the exit layers of the loaded heads, for {@code exact}
   * @param directory a directory of {@code *.json} profiles, or null
   * @throws IllegalArgumentException when a profile in {@code directory} is for another model
   */
  public static Map<String, Profile> load(
      String modelName, String checksum, int[] exits, String headsChecksum, Path directory)
      throws IOException {
    Map<String, Profile> out = new LinkedHashMap<>();
    out.put("exact", Profile.exact(modelName, checksum, exits));
    for (String name : SHIPPED) {
      String location = resource(modelName, name);
      try (InputStream in = Profiles.class.getClassLoader().getResourceAsStream(location)) {
        if (in != null) {
          Profile p = Profile.read(in, "classpath:" + location);
          boolean sameHeads =
              p.headsChecksum().isEmpty() || p.headsChecksum().equals(headsChecksum);
          if (p.backboneChecksum().equals(checksum) && sameHeads) {
            out.put(p.name(), p);
          }
        }
      }
    }
    if (directory != null) {
      if (!Files.isDirectory(directory)) {
        throw new IllegalArgumentException("profiles directory not found: " + directory);
      }
      try (DirectoryStream<Path> files = Files.newDirectoryStream(directory, "*.json")) {
        for (Path file : files) {
          Profile p = Profile.read(file);
          p.requireBackbone(modelName, checksum);
          p.requireHeads(headsChecksum);
          out.put(p.name(), p);
        }
      }
    }
    return out;
  }

  /**
   * The profile requests get when they name none: {@code balanced} if offered, else {@code exact}.
   */
  public static String defaultName(Map<String, Profile> profiles) {
    return profiles.containsKey("balanced") ? "balanced" : "exact";
  }
}
