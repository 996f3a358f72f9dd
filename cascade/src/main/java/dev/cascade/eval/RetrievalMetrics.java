package dev.cascade.eval;

import java.util.List;
import java.util.Set;

/**
 * Ranking quality of a set of queries, averaged over queries: Recall@1, Recall@10, MRR@10 and
 * nDCG@10 with binary relevance.
 *
 * @param queries number of queries averaged
 */
public record RetrievalMetrics(
    int queries, double recallAt1, double recallAt10, double mrrAt10, double ndcgAt10) {

  /**
   * Scores rankings.
   *
   * @param rankings per query, document ids best first (at least the top 10)
   * @param relevant per query, the relevant document ids
   */
  public static RetrievalMetrics of(List<List<String>> rankings, List<Set<String>> relevant) {
    int n = rankings.size();
    double r1 = 0;
    double r10 = 0;
    double mrr = 0;
    double ndcg = 0;
    for (int q = 0; q < n; q++) {
      List<String> ranking = rankings.get(q);
      Set<String> rel = relevant.get(q);
      int found1 = 0;
      int found10 = 0;
      double dcg = 0;
      double reciprocal = 0;
      for (int i = 0; i < Math.min(10, ranking.size()); i++) {
        if (rel.contains(ranking.get(i))) {
          if (i == 0) {
            found1++;
          }
          found10++;
          dcg += 1 / log2(i + 2);
          if (reciprocal == 0) {
            reciprocal = 1.0 / (i + 1);
          }
        }
      }
      double ideal = 0;
      for (int i = 0; i < Math.min(10, rel.size()); i++) {
        ideal += 1 / log2(i + 2);
      }
      r1 += (double) found1 / Math.min(1, rel.size());
      r10 += (double) found10 / Math.min(10, rel.size());
      mrr += reciprocal;
      ndcg += ideal == 0 ? 0 : dcg / ideal;
    }
    return new RetrievalMetrics(n, r1 / n, r10 / n, mrr / n, ndcg / n);
  }

  private static double log2(double x) {
    return Math.log(x) / Math.log(2);
  }
}
