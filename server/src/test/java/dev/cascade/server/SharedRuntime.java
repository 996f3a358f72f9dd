package dev.cascade.server;

import dev.cascade.runtime.CascadeRuntime;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The runtime of {@link TestRuntimes#miniLmWithHeads}, loaded once before a test class's first test
 * and closed, with its temporary files, after its last. Register it as a static
 * {@code @RegisterExtension} field.
 */
public final class SharedRuntime implements BeforeAllCallback, AfterAllCallback {
  private Path dir;
  private CascadeRuntime runtime;

  @Override
  public void beforeAll(ExtensionContext context) throws IOException {
    dir = Files.createTempDirectory("cascade-runtime");
    runtime = TestRuntimes.miniLmWithHeads(dir);
  }

  @Override
  public void afterAll(ExtensionContext context) throws IOException {
    if (runtime != null) {
      runtime.close();
      runtime = null;
    }
    if (dir != null) {
      try (Stream<Path> files = Files.walk(dir)) {
        List<Path> deepestFirst = files.sorted(Comparator.reverseOrder()).toList();
        for (Path file : deepestFirst) {
          Files.delete(file);
        }
      }
      dir = null;
    }
  }

  /** The loaded runtime. */
  public CascadeRuntime get() {
    if (runtime == null) {
      throw new IllegalStateException("the runtime is loaded only while its test class runs");
    }
    return runtime;
  }
}
