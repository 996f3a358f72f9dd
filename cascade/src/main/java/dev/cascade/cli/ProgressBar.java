package dev.cascade.cli;

import java.io.PrintStream;
import java.util.Locale;

/** A one-line progress bar on a terminal stream, redrawn in place. */
final class ProgressBar {
  private final PrintStream out;
  private final int width;
  private long lastDraw;

  ProgressBar(PrintStream out) {
    this.out = out;
    this.width = 30;
  }

  /**
   * Redraws the bar at {@code done / total} with a label and a status, at most 10 times a second.
   */
  void show(String label, long done, long total, String status) {
    long now = System.nanoTime();
    if (done < total && now - lastDraw < 100_000_000L) {
      return;
    }
    lastDraw = now;
    int filled = total == 0 ? width : (int) (width * done / total);
    out.printf(
        Locale.ROOT,
        "\r%-12s [%s%s] %3d%% %s",
        label,
        "#".repeat(filled),
        " ".repeat(width - filled),
        total == 0 ? 100 : 100 * done / total,
        status);
    out.flush();
  }

  /** Ends the current line. */
  void finish() {
    out.println();
  }
}
