package dev.cascade.encoder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cascade.model.ModelSpec;
import dev.cascade.testing.TestData;
import dev.cascade.tokenize.TokenizedInput;
import dev.cascade.tokenize.Truncation;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Thousands of batches through the whole lifecycle (start, pool, advance, retain, close, fused
 * encode) do not leak native memory: the process's resident set stops growing after a warm-up, and
 * no TensorFlow tensor outlives its batch.
 */
class NativeMemoryTest {
  private static final int WARM_UP_CYCLES = 600;
  private static final int MEASURED_CYCLES = 2400;
  private static final int CHECKPOINT = 600;

  /**
   * Allowed RSS growth from the end of warm-up to the end: 32 MiB. A typical cycle's hidden states
   * are 3 rows x 12 tokens x 384 floats x 4 B = 54 KiB per layer, so leaking one layer's output per
   * cycle would add about 126 MiB over 2400 cycles, four times the bound, and leaking every layer's
   * several times that. 32 MiB leaves room for what legitimately still settles after warm-up
   * (malloc arenas of TensorFlow's thread pool, JIT code, heap regions the collector keeps), a few
   * MiB either way in practice. Smaller leaks (a mask, a pooled row) are below what RSS resolves;
   * the pointer count below catches those.
   */
  private static final long MAX_GROWTH_KIB = 32 * 1024;

  /**
   * Allowed growth of JavaCPP's count of live native pointers (open tensors among them) across the
   * measured cycles. Every batch is closed, so the count comes back to where it was. This catches
   * what RSS cannot: TF Java frees an unreachable tensor when the collector finds it, so a leaked
   * but unreachable {@code Result} never shows in RSS measured after {@code System.gc()}, yet
   * counts here until then. (Leaking one unclosed batch per cycle, on purpose, took the count from
   * 62 to 1122 in a trial run, while RSS stayed within its bound.)
   */
  private static final long MAX_POINTER_GROWTH = 32;

  private static EncoderModel model;

  @BeforeAll
  static void loadModel() throws IOException {
    model = EncoderModel.load(ModelSpec.builtIn("all-minilm-l6-v2"), EncoderOptions.defaults());
  }

  @AfterAll
  static void closeModel() {
    if (model != null) {
      model.close();
    }
  }

  @Test
  void thousandsOfBatches_fullLifecycle_residentMemoryLevelsOff() {
    Encoder encoder = model.encoder();
    List<TokenizedInput> pool = new ArrayList<>();
    for (TokenizedInput in :
        model.tokenizer().tokenize(TestData.texts("man/queries.jsonl", 200), Truncation.REFUSE)) {
      if (in.length() <= 16) {
        pool.add(in);
      }
    }
    assertTrue(pool.size() >= 100, "enough short inputs: " + pool.size());
    Random random = new Random(42);

    long start = System.nanoTime();
    long rssStart = settledRssKib();
    runCycles(encoder, pool, random, WARM_UP_CYCLES);
    long rssWarm = settledRssKib();
    long pointersAfterWarmUp = Pointer.totalCount();
    List<Long> checkpoints = new ArrayList<>();
    long pointersMost = 0;
    for (int done = 0; done < MEASURED_CYCLES; done += CHECKPOINT) {
      runCycles(encoder, pool, random, CHECKPOINT);
      // Counted before the collection, which would free tensors that were leaked unreachable.
      pointersMost = Math.max(pointersMost, Pointer.totalCount());
      checkpoints.add(settledRssKib());
    }
    long rssEnd = checkpoints.get(checkpoints.size() - 1);
    double seconds = (System.nanoTime() - start) / 1e9;

    System.out.printf(
        "native memory: %d cycles in %.1f s; VmRSS start %d KiB, after %d warm-up cycles %d KiB,"
            + " then every %d cycles %s KiB; growth after warm-up %+d KiB (limit %d);"
            + " live JavaCPP pointers %d after warm-up, at most %d at checkpoints%n",
        WARM_UP_CYCLES + MEASURED_CYCLES,
        seconds,
        rssStart,
        WARM_UP_CYCLES,
        rssWarm,
        CHECKPOINT,
        checkpoints,
        rssEnd - rssWarm,
        MAX_GROWTH_KIB,
        pointersAfterWarmUp,
        pointersMost);
    assertTrue(
        rssEnd - rssWarm <= MAX_GROWTH_KIB,
        "VmRSS grew by " + (rssEnd - rssWarm) + " KiB after warm-up: " + checkpoints);
    assertTrue(
        pointersMost - pointersAfterWarmUp <= MAX_POINTER_GROWTH,
        "live native pointers grew from " + pointersAfterWarmUp + " to " + pointersMost);
  }

  /**
   * One cycle: a batch of 1 to 4 short inputs is started and pooled, advanced to a random depth
   * (often short of the top, so batches are abandoned mid-stack), shrunk on the way to a random
   * subset (sometimes none, sometimes all), pooled and closed; every eighth cycle also embeds the
   * inputs in one fused pass. Inputs are short so that the cycles exercise the lifecycle rather
   * than the matrix products.
   */
  private static void runCycles(
      Encoder encoder, List<TokenizedInput> pool, Random random, int cycles) {
    int layers = encoder.config().layers();
    for (int cycle = 0; cycle < cycles; cycle++) {
      List<TokenizedInput> inputs = new ArrayList<>();
      int n = 1 + random.nextInt(4);
      for (int i = 0; i < n; i++) {
        inputs.add(pool.get(random.nextInt(pool.size())));
      }
      int depth = random.nextInt(layers + 1);
      int retainAt = random.nextInt(depth + 1);
      try (EncoderBatch batch = encoder.start(inputs)) {
        assertEquals(n, batch.pool().length);
        while (batch.size() > 0) {
          if (batch.layer() == retainAt) {
            batch.retain(IntStream.range(0, n).filter(row -> random.nextInt(3) > 0).toArray());
          }
          if (batch.layer() == depth || batch.size() == 0) {
            break;
          }
          if (random.nextBoolean()) {
            batch.advance();
          } else {
            assertEquals(batch.size(), batch.advanceAndPool().length);
          }
        }
        assertEquals(batch.size(), batch.pool().length);
      }
      if (cycle % 8 == 0) {
        assertEquals(n, encoder.encode(inputs).length);
      }
    }
  }

  /** VmRSS after a collection, so that memory only the collector would free does not count. */
  private static long settledRssKib() {
    System.gc();
    System.runFinalization();
    return rssKib();
  }

  /** Resident set size of this process in KiB, from {@code /proc/self/status}. */
  static long rssKib() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    throw new IllegalStateException("no VmRSS line in /proc/self/status");
  }
}
