package dev.cascade.server.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SchedulerOptionsTest {
  @Test
  void forCores_twoAndSixteenCores_sizedForEach() {
    SchedulerOptions two = SchedulerOptions.forCores(2);
    assertEquals(1, two.workers());
    assertEquals(2048, two.batchTokens());
    assertEquals(StepPolicy.OLDEST, two.policy());
    SchedulerOptions sixteen = SchedulerOptions.forCores(16);
    assertEquals(2, sixteen.workers());
    assertEquals(16_384, sixteen.batchTokens());
    assertEquals(two.queueRequests(), sixteen.queueRequests());
  }

  @Test
  void invalidValuesAndPolicyNames_refusedWithTheirName() {
    assertThrows(IllegalArgumentException.class, () -> SchedulerOptions.forCores(2).withWorkers(0));
    assertThrows(
        IllegalArgumentException.class, () -> SchedulerOptions.forCores(2).withBatchTokens(-1));
    assertEquals(StepPolicy.STATIC_SHRINKING, StepPolicy.parse("static_shrinking"));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> StepPolicy.parse("newest"));
    assertTrue(e.getMessage().contains("use fullest, oldest"), e.getMessage());
  }
}
