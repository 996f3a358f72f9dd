/** Retrieval quality of embeddings taken at each exit, against full depth. */
package dev.cascade.eval;
