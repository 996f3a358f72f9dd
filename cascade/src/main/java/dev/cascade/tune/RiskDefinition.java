package dev.cascade.tune;

import dev.cascade.eval.VectorIndex;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;

/**
 * What counts as a bad early exit for one input, as written in profiles: its early embedding's
 * cosine to the final one is below τ ({@code cosine<τ}); or, searching a corpus, its top-10
 * neighbours differ from the full-depth top-10 ({@code top10}); or one of the full-depth top-M
 * neighbours is missing from the early top-10 ({@code top10:M}), which is what Recall@10 loses when
 * the relevant document was among the first M at full depth.
 */
public sealed interface RiskDefinition {
  /** {@code [input][exit]}: whether stopping input i at exit e is a risk event. */
  boolean[][] violations(CalibrationTraces traces);

  /** How the definition is written in profiles and on the command line. */
  String id();

  /** Whether {@code text} names a risk that searches a corpus ({@code top10}, {@code top10:M}). */
  static boolean searchesCorpus(String text) {
    String s = text.trim().toLowerCase(Locale.ROOT);
    return s.equals("top10") || s.startsWith("top10:");
  }

  /**
   * Parses {@code cosine:0.9}, {@code top10} or {@code top10:3}; the latter two need {@code index}.
   */
  static RiskDefinition parse(String text, VectorIndex index) {
    String s = text.trim().toLowerCase(Locale.ROOT);
    if (s.startsWith("cosine:")) {
      return new Cosine(Double.parseDouble(s.substring(7)));
    }
    if (searchesCorpus(s)) {
      if (index == null) {
        throw new IllegalArgumentException("risk " + s + " needs a corpus to search (--corpus)");
      }
      if (s.equals("top10")) {
        return new TopTen(index);
      }
      int kept;
      try {
        kept = Integer.parseInt(s.substring(6));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("risk " + s + ": expected top10:M with M in 1..10");
      }
      return new TopKept(index, kept);
    }
    throw new IllegalArgumentException(
        "unknown risk '"
            + text
            + "': expected cosine:TAU (e.g. cosine:0.9), top10 or top10:M (e.g. top10:3)");
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

  /** One of the full-depth top-{@code kept} neighbours is not among the early top-10. */
  record TopKept(VectorIndex index, int kept) implements RiskDefinition {
    public TopKept {
      if (kept < 1 || kept > 10) {
        throw new IllegalArgumentException("top10:M needs M in 1..10, was " + kept);
      }
    }

    @Override
    public boolean[][] violations(CalibrationTraces traces) {
      boolean[][] out = new boolean[traces.size()][traces.exits().length];
      for (int i = 0; i < traces.size(); i++) {
        List<String> full = index.search(traces.finals()[i], kept);
        for (int e = 0; e < traces.exits().length; e++) {
          out[i][e] = !new HashSet<>(index.search(traces.embeddings()[i][e], 10)).containsAll(full);
        }
      }
      return out;
    }

    @Override
    public String id() {
      return "full-top" + kept + "-outside-top10";
    }
  }
}
