/**
 * Self-distillation of exit heads: the model's own final embedding teaches heads on its earlier
 * layers, with the backbone frozen and no labels.
 */
package dev.cascade.train;
