package dev.cascade.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cascade.exit.HeadType;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TrainHeadsCommandTest {
  private static final int[] EXITS = {4, 6, 8};

  @Test
  void plans_plainTypes_oneFilePerTypeWithThatTypeAtEveryExit() {
    List<TrainHeadsCommand.Plan> plans =
        TrainHeadsCommand.plans(List.of("narrow", "full", "narrow"), EXITS);
    assertEquals(2, plans.size());
    assertEquals("narrow", plans.get(0).id());
    assertEquals(
        Map.of(4, HeadType.NARROW, 6, HeadType.NARROW, 8, HeadType.NARROW), plans.get(0).byLayer());
    assertEquals(
        Map.of(4, HeadType.FULL, 6, HeadType.FULL, 8, HeadType.FULL), plans.get(1).byLayer());
  }

  @Test
  void plans_typePerExit_oneFileInLayerOrder() {
    List<TrainHeadsCommand.Plan> plans =
        TrainHeadsCommand.plans(List.of("8:narrow", "4:narrow", "6:full"), EXITS);
    assertEquals(1, plans.size());
    assertEquals("4:narrow,6:full,8:narrow", plans.get(0).id());
    assertEquals(HeadType.FULL, plans.get(0).byLayer().get(6));
  }

  @Test
  void plans_incompleteOrInconsistentSpecs_refusedWithTheReason() {
    assertMessage("no type for exit layer 8", List.of("4:narrow", "6:full"));
    assertMessage("not among --exits", List.of("4:narrow", "6:full", "8:narrow", "10:full"));
    assertMessage("mixes a plain type", List.of("narrow", "6:full"));
    assertMessage("twice", List.of("4:narrow", "4:full", "6:full", "8:narrow"));
    assertMessage("not a number", List.of("x:narrow", "6:full", "8:narrow"));
  }

  private static void assertMessage(String expected, List<String> specs) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> TrainHeadsCommand.plans(specs, EXITS));
    assertTrue(e.getMessage().contains(expected), e.getMessage());
  }
}
