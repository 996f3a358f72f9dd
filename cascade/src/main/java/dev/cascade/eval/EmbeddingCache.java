package dev.cascade.eval;

import dev.cascade.data.Document;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * Full-depth document embeddings on disk, keyed by the model's checksum and the documents' text, so
 * that evaluations and tuning runs over the same corpus embed it once.
 */
public final class EmbeddingCache {
  private EmbeddingCache() {}

  /** The cached embeddings, if {@code dir} is given and holds them. */
  public static Optional<float[][]> load(Path dir, String modelChecksum, List<Document> docs) {
    if (dir == null) {
      return Optional.empty();
    }
    Path file = dir.resolve(key(modelChecksum, docs) + ".f32");
    if (!Files.isRegularFile(file)) {
      return Optional.empty();
    }
    try (DataInputStream in =
        new DataInputStream(new java.io.BufferedInputStream(Files.newInputStream(file), 1 << 20))) {
      int rows = in.readInt();
      int width = in.readInt();
      float[][] out = new float[rows][width];
      for (float[] row : out) {
        for (int j = 0; j < width; j++) {
          row[j] = in.readFloat();
        }
      }
      return Optional.of(out);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read cached embeddings " + file, e);
    }
  }

  /** Stores embeddings when {@code dir} is given. */
  public static void store(Path dir, String modelChecksum, List<Document> docs, float[][] vectors) {
    if (dir == null || vectors.length == 0) {
      return;
    }
    try {
      Files.createDirectories(dir);
      Path file = dir.resolve(key(modelChecksum, docs) + ".f32");
      if (Files.isRegularFile(file)) {
        return;
      }
      Path tmp = Files.createTempFile(dir, "embeddings", ".tmp");
      try (DataOutputStream out =
          new DataOutputStream(
              new java.io.BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20))) {
        out.writeInt(vectors.length);
        out.writeInt(vectors[0].length);
        for (float[] row : vectors) {
          for (float v : row) {
            out.writeFloat(v);
          }
        }
      }
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write cached embeddings to " + dir, e);
    }
  }

  private static String key(String modelChecksum, List<Document> docs) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(modelChecksum.getBytes(StandardCharsets.UTF_8));
      for (Document d : docs) {
        sha.update(d.text().getBytes(StandardCharsets.UTF_8));
        sha.update((byte) 0);
      }
      return HexFormat.of().formatHex(sha.digest()).substring(0, 24);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
