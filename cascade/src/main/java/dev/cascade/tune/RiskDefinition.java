package dev.cascade.tune;

import dev.cascade.eval.VectorIndex;
import dev.cascade.vector.Vectors;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What counts as a bad early exit for one input, as written in profiles: its early embedding's
 * cosine to the final one is below τ ({@code cosine<τ}); or, searching a corpus, its top-10
 * neighbours differ from the full-depth top-10 ({@code top10}); or one of the full-depth top-M
 * neighbours is missing from the early top-10 ({@code top10:M}), which is what Recall@10 loses when
 * the relevant document was among the first M at full depth.
 */
public sealed interface RiskDefinition {
  /**
   * For an input whose full-depth embedding is {@code last}: whether stopping it with an early
   * embedding is a risk event. What depends on {@code last} alone is computed once, here.
   */
  Predicate<float[]> violatedBy(float[] last);

  /** {@code [input][exit]}: whether stopping input i at exit e is a risk event. */
  default boolean[][] violations(CalibrationTraces traces) {
    boolean[][] out = new boolean[traces.size()][traces.exits().length];
    for (int i = 0; i < traces.size(); i++) {
      Predicate<float[]> violated = violatedBy(traces.finals()[i]);
      for (int e = 0; e < traces.exits().length; e++) {
        out[i][e] = violated.test(traces.embeddings()[i][e]);
      }
    }
    return out;
  }

  /** How the definition is written in profiles and on the command line. */
  String id();

  /**
   * The definition a profile records as {@link #id()}, searching {@code index} where it needs a
   * corpus; empty when the id is unknown (profiles written by hand).
   */
  static Optional<RiskDefinition> fromId(String id, VectorIndex index) {
    if (id.startsWith("cosine<")) {
      return Optional.of(new Cosine(Double.parseDouble(id.substring(7))));
    }
    if (id.equals(TopKept.SET_DIFFERS)) {
      return Optional.of(new TopKept(index, 10));
    }
    Matcher kept = Pattern.compile("full-top(\\d+)-outside-top10").matcher(id);
    return kept.matches()
        ? Optional.of(new TopKept(index, Integer.parseInt(kept.group(1))))
        : Optional.empty();
  }

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
        return new TopKept(index, 10);
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
    public Predicate<float[]> violatedBy(float[] last) {
      return early -> Vectors.dot(early, last) < tau;
    }

    @Override
    public String id() {
      return "cosine<" + tau;
    }
  }

  /**
   * One of the full-depth top-{@code kept} neighbours is not among the early top-10. With {@code
   * kept} = 10 this is {@code top10}: the early top-10 differs (as a set) from the full-depth one.
   */
  record TopKept(VectorIndex index, int kept) implements RiskDefinition {
    /** The id of {@code kept} = 10, as profiles have always recorded it. */
    static final String SET_DIFFERS = "top10-differs";

    public TopKept {
      if (kept < 1 || kept > 10) {
        throw new IllegalArgumentException("top10:M needs M in 1..10, was " + kept);
      }
    }

    @Override
    public Predicate<float[]> violatedBy(float[] last) {
      List<String> leaders = index.search(last, kept);
      return early -> !new HashSet<>(index.search(early, 10)).containsAll(leaders);
    }

    @Override
    public String id() {
      return kept == 10 ? SET_DIFFERS : "full-top" + kept + "-outside-top10";
    }
  }
}
