/**
 * Confidence that an exit's embedding already agrees with the final layer's: a number in [0, 1]
 * computed from what is known at that exit.
 */
package dev.cascade.confidence;
