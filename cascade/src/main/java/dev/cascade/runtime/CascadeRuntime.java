package dev.cascade.runtime;

import dev.cascade.encoder.EncoderModel;
import dev.cascade.encoder.EncoderOptions;
import dev.cascade.exit.DefaultHeads;
import dev.cascade.exit.ExitHeads;
import dev.cascade.exit.HeadsFile;
import dev.cascade.model.ModelSpec;
import dev.cascade.policy.Profile;
import dev.cascade.policy.Profiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * Everything needed to serve one model: the encoder, its exit heads, the cascade engine and the
 * profiles it offers.
 *
 * <p>Thread-safe. Owns the model and heads; {@link #close()} releases them.
 */
public final class CascadeRuntime implements AutoCloseable {
  private final EncoderModel model;
  private final ExitHeads heads;
  private final CascadeEngine engine;
  private final Map<String, Profile> profiles;

  private CascadeRuntime(EncoderModel model, ExitHeads heads, Map<String, Profile> profiles) {
    this.model = model;
    this.heads = heads;
    this.engine = new CascadeEngine(model, heads);
    this.profiles = Map.copyOf(profiles);
    profiles.values().forEach(engine::check);
  }

  /**
   * Loads a model with its heads and profiles.
   *
   * @param headsFile heads to use, or null for the model's shipped heads (none for models without)
   * @param profilesDir extra profiles, or null
   */
  public static CascadeRuntime load(
      ModelSpec spec, EncoderOptions options, Path headsFile, Path profilesDir) throws IOException {
    EncoderModel model = EncoderModel.load(spec, options);
    ExitHeads heads = null;
    try {
      Optional<HeadsFile> file = DefaultHeads.resolve(headsFile, spec.name(), model.checksum());
      if (file.isPresent()) {
        heads = new ExitHeads(file.get(), model.encoder().config(), spec.pooling(), options);
      }
      int[] exits = heads == null ? new int[0] : heads.layers();
      Map<String, Profile> profiles =
          Profiles.load(
              spec.name(),
              model.checksum(),
              exits,
              file.map(HeadsFile::checksum).orElse(""),
              profilesDir);
      return new CascadeRuntime(model, heads, profiles);
    } catch (IOException | RuntimeException e) {
      if (heads != null) {
        heads.close();
      }
      model.close();
      throw e;
    }
  }

  public EncoderModel model() {
    return model;
  }

  public CascadeEngine engine() {
    return engine;
  }

  /** Offered profiles by name. */
  public Map<String, Profile> profiles() {
    return profiles;
  }

  /** The profile used when a request names none. */
  public String defaultProfile() {
    return Profiles.defaultName(profiles);
  }

  /** The named profile, or an error that lists the offered ones. */
  public Profile profile(String name) {
    Profile p = profiles.get(name.isEmpty() ? defaultProfile() : name);
    if (p == null) {
      throw new IllegalArgumentException(
          "unknown profile '" + name + "'; this server offers " + profiles.keySet());
    }
    return p;
  }

  @Override
  public void close() {
    try {
      if (heads != null) {
        heads.close();
      }
    } finally {
      model.close();
    }
  }
}
