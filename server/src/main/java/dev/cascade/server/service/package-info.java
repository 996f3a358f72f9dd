/**
 * The gRPC adapters: request validation, the Embedder service, flow-controlled event streams and
 * the bounded pool of engine workers they share.
 */
package dev.cascade.server.service;
