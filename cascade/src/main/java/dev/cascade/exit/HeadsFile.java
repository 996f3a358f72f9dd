package dev.cascade.exit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cascade.model.Weight;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A set of trained exit heads for one backbone, as shipped in a file.
 *
 * <p>Layout: the magic line {@code CASCADE-HEADS}, a 4-byte little-endian header length, a JSON
 * header (format version, model, the backbone's SHA-256, pooling, head type, each exit's tensors
 * with shapes, and how the heads were trained), then every tensor as little-endian float32 in the
 * order the header lists them. The header is readable with {@code head -c}.
 *
 * @param model name of the backbone model
 * @param backboneChecksum SHA-256 of the backbone's weights file; heads only load onto it
 * @param heads one head per exit, ascending by layer
 * @param training free-form description of how the heads were trained (corpus, epochs, seed,
 *     validation figures)
 */
public record HeadsFile(
    String model, String backboneChecksum, List<HeadWeights> heads, JsonNode training) {
  /** The format version this code writes and reads. */
  public static final int VERSION = 1;

  private static final byte[] MAGIC = "CASCADE-HEADS\n".getBytes(StandardCharsets.US_ASCII);
  private static final ObjectMapper JSON = new ObjectMapper();

  public HeadsFile {
    heads = List.copyOf(heads);
    if (heads.isEmpty()) {
      throw new IllegalArgumentException("a heads file needs at least one head");
    }
    for (int i = 1; i < heads.size(); i++) {
      if (heads.get(i).layer() <= heads.get(i - 1).layer()) {
        throw new IllegalArgumentException("heads must be in ascending layer order");
      }
    }
    training = training == null ? JSON.createObjectNode() : training;
  }

  /** Exit layers, ascending. */
  public int[] layers() {
    return heads.stream().mapToInt(HeadWeights::layer).toArray();
  }

  /** The head at {@code layer}. */
  public HeadWeights head(int layer) {
    return heads.stream()
        .filter(h -> h.layer() == layer)
        .findFirst()
        .orElseThrow(
            () ->
                new IllegalArgumentException(
                    "no head at layer " + layer + "; heads exist at " + Arrays.toString(layers())));
  }

  /**
   * Throws unless these heads were trained on the backbone with {@code checksum}.
   *
   * @param source where the heads came from, for the message
   */
  public void requireBackbone(String modelName, String checksum, String source) {
    if (!backboneChecksum.equals(checksum)) {
      throw new IllegalArgumentException(
          "heads "
              + source
              + " were trained for model "
              + model
              + " (weights sha256 "
              + backboneChecksum.substring(0, 12)
              + "...) but the loaded model is "
              + modelName
              + " (weights sha256 "
              + checksum.substring(0, 12)
              + "...); train heads for this model with train-heads");
    }
  }

  /**
   * SHA-256 of this file's serialised form, as hex (what {@code sha256sum} prints for the file this
   * code writes): what a profile tuned on these heads records, so that it is not applied to other
   * heads.
   */
  public String checksum() {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      try (OutputStream out =
          new BufferedOutputStream(
              new DigestOutputStream(OutputStream.nullOutputStream(), digest), 1 << 20)) {
        write(out);
      }
      return HexFormat.of().formatHex(digest.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Writes the file atomically (to a sibling temporary file, then renamed). */
  public void write(Path file) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
    try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20)) {
      write(out);
    }
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  /** Writes the file to a stream, which stays open. */
  public void write(OutputStream stream) throws IOException {
    ObjectNode header = JSON.createObjectNode();
    header.put("format", "cascade-heads");
    header.put("version", VERSION);
    header.put("model", model);
    header.put("backbone_sha256", backboneChecksum);
    header.put(
        "head_type",
        heads.stream().map(HeadWeights::type).distinct().count() == 1
            ? heads.get(0).type().id()
            : "mixed");
    ArrayNode exits = header.putArray("exits");
    for (HeadWeights head : heads) {
      ObjectNode exit = exits.addObject();
      exit.put("layer", head.layer());
      exit.put("head_type", head.type().id());
      ArrayNode tensors = exit.putArray("tensors");
      for (String name : head.tensorNames()) {
        ObjectNode t = tensors.addObject();
        t.put("name", name);
        ArrayNode shape = t.putArray("shape");
        for (long d : head.get(name).shape()) {
          shape.add(d);
        }
      }
    }
    header.set("training", training);
    byte[] json = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(header);
    DataOutputStream out = new DataOutputStream(stream);
    out.write(MAGIC);
    out.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(json.length).array());
    out.write(json);
    for (HeadWeights head : heads) {
      for (String name : head.tensorNames()) {
        float[] values = head.get(name).values();
        ByteBuffer buf = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        buf.asFloatBuffer().put(values);
        out.write(buf.array());
      }
    }
    out.flush();
  }

  /** Reads a heads file. */
  public static HeadsFile read(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException("heads file not found: " + file);
    }
    try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 20)) {
      return read(in, file.toString());
    }
  }

  /** Reads a heads file from a stream, which stays open; {@code source} names it in errors. */
  public static HeadsFile read(InputStream stream, String source) throws IOException {
    DataInputStream in = new DataInputStream(stream);
    byte[] magic = new byte[MAGIC.length];
    in.readFully(magic);
    if (!Arrays.equals(magic, MAGIC)) {
      throw new IllegalArgumentException(source + " is not a Cascade heads file");
    }
    byte[] lengthBytes = new byte[4];
    in.readFully(lengthBytes);
    int length = ByteBuffer.wrap(lengthBytes).order(ByteOrder.LITTLE_ENDIAN).getInt();
    if (length <= 0 || length > (16 << 20)) {
      throw new IllegalArgumentException(source + " has a corrupt header length " + length);
    }
    byte[] json = new byte[length];
    in.readFully(json);
    JsonNode header = JSON.readTree(json);
    int version = header.path("version").asInt(-1);
    if (version != VERSION) {
      throw new IllegalArgumentException(
          source + " is heads format version " + version + "; this build reads version " + VERSION);
    }
    List<HeadWeights> heads = new ArrayList<>();
    for (JsonNode exit : header.path("exits")) {
      HeadType type = HeadType.parse(exit.path("head_type").asText());
      Map<String, Weight> tensors = new LinkedHashMap<>();
      for (JsonNode t : exit.path("tensors")) {
        long[] shape = new long[t.path("shape").size()];
        long size = 1;
        for (int i = 0; i < shape.length; i++) {
          shape[i] = t.path("shape").get(i).asLong();
          size *= shape[i];
        }
        byte[] bytes = new byte[Math.toIntExact(size * 4)];
        in.readFully(bytes);
        float[] values = new float[(int) size];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
        String name = t.path("name").asText();
        tensors.put(name, new Weight(name, shape, values));
      }
      heads.add(new HeadWeights(exit.path("layer").asInt(), type, tensors));
    }
    if (in.read() != -1) {
      throw new IllegalArgumentException(source + " has trailing bytes after its last tensor");
    }
    return new HeadsFile(
        header.path("model").asText(),
        header.path("backbone_sha256").asText(),
        heads,
        header.path("training"));
  }
}
