package dev.cascade.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cascade.tokenize.TokenizedInput;
import dev.cascade.tokenize.Tokenizer;
import dev.cascade.tokenize.Truncation;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Real texts of one length class, tokenized once, and cut into batches that every contender gets
 * identically.
 *
 * @param name label for tables
 * @param inputs the tokenized texts, in file order
 */
record Workload(String name, List<TokenizedInput> inputs) {
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * Texts from the JSONL {@code files} (lines {@code {"id", "text"}}) whose token count, special
   * tokens included, lies in {@code [minTokens, maxTokens]}; the first {@code count} of them.
   */
  static Workload select(
      String name, Tokenizer tokenizer, List<Path> files, int minTokens, int maxTokens, int count) {
    List<TokenizedInput> chosen = new ArrayList<>();
    for (Path file : files) {
      List<String> texts = new ArrayList<>();
      try {
        for (String line : Files.readAllLines(file)) {
          if (!line.isBlank()) {
            texts.add(JSON.readTree(line).get("text").asText());
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      for (int from = 0; from < texts.size() && chosen.size() < count; from += 256) {
        List<String> chunk = texts.subList(from, Math.min(texts.size(), from + 256));
        for (TokenizedInput in : tokenizer.tokenize(chunk, Truncation.TRUNCATE)) {
          if (!in.truncated()
              && in.length() >= minTokens
              && in.length() <= maxTokens
              && chosen.size() < count) {
            chosen.add(in);
          }
        }
      }
    }
    if (chosen.size() < count) {
      throw new IllegalStateException(
          name
              + ": only "
              + chosen.size()
              + " texts of "
              + minTokens
              + ".."
              + maxTokens
              + " tokens");
    }
    return new Workload(name, List.copyOf(chosen));
  }

  /** Consecutive batches of {@code size} inputs; a last partial batch is dropped. */
  List<List<TokenizedInput>> batches(int size) {
    List<List<TokenizedInput>> out = new ArrayList<>();
    for (int from = 0; from + size <= inputs.size(); from += size) {
      out.add(inputs.subList(from, from + size));
    }
    return out;
  }

  /** Mean token count per text. */
  double meanTokens() {
    return inputs.stream().mapToInt(TokenizedInput::length).average().orElse(0);
  }

  /** Mean padded length of the batches of {@code size}. */
  double meanPaddedLength(int size) {
    return batches(size).stream()
        .mapToInt(b -> b.stream().mapToInt(TokenizedInput::length).max().orElse(0))
        .average()
        .orElse(0);
  }
}
