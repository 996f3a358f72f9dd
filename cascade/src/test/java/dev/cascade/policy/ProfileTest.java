package dev.cascade.policy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cascade.confidence.ExitObservation;
import dev.cascade.confidence.LogisticConfidence;
import dev.cascade.exit.DefaultHeads;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProfileTest {
  private static Profile sample() {
    LogisticConfidence confidence =
        new LogisticConfidence(
            new double[][] {{0.5, -0.2, 0.1}, {3.0, 0.1, -0.05}}, new double[] {-1, 0.5});
    return new Profile(
        "balanced",
        "test profile",
        "bge-small-en-v1.5",
        "a".repeat(64),
        new int[] {4, 8},
        confidence,
        new double[] {Double.NaN, 0.8},
        new ObjectMapper()
            .createObjectNode()
            .put("risk", "top10-differs")
            .put("delta", 0.05)
            .put("heads_sha256", "c".repeat(64)),
        7.25);
  }

  @Test
  void writeThenRead_roundTripsEveryField(@TempDir Path dir) throws Exception {
    Profile original = sample();
    Path file = dir.resolve("balanced.json");
    original.write(file);
    assertTrue(Files.readString(file).contains("\"thresholds\" : [ null, 0.8 ]"));
    Profile read = Profile.read(file);
    assertEquals(original.name(), read.name());
    assertEquals(original.backboneChecksum(), read.backboneChecksum());
    assertArrayEquals(original.exits(), read.exits());
    assertArrayEquals(original.thresholds(), read.thresholds());
    assertEquals(original.tunedFor(), read.tunedFor());
    assertEquals(7.25, read.meanLayers());
    ExitObservation o =
        new ExitObservation(1, 8, 12, 20, new float[] {1, 0}, new float[] {0.6f, 0.8f}, 9.5f);
    assertEquals(original.confidence().score(o), read.confidence().score(o), 1e-12);
    assertTrue(read.stops(1, 0.81));
    assertTrue(!read.stops(0, 1.0), "a null threshold never stops");
  }

  @Test
  void requireBackbone_otherModel_refusedWithBothNames() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> sample().requireBackbone("all-minilm-l6-v2", "b".repeat(64)));
    assertTrue(e.getMessage().contains("bge-small-en-v1.5"), e.getMessage());
    assertTrue(e.getMessage().contains("all-minilm-l6-v2"), e.getMessage());
  }

  @Test
  void requireHeads_otherHeads_refusedAndUnboundProfilesFitAnyHeads() {
    sample().requireHeads("c".repeat(64));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> sample().requireHeads("d".repeat(64)));
    assertTrue(e.getMessage().contains("tuned on heads sha256 cccccccccccc"), e.getMessage());
    assertTrue(e.getMessage().contains("loaded heads are sha256 dddddddddddd"), e.getMessage());
    Profile.exact("bge-small-en-v1.5", "a".repeat(64), new int[] {4}).requireHeads("d".repeat(64));
  }

  @Test
  void shippedProfiles_offeredOnlyWithTheHeadsTheyWereTunedOn(@TempDir Path dir) throws Exception {
    String backbone = "828e1496d7fabb79cfa4dcd84fa38625c0d3d21da474a00f08db0f559940cf35";
    String shippedHeads =
        DefaultHeads.resolve(null, "bge-small-en-v1.5", backbone).orElseThrow().checksum();
    int[] exits = {4, 6, 8};
    assertEquals(
        java.util.Set.of("exact", "balanced", "fast"),
        Profiles.load("bge-small-en-v1.5", backbone, exits, shippedHeads, null).keySet());
    assertEquals(
        java.util.Set.of("exact"),
        Profiles.load("bge-small-en-v1.5", backbone, exits, "e".repeat(64), null).keySet());
    Profile own = sample();
    own.write(dir.resolve("own.json"));
    assertThrows(
        IllegalArgumentException.class,
        () -> Profiles.load("bge-small-en-v1.5", "a".repeat(64), exits, "e".repeat(64), dir));
  }

  @Test
  void read_notAProfile_refused(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("x.json");
    Files.writeString(file, "{\"format\": \"something-else\"}");
    assertThrows(IllegalArgumentException.class, () -> Profile.read(file));
    Files.writeString(file, "{\"format\": \"cascade-profile\", \"version\": 99}");
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Profile.read(file));
    assertTrue(e.getMessage().contains("version 99"));
  }
}
