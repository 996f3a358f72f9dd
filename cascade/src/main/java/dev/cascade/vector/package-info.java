/**
 * Arithmetic on embedding vectors held as {@code float[]}, shared by the engine, tools and tests.
 */
package dev.cascade.vector;
