package dev.cascade.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * A retrieval test set: queries, a corpus, and for each query the set of relevant documents, as in
 * the {@code javadoc-dev} layout ({@code queries.jsonl}, {@code corpus.jsonl}, {@code qrels.tsv}
 * with {@code query_id TAB doc_id TAB grade}).
 *
 * @param queries the queries that have at least one relevant document
 * @param corpus every document
 * @param relevant relevant document ids per query id
 */
public record RetrievalSet(
    List<Document> queries, List<Document> corpus, Map<String, Set<String>> relevant) {

  public RetrievalSet {
    queries = List.copyOf(queries);
    corpus = List.copyOf(corpus);
    relevant = Map.copyOf(relevant);
  }

  /** Reads the three files of a directory. */
  public static RetrievalSet read(Path dir) throws IOException {
    return read(
        dir.resolve("queries.jsonl"), dir.resolve("corpus.jsonl"), dir.resolve("qrels.tsv"));
  }

  /** Reads queries, corpus and qrels files. */
  public static RetrievalSet read(Path queries, Path corpus, Path qrels) throws IOException {
    Map<String, Set<String>> relevant = new LinkedHashMap<>();
    int number = 0;
    for (String line : Files.readAllLines(qrels)) {
      number++;
      if (line.isBlank() || line.startsWith("query")) {
        continue;
      }
      String[] parts = line.split("\t");
      if (parts.length < 2) {
        throw new IllegalArgumentException(qrels + ":" + number + " is not query_id TAB doc_id");
      }
      if (parts.length < 3 || Double.parseDouble(parts[2]) > 0) {
        relevant.computeIfAbsent(parts[0], k -> new HashSet<>()).add(parts[1]);
      }
    }
    List<Document> qs =
        Texts.read(queries).stream().filter(q -> relevant.containsKey(q.id())).toList();
    return new RetrievalSet(qs, Texts.read(corpus), relevant);
  }

  /** The same set restricted to the queries that pass {@code keep}. */
  public RetrievalSet withQueries(Predicate<Document> keep) {
    return new RetrievalSet(queries.stream().filter(keep).toList(), corpus, relevant);
  }

  /**
   * The queries of one half of a deterministic split: keyed by the page of a query's first relevant
   * document when the corpus names sources (so that no page has queries in both halves), else by
   * the query id.
   *
   * @param half 0 or 1
   */
  public RetrievalSet half(int half) {
    return part(half, -1);
  }

  /**
   * Half {@code quarter} of half {@code half} (see {@link Splits#quarter}), keyed as {@link #half};
   * a quarter of -1 means the whole half.
   */
  public RetrievalSet part(int half, int quarter) {
    Map<String, String> sources = sourceById();
    boolean bySource = sources.values().stream().anyMatch(s -> !s.isEmpty());
    return withQueries(
        q -> {
          String key = q.id();
          if (bySource) {
            String doc = relevant.get(q.id()).iterator().next();
            key = Splits.page(sources.getOrDefault(doc, doc));
          }
          return Splits.half(key) == half && (quarter < 0 || Splits.quarter(key) == quarter);
        });
  }

  /** Source of each document, by id. */
  public Map<String, String> sourceById() {
    Map<String, String> out = new HashMap<>();
    corpus.forEach(d -> out.put(d.id(), d.source()));
    return out;
  }
}
