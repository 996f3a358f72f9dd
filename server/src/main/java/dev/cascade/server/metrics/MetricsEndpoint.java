package dev.cascade.server.metrics;

import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import java.io.IOException;

/** Serves {@code /metrics} in the Prometheus text format over HTTP. Closing stops it. */
public final class MetricsEndpoint implements AutoCloseable {
  private final HTTPServer server;

  private MetricsEndpoint(HTTPServer server) {
    this.server = server;
  }

  /**
   * Starts serving.
   *
   * @param port the port, or 0 for any free one (see {@link #port()})
   */
  public static MetricsEndpoint start(ServerMetrics metrics, String host, int port)
      throws IOException {
    return new MetricsEndpoint(
        HTTPServer.builder()
            .hostname(host)
            .port(port)
            .registry(metrics.registry())
            .buildAndStart());
  }

  public int port() {
    return server.getPort();
  }

  @Override
  public void close() {
    server.close();
  }
}
