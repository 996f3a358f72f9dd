/**
 * Threshold tuning with a statistical guarantee: traces of calibration inputs at every exit, a risk
 * definition, and Learn-then-Test certification of the most aggressive safe threshold.
 */
package dev.cascade.tune;
