/**
 * Encoder models: where a checkpoint comes from, its hyper-parameters, and its weights read out of
 * an ONNX export without ONNX Runtime.
 */
package dev.cascade.model;
