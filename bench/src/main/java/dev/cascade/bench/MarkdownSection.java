package dev.cascade.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * A generated section of a Markdown file, delimited by {@code <!-- name:begin -->} and {@code <!--
 * name:end -->}, so that several benchmarks can each own a part of one file.
 */
final class MarkdownSection {
  private MarkdownSection() {}

  /**
   * The document with the named section's content replaced by {@code body}, markers kept; when the
   * document has no such section, it is appended.
   */
  static String replace(String document, String name, String body) {
    String begin = "<!-- " + name + ":begin -->";
    String end = "<!-- " + name + ":end -->";
    String section = begin + "\n" + body.strip() + "\n" + end;
    int from = document.indexOf(begin);
    int to = from < 0 ? -1 : document.indexOf(end, from);
    if (from < 0 || to < 0) {
      String head = document.isBlank() ? "# Benchmarks\n" : document.stripTrailing() + "\n";
      return head + "\n" + section + "\n";
    }
    return document.substring(0, from) + section + document.substring(to + end.length());
  }

  /** Rewrites the named section of {@code file}, creating the file if needed. */
  static void write(Path file, String name, String body) throws IOException {
    String document = Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
    Path dir = file.toAbsolutePath().getParent();
    Path temp = Files.createTempFile(dir, ".benchmarks", ".md");
    try {
      Files.writeString(temp, replace(document, name, body), StandardCharsets.UTF_8);
      Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(temp);
    }
  }
}
