package dev.cascade.bench;

import dev.cascade.tokenize.TokenizedInput;
import java.util.List;
import java.util.function.Function;

/**
 * One way to embed a batch, under the name it is reported by.
 *
 * @param name short label for tables
 * @param encode pooled, L2-normalised embeddings of one batch
 */
record Contender(String name, Function<List<TokenizedInput>, float[][]> encode) {}
