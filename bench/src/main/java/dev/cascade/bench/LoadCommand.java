package dev.cascade.bench;

import dev.cascade.data.Document;
import dev.cascade.data.Texts;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bench/load.sh}: closed-loop load against any running server, so that users can measure
 * their own deployment. Prints throughput and latency per number of clients.
 */
@Command(
    name = "load",
    mixinStandardHelpOptions = true,
    description = "Closed-loop single-input Embed load against a running Cascade server.")
public final class LoadCommand implements Callable<Integer> {
  @Option(names = "--target", required = true, description = "host:port of the server.")
  String target;

  @Option(names = "--clients", split = ",", description = "Default: ${DEFAULT-VALUE}.")
  int[] clients = {1, 4, 16, 64};

  @Option(names = "--profile", description = "Profile to request; empty = the server's default.")
  String profile = "";

  @Option(names = "--seconds", description = "Timed seconds per run (${DEFAULT-VALUE}).")
  double seconds = 10;

  @Option(names = "--warmup", description = "Untimed seconds before each run (${DEFAULT-VALUE}).")
  double warmup = 2;

  @Option(names = "--connections", description = "HTTP/2 connections (${DEFAULT-VALUE}).")
  int connections = 4;

  @Option(
      names = "--texts",
      description =
          "JSONL file of {\"id\", \"text\"} lines to send (default: javadoc-dev queries from"
              + " ../shared/data).")
  Path texts;

  public static void main(String[] args) {
    System.exit(new CommandLine(new LoadCommand()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    Path file =
        texts != null
            ? texts
            : ReportOptions.findDataDir().resolve("javadoc-dev").resolve("queries.jsonl");
    List<String> inputs = Texts.read(file).stream().map(Document::text).toList();
    System.out.printf(
        Locale.ROOT,
        "%s, profile '%s', %d texts from %s%n%n%8s %12s %9s %9s %9s %7s %7s%n",
        target,
        profile,
        inputs.size(),
        file,
        "clients",
        "requests/s",
        "p50 ms",
        "p99 ms",
        "p99/p50",
        "layers",
        "errors");
    int failed = 0;
    try (LoadGenerator generator = new LoadGenerator(target, connections)) {
      for (int n : clients) {
        LoadGenerator.Run run = generator.closedLoop(inputs, profile, n, warmup, seconds);
        System.out.printf(
            Locale.ROOT,
            "%8d %12.1f %9.1f %9.1f %9.2f %7.2f %7d%n",
            n,
            run.requestsPerSecond(),
            run.p50(),
            run.p99(),
            run.p99() / run.p50(),
            run.meanLayers(),
            run.errors());
        if (run.errors() > 0) {
          failed++;
          System.out.println("         first error: " + run.firstError());
        }
      }
    }
    return failed == 0 ? 0 : 1;
  }
}
