package dev.cascade.tune;

import dev.cascade.eval.VectorIndex;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;

/**
 * What counts as a bad early exit for one input, as written in profiles: either its early
 * embedding's cosine to the final one is below τ ({@code cosine<τ}), or its top-10 neighbours in a
 * corpus differ from the full-depth top-10 ({@code top10}).
 */
public sealed interface RiskDefinition {
  /** {@code [input][exit]}: whether stopping input i at exit e is a risk event. */
  boolean[][] violations(CalibrationTraces traces);

  /** How the definition is written in profiles and on the command line. */
  String id();

  /** Parses {@code cosine:0.9} or {@code top10}; top10 needs {@code index}. */
  static RiskDefinition parse(String text, VectorIndex index) {
    String s = text.trim().toLowerCase(Locale.ROOT);
    if (s.startsWith("cosine:")) {
      return new Cosine(Double.parseDouble(s.substring(7)));
    }
    if (s.equals("top10")) {
      if (index == null) {
        throw new IllegalArgumentException("risk top10 needs a corpus to search (--corpus)");
      }
      return new TopTen(index);
    }
    throw new IllegalArgumentException(
        "unknown risk '" + text + "': expected cosine:TAU (e.g. cosine:0.9) or top10");
  }

  /** Early embedding's cosine to the final embedding is below {@code tau}. */
  record Cosine(double tau) implements RiskDefinition {
    public Cosine {
      if (!(tau > -1 && tau < 1)) {
        throw new IllegalArgumentException("cosine threshold must be in (-1, 1), was " + tau);
      }
    }

    @Override
    public boolean[][] violations(CalibrationTraces traces) {
      boolean[][] out = new boolean[traces.size()][traces.exits().length];
      for (int i = 0; i < traces.size(); i++) {
        for (int e = 0; e < traces.exits().length; e++) {
          out[i][e] = traces.cosineToFinal(i, e) < tau;
        }
      }
      return out;
    }

    @Override
    public String id() {
      return "cosine<" + tau;
    }
  }

  /** The early top-10 neighbours differ (as a set) from the full-depth top-10. */
  record TopTen(VectorIndex index) implements RiskDefinition {
    @Override
    public boolean[][] violations(CalibrationTraces traces) {
      boolean[][] out = new boolean[traces.size()][traces.exits().length];
      for (int i = 0; i < traces.size(); i++) {
        HashSet<String> full = new HashSet<>(index.search(traces.finals()[i], 10));
        for (int e = 0; e < traces.exits().length; e++) {
          List<String> early = index.search(traces.embeddings()[i][e], 10);
          out[i][e] = !full.equals(new HashSet<>(early));
        }
      }
      return out;
    }

    @Override
    public String id() {
      return "top10-differs";
    }
  }
}
