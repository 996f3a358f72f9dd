package dev.cascade.server.cli;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Option defaults from the environment and a properties file, so that every flag of a command can
 * also be set as {@code CASCADE_<FLAG>} (upper case, dashes as underscores: {@code --metrics-port}
 * is {@code CASCADE_METRICS_PORT}) or as {@code <flag>=value} in the file given by {@code --config}
 * (or {@code CASCADE_CONFIG}). A flag on the command line wins over the environment, which wins
 * over the file, which wins over the built-in default.
 */
final class ConfigDefaults implements IDefaultValueProvider {
  private final Map<String, String> env;
  private final Properties file;

  ConfigDefaults(Map<String, String> env, Properties file) {
    this.env = env;
    this.file = file;
  }

  /** Defaults for a command line: the file named by its {@code --config}, else by the env. */
  static ConfigDefaults from(String[] args, Map<String, String> env) {
    String path = env.get("CASCADE_CONFIG");
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--config") && i + 1 < args.length) {
        path = args[i + 1];
      } else if (args[i].startsWith("--config=")) {
        path = args[i].substring("--config=".length());
      }
    }
    Properties properties = new Properties();
    if (path != null) {
      Path file = Path.of(path);
      if (!Files.isRegularFile(file)) {
        throw new IllegalArgumentException("config file not found: " + file);
      }
      try (Reader in = Files.newBufferedReader(file)) {
        properties.load(in);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return new ConfigDefaults(env, properties);
  }

  @Override
  public String defaultValue(ArgSpec arg) {
    if (!(arg instanceof OptionSpec option)) {
      return null;
    }
    String key = option.longestName().replaceFirst("^-+", "");
    if (key.equals("config")) {
      return null;
    }
    String fromEnv = env.get("CASCADE_" + key.toUpperCase(Locale.ROOT).replace('-', '_'));
    return fromEnv != null ? fromEnv : file.getProperty(key);
  }
}
