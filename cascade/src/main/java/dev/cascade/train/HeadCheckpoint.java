package dev.cascade.train;

import dev.cascade.exit.HeadType;
import dev.cascade.exit.HeadWeights;
import dev.cascade.model.Weight;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;

/** The best weights so far of a head being trained, kept beside its checkpoint. */
final class HeadCheckpoint {
  private HeadCheckpoint() {}

  static void writeBest(Path dir, int layer, HeadType type, Map<String, Weight> best)
      throws IOException {
    Path tmp = dir.resolve("best.bin.tmp");
    try (DataOutputStream out =
        new DataOutputStream(new java.io.BufferedOutputStream(Files.newOutputStream(tmp)))) {
      for (String name : HeadWeights.names(type)) {
        Weight w = best.get(name);
        out.writeInt(w.shape().length);
        for (long d : w.shape()) {
          out.writeLong(d);
        }
        for (float v : w.values()) {
          out.writeFloat(v);
        }
      }
    }
    Files.move(
        tmp,
        dir.resolve("best.bin"),
        StandardCopyOption.REPLACE_EXISTING,
        StandardCopyOption.ATOMIC_MOVE);
  }

  static Map<String, Weight> readBest(Path dir, HeadType type) throws IOException {
    Map<String, Weight> out = new LinkedHashMap<>();
    try (DataInputStream in =
        new DataInputStream(
            new java.io.BufferedInputStream(Files.newInputStream(dir.resolve("best.bin"))))) {
      for (String name : HeadWeights.names(type)) {
        long[] shape = new long[in.readInt()];
        long size = 1;
        for (int i = 0; i < shape.length; i++) {
          shape[i] = in.readLong();
          size *= shape[i];
        }
        float[] values = new float[Math.toIntExact(size)];
        for (int i = 0; i < values.length; i++) {
          values[i] = in.readFloat();
        }
        out.put(name, new Weight(name, shape, values));
      }
    }
    return out;
  }
}
