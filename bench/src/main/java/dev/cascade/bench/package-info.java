/**
 * Benchmarks of the engine, run as commands: the TensorFlow encoder against ONNX Runtime on the
 * same model and the same token ids.
 */
package dev.cascade.bench;
