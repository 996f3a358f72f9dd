package dev.cascade.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cascade.testing.TestData;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class QueryDeriverTest {
  private static final String METHOD =
      """
      public static boolean isAllLowerCase(final CharSequence cs) {
          if (cs == null) {
              throw new IllegalArgumentException("cs");
          }
          return cs.chars().allMatch(Character::isLowerCase);
      }""";

  @Test
  void describesAMethodAsDocumentationWould() {
    for (int seed = 0; seed < 20; seed++) {
      List<String> derived = QueryDeriver.derive(METHOD, new Random(seed));
      String sentence = derived.get(0);
      assertTrue(
          sentence.startsWith("Checks if it is all lower case")
              || sentence.startsWith("Checks if it is the all lower case"),
          sentence);
      assertTrue(sentence.contains("CharSequence") || sentence.contains(" cs"), sentence);
      assertTrue(sentence.endsWith("."), sentence);
      assertEquals("is all lower case cs", derived.get(1));
    }
  }

  @Test
  void namesConstructorsAndNounMethodsWithoutInventingVerbs() {
    String constructor =
        "public CharRangeIterator(final CharRange r) {\n    range = r;\n    hasNext = true;\n}";
    assertTrue(
        QueryDeriver.derive(constructor, new Random(1))
            .get(0)
            .startsWith("Constructs a char range iterator"));
    String noun = "public Set<K> keySet() {\n    return map.keySet();\n}";
    assertEquals("Returns the key set.", QueryDeriver.derive(noun, new Random(1)).get(0));
  }

  @Test
  void summarisesProseWithItsVerbInTheBaseForm() {
    String page =
        "The getent command displays entries from databases supported by the Name Service"
            + " Switch libraries, which are configured in /etc/nsswitch.conf. If one or more"
            + " key arguments are provided, only the entries that match are displayed.";
    List<String> derived = QueryDeriver.derive(page, new Random(3));
    assertTrue(derived.get(0).startsWith("The getent command displays entries"));
    assertEquals(
        "display entries from databases supported by the Name Service Switch libraries",
        derived.get(1));
    assertEquals(3, derived.size(), "first sentence, clause and a span");
  }

  @Test
  void isDeterministicForASeedAndNeverRepeatsTheDocument() {
    for (String doc : TestData.texts("javadoc-dev/corpus.jsonl", 200)) {
      List<String> first = QueryDeriver.derive(doc, new Random(doc.length()));
      assertEquals(first, QueryDeriver.derive(doc, new Random(doc.length())));
      assertFalse(first.isEmpty(), doc);
      assertFalse(first.contains(doc.strip()));
      first.forEach(text -> assertFalse(text.isBlank()));
    }
  }
}
