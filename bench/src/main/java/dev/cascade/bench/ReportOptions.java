package dev.cascade.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The options every benchmark shares, as a picocli mixin: where the shared data is, and which
 * Markdown file its section goes to.
 */
final class ReportOptions {
  @Option(names = "--data", description = "Shared data directory (default: ../shared/data).")
  Path data;

  @Option(names = "--report", description = "Markdown file to update (default: ${DEFAULT-VALUE}).")
  Path report = Path.of("BENCHMARKS.md");

  @Option(names = "--no-report", description = "Print only; leave the Markdown file alone.")
  boolean noReport;

  /** {@code --data}, else {@link #findDataDir()}. */
  Path dataDir() {
    return data != null ? data : findDataDir();
  }

  /** Prints a benchmark's section and, unless {@code --no-report}, rewrites it in the report. */
  void publish(String section, String markdown) throws IOException {
    System.out.println();
    System.out.println(markdown);
    if (!noReport) {
      MarkdownSection.write(report, section, markdown);
      System.out.println("wrote section '" + section + "' of " + report.toAbsolutePath());
    }
  }

  /** {@code $CASCADE_DATA}, else the first {@code shared/data} beside this directory or above. */
  static Path findDataDir() {
    String env = System.getenv("CASCADE_DATA");
    if (env != null) {
      return Path.of(env);
    }
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path candidate = dir.resolveSibling("shared").resolve("data");
      if (Files.isDirectory(candidate)) {
        return candidate;
      }
    }
    throw new IllegalStateException("shared/data not found beside the checkout; use --data");
  }
}
