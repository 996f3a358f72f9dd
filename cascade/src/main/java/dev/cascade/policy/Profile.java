package dev.cascade.policy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cascade.confidence.Confidence;
import dev.cascade.confidence.LogisticConfidence;
import dev.cascade.confidence.SaturationConfidence;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A threshold profile: which exits a model uses, how confidence is scored, the threshold of each
 * exit, what the thresholds were certified for, and what they cost. Stored as versioned,
 * human-readable JSON.
 *
 * @param name how requests name it ({@code exact}, {@code balanced}, ...)
 * @param description one line for people
 * @param model the backbone's name
 * @param backboneChecksum SHA-256 of the backbone's weights; the profile only loads onto them
 * @param exits exit layers, ascending
 * @param confidence the scorer
 * @param thresholds per exit, the confidence an input needs to stop there; {@code NaN} = never
 * @param tunedFor what the thresholds were certified for (risk, δ, ε, calibration set, date), as
 *     written by the tuner; empty for hand-made profiles
 * @param meanLayers measured mean cost in layers (heads included) on the calibration set; NaN if
 *     unknown
 */
public record Profile(
    String name,
    String description,
    String model,
    String backboneChecksum,
    int[] exits,
    Confidence confidence,
    double[] thresholds,
    JsonNode tunedFor,
    double meanLayers) {
  /** The profile format version this code writes and reads. */
  public static final int VERSION = 1;

  private static final ObjectMapper JSON = new ObjectMapper();

  public Profile {
    exits = exits.clone();
    thresholds = thresholds.clone();
    if (exits.length != thresholds.length) {
      throw new IllegalArgumentException(
          "profile "
              + name
              + ": "
              + exits.length
              + " exits but "
              + thresholds.length
              + " thresholds");
    }
    for (int i = 1; i < exits.length; i++) {
      if (exits[i] <= exits[i - 1]) {
        throw new IllegalArgumentException("profile " + name + ": exits must ascend");
      }
    }
    tunedFor = tunedFor == null ? JSON.createObjectNode() : tunedFor;
  }

  /** A profile that never stops early: every input runs the whole model. */
  public static Profile exact(String model, String checksum, int[] exits) {
    double[] never = new double[exits.length];
    Arrays.fill(never, Double.NaN);
    return new Profile(
        "exact",
        "never stops early: every input runs all layers (exits still stream)",
        model,
        checksum,
        exits,
        SaturationConfidence.INSTANCE,
        never,
        null,
        Double.NaN);
  }

  /** Whether no threshold is set, so that inputs only stop at the last layer or a maximum exit. */
  public boolean neverStops() {
    return Arrays.stream(thresholds).allMatch(Double::isNaN);
  }

  /** Whether an input may stop at exit {@code index} with {@code score}. */
  public boolean stops(int index, double score) {
    double t = thresholds[index];
    return !Double.isNaN(t) && score >= t;
  }

  /** Throws unless this profile was made for the backbone with {@code checksum}. */
  public void requireBackbone(String modelName, String checksum) {
    if (!backboneChecksum.equals(checksum)) {
      throw new IllegalArgumentException(
          "profile "
              + name
              + " was made for model "
              + model
              + " (weights sha256 "
              + abbreviate(backboneChecksum)
              + ") but the loaded model is "
              + modelName
              + " (weights sha256 "
              + abbreviate(checksum)
              + ")");
    }
  }

  /**
   * The checksum ({@link dev.cascade.exit.HeadsFile#checksum()}) of the heads the thresholds were
   * tuned on, from {@link #tunedFor}; empty for profiles bound to no heads, such as {@code exact}.
   */
  public String headsChecksum() {
    return tunedFor.path("heads_sha256").asText("");
  }

  /** Throws unless this profile is bound to no heads or to the heads with {@code checksum}. */
  public void requireHeads(String checksum) {
    String bound = headsChecksum();
    if (!bound.isEmpty() && !bound.equals(checksum)) {
      throw new IllegalArgumentException(
          "profile "
              + name
              + " was tuned on heads sha256 "
              + abbreviate(bound)
              + " but the loaded heads are sha256 "
              + abbreviate(checksum)
              + "; tune it again on these heads (cascade tune --heads ...)");
    }
  }

  private static String abbreviate(String checksum) {
    return checksum.length() > 12 ? checksum.substring(0, 12) + "..." : checksum;
  }

  /** This profile as JSON. */
  public ObjectNode toJson() {
    ObjectNode root = JSON.createObjectNode();
    root.put("format", "cascade-profile");
    root.put("version", VERSION);
    root.put("name", name);
    root.put("description", description);
    root.put("model", model);
    root.put("backbone_sha256", backboneChecksum);
    ArrayNode exitArray = root.putArray("exits");
    Arrays.stream(exits).forEach(exitArray::add);
    ObjectNode conf = root.putObject("confidence");
    conf.put("kind", confidence.kind());
    if (confidence instanceof LogisticConfidence logistic) {
      ArrayNode features = conf.putArray("features");
      logistic.features().forEach(features::add);
      ArrayNode weights = conf.putArray("weights");
      for (double[] w : logistic.weights()) {
        ArrayNode row = weights.addArray();
        Arrays.stream(w).forEach(row::add);
      }
      ArrayNode bias = conf.putArray("bias");
      Arrays.stream(logistic.bias()).forEach(bias::add);
    }
    ArrayNode thresholdArray = root.putArray("thresholds");
    for (double t : thresholds) {
      if (Double.isNaN(t)) {
        thresholdArray.addNull();
      } else {
        thresholdArray.add(t);
      }
    }
    root.set("tuned_for", tunedFor);
    if (!Double.isNaN(meanLayers)) {
      root.put("mean_layers", meanLayers);
    }
    return root;
  }

  /** Writes the profile as pretty-printed JSON. */
  public void write(Path file) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    JSON.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), toJson());
  }

  /** Reads a profile file. */
  public static Profile read(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      return read(in, file.toString());
    }
  }

  /** Reads a profile from a stream, which stays open; {@code source} names it in errors. */
  public static Profile read(InputStream in, String source) throws IOException {
    JsonNode root = JSON.readTree(in);
    if (root == null || !"cascade-profile".equals(root.path("format").asText())) {
      throw new IllegalArgumentException(source + " is not a Cascade profile");
    }
    int version = root.path("version").asInt(-1);
    if (version != VERSION) {
      throw new IllegalArgumentException(
          source + " is profile version " + version + "; this build reads version " + VERSION);
    }
    int[] exits = ints(root.path("exits"));
    double[] thresholds = new double[root.path("thresholds").size()];
    for (int i = 0; i < thresholds.length; i++) {
      JsonNode t = root.path("thresholds").get(i);
      thresholds[i] = t.isNull() ? Double.NaN : t.asDouble();
    }
    JsonNode conf = root.path("confidence");
    Confidence confidence =
        switch (conf.path("kind").asText()) {
          case "saturation" -> SaturationConfidence.INSTANCE;
          case "logistic" -> {
            double[][] w = new double[conf.path("weights").size()][];
            for (int i = 0; i < w.length; i++) {
              w[i] = doubles(conf.path("weights").get(i));
            }
            List<String> features = new ArrayList<>();
            conf.path("features").forEach(f -> features.add(f.asText()));
            yield new LogisticConfidence(
                conf.has("features") ? features : LogisticConfidence.BASE_FEATURES,
                w,
                doubles(conf.path("bias")));
          }
          default ->
              throw new IllegalArgumentException(
                  source + ": unknown confidence kind '" + conf.path("kind").asText() + "'");
        };
    return new Profile(
        root.path("name").asText(),
        root.path("description").asText(""),
        root.path("model").asText(),
        root.path("backbone_sha256").asText(),
        exits,
        confidence,
        thresholds,
        root.path("tuned_for"),
        root.has("mean_layers") ? root.get("mean_layers").asDouble() : Double.NaN);
  }

  private static int[] ints(JsonNode array) {
    int[] out = new int[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = array.get(i).asInt();
    }
    return out;
  }

  private static double[] doubles(JsonNode array) {
    double[] out = new double[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = array.get(i).asDouble();
    }
    return out;
  }
}
