package dev.cascade.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class MarkdownSectionTest {
  @Test
  void replace_existingSection_replacesOnlyItsContent() {
    String document =
        "# Benchmarks\n\nintro\n\n<!-- engine:begin -->\nold\n<!-- engine:end -->\n\n"
            + "<!-- server:begin -->\nkeep\n<!-- server:end -->\n";

    String result = MarkdownSection.replace(document, "engine", "new\n");

    assertEquals(
        "# Benchmarks\n\nintro\n\n<!-- engine:begin -->\nnew\n<!-- engine:end -->\n\n"
            + "<!-- server:begin -->\nkeep\n<!-- server:end -->\n",
        result);
  }

  @Test
  void replace_noSection_appendsIt() {
    String result = MarkdownSection.replace("# Benchmarks\n\ntext\n", "engine", "body");

    assertEquals(
        "# Benchmarks\n\ntext\n\n<!-- engine:begin -->\nbody\n<!-- engine:end -->\n", result);
  }

  @Test
  void replace_emptyDocument_startsOneWithATitle() {
    String result = MarkdownSection.replace("", "engine", "body");

    assertEquals("# Benchmarks\n\n<!-- engine:begin -->\nbody\n<!-- engine:end -->\n", result);
  }
}
