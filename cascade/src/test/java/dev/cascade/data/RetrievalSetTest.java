package dev.cascade.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cascade.testing.TestData;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RetrievalSetTest {
  private static Set<String> ids(RetrievalSet set) {
    Set<String> out = new HashSet<>();
    set.queries().forEach(q -> out.add(q.id()));
    return out;
  }

  @Test
  void quartersPartitionTheirHalfAndNeverShareAPage() throws Exception {
    RetrievalSet man = RetrievalSet.read(TestData.dataDir().resolve("man"));
    for (int half = 0; half < 2; half++) {
      Set<String> a = ids(man.part(half, 0));
      Set<String> b = ids(man.part(half, 1));
      Set<String> union = new HashSet<>(a);
      union.addAll(b);
      assertEquals(ids(man.half(half)), union);
      assertEquals(a.size() + b.size(), union.size(), "disjoint");
      assertTrue(a.size() > 150 && b.size() > 150, a.size() + " and " + b.size());
      Set<String> pagesA = new HashSet<>();
      man.part(half, 0).queries().forEach(q -> pagesA.add(page(man, q.id())));
      man.part(half, 1).queries().forEach(q -> assertTrue(!pagesA.contains(page(man, q.id()))));
    }
  }

  private static String page(RetrievalSet set, String query) {
    String doc = set.relevant().get(query).iterator().next();
    return Splits.page(set.sourceById().get(doc));
  }
}
