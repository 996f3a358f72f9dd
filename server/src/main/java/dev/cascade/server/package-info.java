/**
 * The Cascade gRPC server: its lifecycle (start, warm-up, drain), its limits, and the transport it
 * listens on.
 */
package dev.cascade.server;
