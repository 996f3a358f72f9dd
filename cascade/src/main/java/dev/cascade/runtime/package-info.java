/**
 * The cascade at run time: inputs go through the encoder layer by layer, exit heads and confidence
 * are evaluated at each exit, inputs stop as their profile allows, and every exit reached is
 * reported as an event.
 */
package dev.cascade.runtime;
