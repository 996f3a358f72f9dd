/**
 * Reading texts and retrieval sets: JSONL or plain-text corpora, queries and relevance judgements.
 */
package dev.cascade.data;
