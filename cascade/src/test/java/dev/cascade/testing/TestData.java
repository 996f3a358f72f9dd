package dev.cascade.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** Texts for tests, from the shared data sets beside the checkout and written by hand. */
public final class TestData {
  private static final ObjectMapper JSON = new ObjectMapper();

  private TestData() {}

  /** The shared data directory: {@code $CASCADE_DATA}, else {@code ../shared/data} upwards. */
  public static Path dataDir() {
    String env = System.getenv("CASCADE_DATA");
    if (env != null) {
      return Path.of(env);
    }
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null) {
      Path candidate = dir.resolveSibling("shared").resolve("data");
      if (Files.isDirectory(candidate)) {
        return candidate;
      }
      dir = dir.getParent();
    }
    throw new IllegalStateException("shared/data not found beside the checkout; set CASCADE_DATA");
  }

  /** The {@code text} field of the first {@code n} lines of a JSONL file under the data dir. */
  public static List<String> texts(String file, int n) {
    try (Stream<String> lines = Files.lines(dataDir().resolve(file))) {
      List<String> out = new ArrayList<>();
      lines
          .limit(n)
          .forEach(
              line -> {
                try {
                  out.add(JSON.readTree(line).get("text").asText());
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              });
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * At least 50 varied inputs: short words, sentences, code, non-ASCII, whitespace-heavy text, and
   * texts far over 512 tokens.
   */
  public static List<String> variedInputs() {
    List<String> inputs = new ArrayList<>();
    inputs.addAll(
        List.of(
            "hi",
            "a",
            "Hello, world!",
            "How do I read a file line by line in Java?",
            "read from a file descriptor",
            "The quick brown fox jumps over the lazy dog.",
            "Returns the index-th value in the iterable's Iterator.",
            "Zürich, São Paulo, Kraków, Malmö and Reykjavík are cities.",
            "Ελληνικά κείμενα και русский текст в одном предложении.",
            "日本語のテキストと中文文本混合在一起。",
            "Emoji 🚀🔥 and symbols ∑ ∫ √ ≠ ≤ ≥ → ⇒",
            "naïve café résumé coöperate",
            "   leading and trailing spaces   ",
            "tabs\tbetween\twords\tand\n\n\nmany\n\nnewlines\n",
            "multiple     spaces      inside        the       sentence",
            "\n\n\n  text after blank lines",
            "UPPER CASE TEXT SHOUTING LOUDLY",
            "numbers 3.14159 2.71828 1e-9 0xFF 1,000,000",
            "for (int i = 0; i < n; i++) { sum += a[i] * b[i]; }",
            "def f(x):\n    return x ** 2 if x > 0 else -x",
            "SELECT name, count(*) FROM users GROUP BY name HAVING count(*) > 1;",
            "<html><body><p class=\"x\">markup</p></body></html>",
            "https://example.org/path?query=1&other=two#fragment",
            "user@example.org wrote: 'quoted' \"double\" `back`",
            "a b c d e f g h i j k l m n o p q r s t u v w x y z"));
    inputs.addAll(texts("javadoc-dev/corpus.jsonl", 12));
    inputs.addAll(texts("javadoc-dev/queries.jsonl", 5));
    inputs.addAll(texts("man/corpus.jsonl", 6));
    String paragraph = String.join(" ", texts("man/paragraphs.jsonl", 40));
    inputs.add(paragraph);
    inputs.add(paragraph.substring(paragraph.length() / 2));
    inputs.add(String.join("\n", texts("javadoc-dev/corpus.jsonl", 60)));
    inputs.add("word ".repeat(700));
    return inputs;
  }
}
