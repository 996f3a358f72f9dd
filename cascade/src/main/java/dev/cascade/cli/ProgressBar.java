package dev.cascade.cli;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A progress bar: on a terminal one line redrawn in place; redirected to a file or pipe, one line
 * at every tenth of the way, so that logs stay readable.
 */
final class ProgressBar {
  private static final int WIDTH = 30;
  private final PrintStream out;
  private final boolean interactive;
  private long lastDraw;
  private long lastTenth = -1;

  ProgressBar(PrintStream out) {
    this(out, System.console() != null);
  }

  ProgressBar(PrintStream out, boolean interactive) {
    this.out = out;
    this.interactive = interactive;
  }

  /** Shows the bar at {@code done / total} with a label and a status. */
  void show(String label, long done, long total, String status) {
    long percent = total == 0 ? 100 : 100 * done / total;
    if (interactive) {
      long now = System.nanoTime();
      if (done < total && now - lastDraw < 100_000_000L) {
        return;
      }
      lastDraw = now;
    } else if (percent / 10 == lastTenth) {
      return;
    }
    lastTenth = percent / 10;
    int filled = (int) (WIDTH * percent / 100);
    out.printf(
        Locale.ROOT,
        interactive ? "\r%-12s [%s%s] %3d%% %s" : "%-12s [%s%s] %3d%% %s%n",
        label,
        "#".repeat(filled),
        " ".repeat(WIDTH - filled),
        percent,
        status);
    out.flush();
  }

  /** Ends the current line. */
  void finish() {
    if (interactive) {
      out.println();
    }
    lastTenth = -1;
  }
}
