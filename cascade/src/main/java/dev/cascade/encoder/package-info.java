/**
 * The layer-by-layer encoder: a BERT-family transformer in a TensorFlow graph whose batches are
 * started, advanced one layer at a time, pooled at any layer and shrunk as inputs finish.
 */
package dev.cascade.encoder;
