package dev.cascade.tokenize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.cascade.model.ModelSpec;
import dev.cascade.testing.TestData;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The length policy on top of the models' own tokenizers: empty input and input over the limit are
 * refused with a reason, or truncated to the limit keeping the final {@code [SEP]}.
 */
class TokenizerTest {
  /** Both built-in models have 512 position embeddings (checked in {@code OnnxBertReaderTest}). */
  private static final int POSITIONS = 512;

  private static final int CLS = 101;
  private static final int SEP = 102;
  private static final Map<String, Tokenizer> TOKENIZERS = new LinkedHashMap<>();

  @BeforeAll
  static void loadTokenizers() throws IOException {
    for (String name : ModelSpec.BUILT_IN) {
      try (InputStream json = ModelSpec.builtIn(name).openTokenizer()) {
        TOKENIZERS.put(name, Tokenizer.load(json, POSITIONS));
      }
    }
  }

  @AfterAll
  static void closeTokenizers() {
    TOKENIZERS.values().forEach(Tokenizer::close);
    TOKENIZERS.clear();
  }

  @Test
  void maxTokens_builtInModels_followTokenizerJsonAndPositions() throws IOException {
    assertEquals(512, TOKENIZERS.get("bge-small-en-v1.5").maxTokens(), "bge: its 512 positions");
    assertEquals(
        128, TOKENIZERS.get("all-minilm-l6-v2").maxTokens(), "MiniLM: its tokenizer.json says 128");
    try (InputStream json = ModelSpec.builtIn("bge-small-en-v1.5").openTokenizer();
        Tokenizer small = Tokenizer.load(json, 64)) {
      assertEquals(64, small.maxTokens(), "positions bound the limit when smaller");
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"bge-small-en-v1.5", "all-minilm-l6-v2"})
  void tokenize_shortText_specialTokensAndNoPadding(String name) {
    TokenizedInput in = TOKENIZERS.get(name).tokenize("hello world", -1, Truncation.REFUSE);
    assertArrayEquals(new int[] {CLS, 7592, 2088, SEP}, in.ids());
    assertEquals(4, in.length());
    assertEquals(4, in.originalTokens());
    assertFalse(in.truncated());
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"bge-small-en-v1.5", "all-minilm-l6-v2"})
  void tokenize_emptyOrBlank_refusedAsEmpty(String name) {
    Tokenizer tokenizer = TOKENIZERS.get(name);
    for (String text : Arrays.asList("", " ", "   \t\n\r  ", null, "\u200b\u200b")) {
      for (Truncation truncation : Truncation.values()) {
        InputRejectedException e =
            assertThrows(
                InputRejectedException.class,
                () -> tokenizer.tokenize(text, 3, truncation),
                "input " + quote(text));
        assertEquals(InputRejectedException.Reason.EMPTY, e.reason(), quote(text));
        assertEquals(3, e.index());
        assertTrue(e.getMessage().contains("input 3"), e.getMessage());
      }
    }
    InputRejectedException alone =
        assertThrows(
            InputRejectedException.class, () -> tokenizer.tokenize("", -1, Truncation.REFUSE));
    assertEquals(-1, alone.index());
    assertTrue(alone.getMessage().startsWith("input "), alone.getMessage());
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"bge-small-en-v1.5", "all-minilm-l6-v2"})
  void tokenize_overLimitWithRefuse_refusedAsTooLongNamingCountAndLimit(String name) {
    Tokenizer tokenizer = TOKENIZERS.get(name);
    int max = tokenizer.maxTokens();
    String text = "word ".repeat(max + 100);
    InputRejectedException e =
        assertThrows(
            InputRejectedException.class, () -> tokenizer.tokenize(text, 7, Truncation.REFUSE));
    assertEquals(InputRejectedException.Reason.TOO_LONG, e.reason());
    assertEquals(7, e.index());
    String message = e.getMessage();
    assertTrue(message.contains("input 7"), message);
    assertTrue(message.contains(" " + (max + 102) + " tokens"), "token count: " + message);
    assertTrue(message.contains("at most " + max), "limit: " + message);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"bge-small-en-v1.5", "all-minilm-l6-v2"})
  void tokenize_exactlyAtLimit_acceptedAndOneMoreRefused(String name) {
    Tokenizer tokenizer = TOKENIZERS.get(name);
    int max = tokenizer.maxTokens();
    TokenizedInput fits = tokenizer.tokenize("word ".repeat(max - 2), 0, Truncation.REFUSE);
    assertEquals(max, fits.length());
    assertEquals(max, fits.originalTokens());
    assertFalse(fits.truncated());
    InputRejectedException e =
        assertThrows(
            InputRejectedException.class,
            () -> tokenizer.tokenize("word ".repeat(max - 1), 0, Truncation.REFUSE));
    assertEquals(InputRejectedException.Reason.TOO_LONG, e.reason());
    assertTrue(e.getMessage().contains(" " + (max + 1) + " tokens"), e.getMessage());
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"bge-small-en-v1.5", "all-minilm-l6-v2"})
  void tokenize_overLimitWithTruncate_keepsPrefixEndingInSep(String name) throws IOException {
    Tokenizer tokenizer = TOKENIZERS.get(name);
    int max = tokenizer.maxTokens();
    String text = String.join(" ", TestData.texts("man/paragraphs.jsonl", 60));

    long[] full;
    try (InputStream json = ModelSpec.builtIn(name).openTokenizer();
        HuggingFaceTokenizer raw =
            HuggingFaceTokenizer.newInstance(
                json, Map.of("truncation", "false", "padding", "false"))) {
      full = raw.encode(text).getIds();
    }
    assertTrue(full.length > max + 10, "the text is over the limit: " + full.length);

    TokenizedInput in = tokenizer.tokenize(text, 0, Truncation.TRUNCATE);
    assertTrue(in.truncated());
    assertEquals(full.length, in.originalTokens(), "originalTokens counts the whole input");
    assertEquals(max, in.length());
    assertEquals(CLS, in.ids()[0]);
    assertEquals(SEP, in.ids()[max - 1], "ends in [SEP]");
    for (int i = 0; i < max - 1; i++) {
      assertEquals(full[i], in.ids()[i], "token " + i + " is the input's own");
    }
  }

  @Test
  void tokenizeList_refusedInput_reportsItsIndex() {
    Tokenizer tokenizer = TOKENIZERS.get("all-minilm-l6-v2");
    List<String> texts = List.of("fine", "also fine", "word ".repeat(200), " ");
    List<TokenizedInput> truncated = tokenizer.tokenize(texts.subList(0, 3), Truncation.TRUNCATE);
    assertEquals(
        List.of(false, false, true), truncated.stream().map(TokenizedInput::truncated).toList());

    InputRejectedException tooLong =
        assertThrows(
            InputRejectedException.class, () -> tokenizer.tokenize(texts, Truncation.REFUSE));
    assertEquals(InputRejectedException.Reason.TOO_LONG, tooLong.reason());
    assertEquals(2, tooLong.index());
    assertTrue(tooLong.getMessage().contains("input 2"), tooLong.getMessage());

    InputRejectedException empty =
        assertThrows(
            InputRejectedException.class, () -> tokenizer.tokenize(texts, Truncation.TRUNCATE));
    assertEquals(InputRejectedException.Reason.EMPTY, empty.reason());
    assertEquals(3, empty.index());
    assertTrue(empty.getMessage().contains("input 3"), empty.getMessage());
  }

  private static String quote(String s) {
    return s == null ? "null" : "\"" + s.replace("\n", "\\n").replace("\t", "\\t") + "\"";
  }
}
