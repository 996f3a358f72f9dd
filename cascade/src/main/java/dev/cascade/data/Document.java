package dev.cascade.data;

/**
 * One text of a corpus or query set.
 *
 * @param id its identifier (the line number when the file has none)
 * @param text the text
 * @param source where it came from, when the file says (for example a man page), else empty
 */
public record Document(String id, String text, String source) {}
