package dev.cascade.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class MainTest {
  @TempDir Path dir;

  ServeCommand parse(Map<String, String> env, String... args) {
    CommandLine cli = Main.commandLine(args, env);
    cli.parseArgs(args);
    return cli.getSubcommands().get("serve").getCommand();
  }

  @Test
  void serve_noConfiguration_builtInDefaults() {
    ServeCommand serve = parse(Map.of(), "serve");
    assertEquals(50051, serve.port);
    assertEquals(9464, serve.metricsPort);
    assertEquals("bge-small-en-v1.5", serve.model);
    assertEquals(256, serve.queueSize);
    assertEquals("oldest", serve.stepPolicy);
    assertEquals(30, serve.graceSeconds);
  }

  @Test
  void serve_flagEnvAndFile_flagWinsThenEnvThenFile() throws Exception {
    Path config = dir.resolve("cascade.properties");
    Files.writeString(config, "port=7000\nqueue-size=5\nworkers=3\nmodel=all-minilm-l6-v2\n");
    ServeCommand serve =
        parse(
            Map.of("CASCADE_QUEUE_SIZE", "9", "CASCADE_WORKERS", "4"),
            "serve",
            "--config",
            config.toString(),
            "--workers",
            "2");

    assertEquals(7000, serve.port);
    assertEquals(9, serve.queueSize);
    assertEquals(2, serve.workers);
    assertEquals("all-minilm-l6-v2", serve.model);
  }

  @Test
  void serve_missingConfigFile_errorNamesIt() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> parse(Map.of(), "serve", "--config=/nope.conf"));
    assertTrue(e.getMessage().contains("/nope.conf"));
  }

  @Test
  void main_subcommands_includeServerAndEngineTools() {
    assertEquals(
        java.util.Set.of("serve", "embed", "layers", "train-heads", "eval", "tune"),
        Main.commandLine(new String[0], Map.of()).getSubcommands().keySet());
  }
}
