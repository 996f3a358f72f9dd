package dev.cascade.server;

import dev.cascade.confidence.SaturationConfidence;
import dev.cascade.encoder.EncoderOptions;
import dev.cascade.exit.HeadType;
import dev.cascade.exit.HeadWeights;
import dev.cascade.exit.HeadsFile;
import dev.cascade.model.BertWeights;
import dev.cascade.model.ModelSpec;
import dev.cascade.model.OnnxBertReader;
import dev.cascade.policy.Profile;
import dev.cascade.runtime.CascadeRuntime;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Runtimes for server tests. */
public final class TestRuntimes {
  /** Exit layers of the test heads on all-MiniLM-L6-v2 (6 layers). */
  public static final int[] EXITS = {1, 2, 3, 4, 5};

  private TestRuntimes() {}

  /**
   * all-MiniLM-L6-v2 with untrained heads at every layer but the last, the {@code exact} profile
   * and a {@code balanced} profile whose saturation threshold of 0 stops every input at the second
   * exit (layer 2), so that early exit is certain.
   */
  public static CascadeRuntime miniLmWithHeads(Path dir) throws IOException {
    ModelSpec spec = ModelSpec.builtIn("all-minilm-l6-v2");
    BertWeights weights;
    try (InputStream in = spec.openWeights()) {
      weights = OnnxBertReader.read(in);
    }
    List<HeadWeights> heads = new ArrayList<>();
    for (int layer : EXITS) {
      heads.add(HeadWeights.fromLastLayer(weights, layer, HeadType.NARROW));
    }
    Path headsFile = dir.resolve("test.heads");
    new HeadsFile(spec.name(), weights.checksum(), heads, null).write(headsFile);
    Path profiles = dir.resolve("profiles");
    // Saturation is 0 at the first exit, which has nothing to compare with: never stop there.
    double[] stopAtOnce = new double[EXITS.length];
    stopAtOnce[0] = Double.NaN;
    new Profile(
            "balanced",
            "test profile: every input stops at the second exit",
            spec.name(),
            weights.checksum(),
            EXITS,
            SaturationConfidence.INSTANCE,
            stopAtOnce,
            null,
            Double.NaN)
        .write(profiles.resolve("balanced.json"));
    return CascadeRuntime.load(spec, new EncoderOptions(2, 1), headsFile, profiles);
  }
}
