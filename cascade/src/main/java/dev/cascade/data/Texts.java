package dev.cascade.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads texts from a file: JSONL (one object per line with {@code text}, optional {@code id} and
 * {@code source}) when the name ends in {@code .jsonl}, else plain text with documents separated by
 * blank lines.
 */
public final class Texts {
  private static final ObjectMapper JSON = new ObjectMapper();

  private Texts() {}

  /** Every document of the file, in file order. */
  public static List<Document> read(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException("file not found: " + file);
    }
    return file.getFileName().toString().endsWith(".jsonl") ? readJsonl(file) : readPlain(file);
  }

  private static List<Document> readJsonl(Path file) throws IOException {
    List<Document> out = new ArrayList<>();
    try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      String line;
      int number = 0;
      while ((line = reader.readLine()) != null) {
        number++;
        if (line.isBlank()) {
          continue;
        }
        JsonNode node;
        try {
          node = JSON.readTree(line);
        } catch (IOException e) {
          throw new IllegalArgumentException(
              file + ":" + number + " is not JSON: " + e.getMessage());
        }
        JsonNode text = node.get("text");
        if (text == null || !text.isTextual()) {
          throw new IllegalArgumentException(file + ":" + number + " has no string field 'text'");
        }
        String id = node.hasNonNull("id") ? node.get("id").asText() : Integer.toString(number);
        String source = node.hasNonNull("source") ? node.get("source").asText() : "";
        out.add(new Document(id, text.asText(), source));
      }
    }
    return out;
  }

  private static List<Document> readPlain(Path file) throws IOException {
    List<Document> out = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      if (line.isBlank()) {
        flush(current, out);
      } else {
        if (current.length() > 0) {
          current.append('\n');
        }
        current.append(line);
      }
    }
    flush(current, out);
    return out;
  }

  private static void flush(StringBuilder current, List<Document> out) {
    if (current.length() > 0) {
      out.add(new Document(Integer.toString(out.size() + 1), current.toString(), ""));
      current.setLength(0);
    }
  }
}
