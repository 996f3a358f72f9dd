/**
 * Text to token ids with the model's own Hugging Face tokenizer, with explicit handling of input
 * that is empty or longer than the model accepts.
 */
package dev.cascade.tokenize;
