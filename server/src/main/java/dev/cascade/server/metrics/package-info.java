/** Prometheus metrics of the server and the HTTP endpoint that exposes them. */
package dev.cascade.server.metrics;
