package dev.cascade.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ProgressBarTest {
  @Test
  void redirectedOutputGetsOneLinePerTenth() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    ProgressBar bar = new ProgressBar(new PrintStream(bytes, true, StandardCharsets.UTF_8), false);
    for (int done = 0; done <= 1000; done++) {
      bar.show("encoding", done, 1000, "");
    }
    bar.finish();
    String text = bytes.toString(StandardCharsets.UTF_8);
    assertFalse(text.contains("\r"));
    String[] lines = text.split("\n");
    assertEquals(11, lines.length);
    assertTrue(lines[10].contains("100%"), lines[10]);
  }
}
