package dev.cascade.tune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cascade.eval.VectorIndex;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RiskDefinitionTest {
  /** Twelve unit documents on a circle, 30 degrees apart; document i is at angle 30 i. */
  private static VectorIndex circle() {
    List<String> ids = new ArrayList<>();
    float[][] vectors = new float[12][];
    for (int i = 0; i < 12; i++) {
      ids.add("d" + i);
      vectors[i] = unit(30 * i);
    }
    return new VectorIndex(ids, vectors);
  }

  private static float[] unit(double degrees) {
    double r = Math.toRadians(degrees);
    return new float[] {(float) Math.cos(r), (float) Math.sin(r)};
  }

  /** One input whose final embedding is at 0 degrees, with exits at the given angles. */
  private static CalibrationTraces traces(double... exitDegrees) {
    float[][][] embeddings = new float[1][exitDegrees.length][];
    float[][] norms = new float[1][exitDegrees.length];
    double[][] cost = new double[1][exitDegrees.length];
    int[] exits = new int[exitDegrees.length];
    for (int e = 0; e < exitDegrees.length; e++) {
      embeddings[0][e] = unit(exitDegrees[e]);
      exits[e] = 2 + 2 * e;
    }
    return new CalibrationTraces(
        exits,
        12,
        new int[] {5},
        embeddings,
        norms,
        new double[1][exitDegrees.length],
        new float[][] {unit(1)},
        cost);
  }

  @Test
  void topKept_flagsAnExitOnlyWhenAFullDepthLeaderLeavesTheTopTen() {
    VectorIndex index = circle();
    CalibrationTraces t = traces(0, 45, 100, 180);
    // full top-1 is d0: within the early top ten at 0°, 45° and 100°, last of twelve at 180°.
    assertArrayEquals(
        new boolean[] {false, false, false, true},
        RiskDefinition.parse("top10:1", index).violations(t)[0]);
    // full top-3 are d0, d1 and d11; at 100° d11 (330°) is rank 9, still kept; at 180° it is out.
    assertArrayEquals(
        new boolean[] {false, false, false, true},
        RiskDefinition.parse("top10:3", index).violations(t)[0]);
    // top10 as a set: only the same set of ten counts as agreement.
    assertArrayEquals(
        new boolean[] {false, true, true, true},
        RiskDefinition.parse("top10", index).violations(t)[0]);
    assertEquals("full-top3-outside-top10", RiskDefinition.parse("top10:3", index).id());
    assertEquals("top10-differs", RiskDefinition.parse("top10", index).id());
  }

  @Test
  void fromId_readsBackWhatProfilesRecord() {
    VectorIndex index = circle();
    CalibrationTraces t = traces(0, 45, 100, 180);
    for (String text : List.of("cosine:0.9", "top10", "top10:3")) {
      RiskDefinition parsed = RiskDefinition.parse(text, index);
      RiskDefinition read = RiskDefinition.fromId(parsed.id(), index).orElseThrow();
      assertEquals(parsed.id(), read.id());
      assertArrayEquals(parsed.violations(t)[0], read.violations(t)[0]);
    }
    assertTrue(RiskDefinition.fromId("hand-made", index).isEmpty());
  }

  @Test
  void parse_badOrMissingParts_clearErrors() {
    assertEquals(
        "risk top10:3 needs a corpus to search (--corpus)",
        assertThrows(IllegalArgumentException.class, () -> RiskDefinition.parse("top10:3", null))
            .getMessage());
    assertThrows(IllegalArgumentException.class, () -> RiskDefinition.parse("top10:0", circle()));
    assertThrows(IllegalArgumentException.class, () -> RiskDefinition.parse("top10:x", circle()));
    assertThrows(IllegalArgumentException.class, () -> RiskDefinition.parse("recall", circle()));
  }
}
