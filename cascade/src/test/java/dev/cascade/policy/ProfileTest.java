package dev.cascade.policy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cascade.confidence.ExitObservation;
import dev.cascade.confidence.LogisticConfidence;
import dev.cascade.exit.DefaultHeads;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProfileTest {
  private static Profile sample() {
    return sample(
        new LogisticConfidence(
            new double[][] {{0.5, -0.2, 0.1}, {3.0, 0.1, -0.05}}, new double[] {-1, 0.5}));
  }

  private static Profile sample(LogisticConfidence confidence) {
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
        new ExitObservation(
            1, 8, 12, 20, new float[] {1, 0}, new float[] {0.6f, 0.8f}, 9.5f, Double.NaN);
    assertEquals(original.confidence().score(o), read.confidence().score(o), 1e-12);
    assertTrue(read.stops(1, 0.81));
    assertTrue(!read.stops(0, 1.0), "a null threshold never stops");
  }

  @Test
  void writeThenRead_estimateFeature_roundTripsAndIsUsed(@TempDir Path dir) throws Exception {
    List<String> features = List.of("saturation", "log_tokens", "norm", "estimate");
    Profile original =
        sample(
            new LogisticConfidence(
                features,
                new double[][] {{0.5, -0.2, 0.1, 4.0}, {3.0, 0.1, -0.05, 6.0}},
                new double[] {-1, 0.5}));
    Path file = dir.resolve("with-estimate.json");
    original.write(file);
    Profile read = Profile.read(file);
    LogisticConfidence scorer = (LogisticConfidence) read.confidence();
    assertEquals(features, scorer.features());
    assertTrue(scorer.needsEstimate());
    float[] e = {1, 0};
    float[] p = {0.6f, 0.8f};
    ExitObservation low = new ExitObservation(1, 8, 12, 20, e, p, 9.5f, 0.80);
    ExitObservation high = new ExitObservation(1, 8, 12, 20, e, p, 9.5f, 0.95);
    assertEquals(original.confidence().score(high), scorer.score(high), 1e-12);
    assertTrue(scorer.score(high) > scorer.score(low), "a positive weight on the estimate");
    IllegalStateException missing =
        assertThrows(
            IllegalStateException.class,
            () -> scorer.score(new ExitObservation(1, 8, 12, 20, e, p, 9.5f, Double.NaN)));
    assertTrue(missing.getMessage().contains("layer 8"), missing.getMessage());
  }

  @Test
  void read_profileWithoutFeatureNames_usesTheBaseFeatures(@TempDir Path dir) throws Exception {
    ObjectNode json = sample().toJson();
    ((ObjectNode) json.get("confidence")).remove("features");
    Path file = dir.resolve("old.json");
    new ObjectMapper().writeValue(file.toFile(), json);
    LogisticConfidence scorer = (LogisticConfidence) Profile.read(file).confidence();
    assertEquals(LogisticConfidence.BASE_FEATURES, scorer.features());
    assertTrue(!scorer.needsEstimate());
  }

  @Test
  void read_unknownFeature_refusedNamingIt(@TempDir Path dir) throws Exception {
    ObjectNode json = sample().toJson();
    ((ArrayNode) json.get("confidence").get("features")).set(2, "entropy");
    Path file = dir.resolve("bad.json");
    new ObjectMapper().writeValue(file.toFile(), json);
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Profile.read(file));
    assertTrue(e.getMessage().contains("'entropy'"), e.getMessage());
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
