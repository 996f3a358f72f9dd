package dev.cascade.server;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * Bounded waits for conditions that have no latch to wait on, such as a metric reaching a value.
 */
final class Waits {
  private Waits() {}

  static void until(BooleanSupplier condition, String what) {
    long end = System.nanoTime() + 60_000_000_000L;
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > end) {
        fail("timed out waiting until " + what);
      }
      LockSupport.parkNanos(2_000_000);
    }
  }
}
