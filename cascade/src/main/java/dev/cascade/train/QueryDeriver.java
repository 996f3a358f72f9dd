package dev.cascade.train;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Derives short, query-like texts from a document, so that heads trained on documents alone also
 * see the short inputs that queries are.
 *
 * <p>From a code document (a text with a declaration such as {@code int read(byte[] b) {}) it
 * derives:
 *
 * <ul>
 *   <li>a sentence describing the declaration, in the way API documentation summarises a method:
 *       the name's first word as a verb, the other words as its object, the parameter types or
 *       names, and sometimes the returned type or a thrown exception ({@code "Reads the given byte
 *       array, returning an int."});
 *   <li>the words of the declared name and of its parameter names, camelCase split and lower-cased
 *       ({@code "read b"});
 * </ul>
 *
 * From prose it derives the first sentence, at most 24 words, and, where that sentence opens with a
 * subject and a verb, the clause after the subject with the verb in its base form, as man-page
 * summaries read ({@code "The ls command lists files, sorted."} gives {@code "list files"}). From
 * both, a span of 6 to 14 consecutive words from a random position.
 *
 * <p>Deterministic for a given {@link Random}.
 */
public final class QueryDeriver {
  private static final Pattern DECLARATION =
      Pattern.compile("([A-Za-z_$][A-Za-z0-9_$]*)\\s*\\(([^)]*)\\)\\s*(throws [^{]*)?\\{");
  private static final Pattern CAMEL =
      Pattern.compile("(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|_");
  private static final Pattern SENTENCE_END = Pattern.compile("(?<=[.!?])\\s+|\\n\\s*\\n");
  private static final Pattern THROWN = Pattern.compile("throw new ([A-Z][A-Za-z0-9_]*)");
  private static final Pattern SUBJECT =
      Pattern.compile(
          "^(?:(?:The|This|These|A|An)\\s+)?(?:\\S+\\s+){0,3}?"
              + "(?:(?:command|function|system call|call|program|utility|macro|interface|routine|"
              + "library|daemon|tool)s?\\s+)?(?!is\\b|was\\b|has\\b|does\\b)([a-z]+s)\\s+");
  private static final Set<String> CODE_VERBS =
      Set.of(
          ("accept add append apply build check clear close collect compare compute "
                  + "contains convert copy count create decode delete encode ensure equals escape "
                  + "fill filter find flush format handle init insert invoke join load lookup make "
                  + "map match merge move normalize parse peek pop process push put read register "
                  + "reject remove replace reset resolve retain reverse rotate round run scan select "
                  + "set shift skip sort split start stop strip swap test transform trim truncate "
                  + "unescape update validate visit wrap write ")
              .trim()
              .split(" "));
  private static final Set<String> MODIFIERS =
      Set.of("public", "protected", "private", "static", "final", "synchronized", "abstract");
  private static final Map<String, String> VERBS =
      Map.ofEntries(
          Map.entry("get", "Gets"),
          Map.entry("is", "Checks if it is"),
          Map.entry("has", "Checks whether it has"),
          Map.entry("can", "Checks whether it can"),
          Map.entry("should", "Checks whether it should"),
          Map.entry("to", "Converts to"),
          Map.entry("as", "Returns as"),
          Map.entry("new", "Creates a new"),
          Map.entry("of", "Creates from"),
          Map.entry("do", "Does"),
          Map.entry("on", "Handles"));

  /** How the texts are derived, in a sentence, for the heads file's training record. */
  public static final String DESCRIPTION =
      "per document: for code, an API-doc style sentence from the declaration (verb, object,"
          + " parameter types, returned type, thrown exception) and the declared name's and"
          + " parameters' words; for prose, the first sentence and its clause without the"
          + " subject, verb in the base form; and a random span of 6-14 words";

  private QueryDeriver() {}

  /** The derived texts of {@code text}; empty when it has too few words. */
  public static List<String> derive(String text, Random random) {
    List<String> out = new ArrayList<>();
    Matcher declaration = DECLARATION.matcher(text);
    if (looksLikeCode(text) && declaration.find()) {
      String name = declaration.group(1);
      List<Parameter> parameters = parameters(declaration.group(2));
      String returned = returnType(text.substring(0, declaration.start()));
      out.add(sentence(name, parameters, returned, thrown(text), random));
      StringBuilder words = new StringBuilder(words(name));
      for (Parameter parameter : parameters) {
        words.append(' ').append(words(parameter.name()));
      }
      out.add(words.toString().trim());
    } else {
      String first = limitWords(SENTENCE_END.split(text.strip(), 2)[0], 24);
      out.add(first);
      Matcher subject = SUBJECT.matcher(first);
      if (subject.find()) {
        String clause = first.substring(subject.end()).split("[,;:.(]", 2)[0].trim();
        if (!clause.isEmpty()) {
          out.add(limitWords(baseForm(subject.group(1)) + " " + clause, 14));
        }
      }
    }
    String[] tokens = text.strip().split("\\s+");
    if (tokens.length >= 10) {
      int length = 6 + random.nextInt(9);
      int start = random.nextInt(Math.max(1, tokens.length - length));
      out.add(
          String.join(
              " ", Arrays.copyOfRange(tokens, start, Math.min(tokens.length, start + length))));
    }
    out.removeIf(s -> s.isBlank() || s.equals(text.strip()));
    return out;
  }

  private record Parameter(String type, String name) {}

  private static String sentence(
      String name, List<Parameter> parameters, String returned, String thrown, Random random) {
    String[] words = CAMEL.split(name);
    String first = words[0].toLowerCase(Locale.ROOT);
    String rest =
        String.join(" ", Arrays.copyOfRange(words, 1, words.length))
            .toLowerCase(Locale.ROOT)
            .trim();
    StringBuilder out = new StringBuilder();
    boolean verb = VERBS.containsKey(first) || CODE_VERBS.contains(first);
    if (returned == null) {
      out.append("Constructs a ").append(words(name));
      rest = "";
    } else if (!verb && !"void".equals(returned) && !"boolean".equals(returned)) {
      out.append("Returns the ").append(words(name));
      rest = "";
    } else if ("boolean".equals(returned) && !VERBS.containsKey(first) && random.nextBoolean()) {
      out.append("Returns true if it ").append(thirdPerson(first));
    } else {
      out.append(VERBS.getOrDefault(first, capitalise(thirdPerson(first))));
    }
    if (!rest.isEmpty()) {
      out.append(random.nextBoolean() ? " the " : " ").append(rest);
    }
    if (!parameters.isEmpty()) {
      boolean types = random.nextInt(3) > 0;
      List<String> named = new ArrayList<>();
      for (Parameter parameter : parameters) {
        named.add(types ? typeWords(parameter.type()) : words(parameter.name()));
      }
      out.append(
          rest.isEmpty() && verb
              ? " the given "
              : random.nextBoolean() ? " of the " : " from the ");
      out.append(joinAnd(named));
    }
    if (returned != null
        && out.indexOf("Returns") != 0
        && !"void".equals(returned)
        && !"boolean".equals(returned)
        && random.nextInt(3) == 0) {
      out.append(", returning ").append(article(typeWords(returned)));
    }
    if (thrown != null && random.nextBoolean()) {
      out.append(", throwing ").append(thrown);
    }
    return out.append('.').toString();
  }

  private static List<Parameter> parameters(String list) {
    List<Parameter> out = new ArrayList<>();
    int depth = 0;
    int start = 0;
    for (int i = 0; i <= list.length(); i++) {
      char c = i < list.length() ? list.charAt(i) : ',';
      if (c == '<') {
        depth++;
      } else if (c == '>') {
        depth--;
      } else if (c == ',' && depth == 0) {
        String parameter = list.substring(start, i).replaceAll("@\\w+|\\bfinal\\b", "").trim();
        int split = parameter.lastIndexOf(' ');
        if (split > 0) {
          out.add(
              new Parameter(
                  parameter.substring(0, split).trim(),
                  parameter.substring(split + 1).replaceAll("[^A-Za-z0-9_]", "")));
        }
        start = i + 1;
      }
    }
    return out;
  }

  private static String returnType(String beforeName) {
    String line = beforeName.substring(beforeName.lastIndexOf('\n') + 1).trim();
    String stripped = line.replaceAll("<[^<>]*(<[^<>]*>[^<>]*)*>", "").trim();
    String[] parts = stripped.split("\\s+");
    if (parts.length == 0 || parts[parts.length - 1].isEmpty()) {
      return null;
    }
    String type = parts[parts.length - 1];
    return Character.isLetter(type.charAt(0)) && !MODIFIERS.contains(type) ? type : null;
  }

  private static String thrown(String text) {
    Matcher thrown = THROWN.matcher(text);
    return thrown.find() ? thrown.group(1) : null;
  }

  private static String typeWords(String type) {
    String base = type.replaceAll("<.*>", "").replace("...", "[]").trim();
    int arrays = 0;
    while (base.endsWith("[]")) {
      base = base.substring(0, base.length() - 2).trim();
      arrays++;
    }
    base = base.substring(base.lastIndexOf('.') + 1);
    return arrays > 0 ? base + " array" : base;
  }

  private static String thirdPerson(String verb) {
    if (verb.endsWith("s") && !verb.endsWith("ss")) {
      return verb;
    }
    if (verb.endsWith("ss")
        || verb.endsWith("x")
        || verb.endsWith("ch")
        || verb.endsWith("sh")
        || verb.endsWith("z")) {
      return verb + "es";
    }
    if (verb.length() > 1
        && verb.endsWith("y")
        && "aeiou".indexOf(verb.charAt(verb.length() - 2)) < 0) {
      return verb.substring(0, verb.length() - 1) + "ies";
    }
    return verb + "s";
  }

  private static String article(String noun) {
    return ("aeiouAEIOU".indexOf(noun.charAt(0)) >= 0 ? "an " : "a ") + noun;
  }

  private static String joinAnd(List<String> items) {
    if (items.size() == 1) {
      return items.get(0);
    }
    return String.join(", ", items.subList(0, items.size() - 1))
        + " and "
        + items.get(items.size() - 1);
  }

  private static String capitalise(String word) {
    return word.isEmpty() ? word : Character.toUpperCase(word.charAt(0)) + word.substring(1);
  }

  private static boolean looksLikeCode(String text) {
    return text.contains("{") && text.contains("(") && (text.contains(";") || text.contains("}"));
  }

  private static String words(String identifier) {
    return String.join(" ", CAMEL.split(identifier)).toLowerCase(Locale.ROOT).trim();
  }

  private static String limitWords(String text, int max) {
    String[] words = text.split("\\s+");
    return words.length <= max ? text : String.join(" ", Arrays.copyOf(words, max));
  }

  private static String baseForm(String verb) {
    if (verb.endsWith("ies")) {
      return verb.substring(0, verb.length() - 3) + "y";
    }
    if (verb.endsWith("sses")
        || verb.endsWith("ches")
        || verb.endsWith("shes")
        || verb.endsWith("xes")) {
      return verb.substring(0, verb.length() - 2);
    }
    return verb.endsWith("ss") ? verb : verb.substring(0, verb.length() - 1);
  }
}
