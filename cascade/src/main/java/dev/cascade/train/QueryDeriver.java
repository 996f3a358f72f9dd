package dev.cascade.train;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Derives short, query-like texts from a document, so that heads trained on documents alone also
 * see the short inputs that queries are.
 *
 * <p>From each document it derives up to two texts:
 *
 * <ul>
 *   <li>for code (a text with a declaration line such as {@code int read(byte[] b) {}): the words
 *       of the declared name and of its parameter names, camelCase split and lower-cased ({@code
 *       "read b"}); for prose: the first sentence, at most 24 words;
 *   <li>a span of 6 to 14 consecutive words from a random position.
 * </ul>
 *
 * Deterministic for a given {@link Random}.
 */
public final class QueryDeriver {
  private static final Pattern DECLARATION =
      Pattern.compile("([A-Za-z_$][A-Za-z0-9_$]*)\\s*\\(([^)]*)\\)\\s*(throws [^{]*)?\\{");
  private static final Pattern CAMEL = Pattern.compile("(?<=[a-z0-9])(?=[A-Z])|_");
  private static final Pattern SENTENCE_END = Pattern.compile("(?<=[.!?])\\s+|\\n\\s*\\n");

  private QueryDeriver() {}

  /** The derived texts of {@code text}; empty when it has too few words. */
  public static List<String> derive(String text, Random random) {
    List<String> out = new ArrayList<>();
    Matcher declaration = DECLARATION.matcher(text);
    if (looksLikeCode(text) && declaration.find()) {
      StringBuilder words = new StringBuilder(words(declaration.group(1)));
      for (String parameter : declaration.group(2).split(",")) {
        String[] parts = parameter.trim().split("\\s+");
        String name = parts[parts.length - 1].replaceAll("[^A-Za-z0-9_]", "");
        if (!name.isEmpty()) {
          words.append(' ').append(words(name));
        }
      }
      out.add(words.toString().trim());
    } else {
      String first = SENTENCE_END.split(text.strip(), 2)[0];
      out.add(limitWords(first, 24));
    }
    String[] tokens = text.strip().split("\\s+");
    if (tokens.length >= 10) {
      int length = 6 + random.nextInt(9);
      int start = random.nextInt(Math.max(1, tokens.length - length));
      out.add(
          String.join(
              " ", Arrays.copyOfRange(tokens, start, Math.min(tokens.length, start + length))));
    }
    out.removeIf(s -> s.isBlank() || s.equals(text.strip()));
    return out;
  }

  private static boolean looksLikeCode(String text) {
    return text.contains("{") && text.contains("(") && (text.contains(";") || text.contains("}"));
  }

  private static String words(String identifier) {
    return String.join(" ", CAMEL.split(identifier)).toLowerCase(Locale.ROOT).trim();
  }

  private static String limitWords(String text, int max) {
    String[] words = text.split("\\s+");
    return words.length <= max ? text : String.join(" ", Arrays.copyOf(words, max));
  }
}
