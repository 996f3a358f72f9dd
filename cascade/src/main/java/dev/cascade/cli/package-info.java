/** Command-line tools over the engine: inspect a model layer by layer. */
package dev.cascade.cli;
