package dev.cascade.server;

import dev.cascade.runtime.CascadeRuntime;
import dev.cascade.server.metrics.ServerMetrics;
import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.IOException;

/**
 * A started {@link CascadeServer} on the in-process transport, with its own metrics and a channel
 * to it, both on the caller's thread ({@code directExecutor}). Closing shuts the channel down and
 * stops the server.
 */
public record InProcessServer(CascadeServer server, ServerMetrics metrics, ManagedChannel channel)
    implements AutoCloseable {

  /** Starts a server on {@code runtime} under a fresh name; it is not warmed up. */
  public static InProcessServer start(CascadeRuntime runtime, ServerOptions options)
      throws IOException {
    String name = InProcessServerBuilder.generateName();
    ServerMetrics metrics = new ServerMetrics();
    CascadeServer server =
        new CascadeServer(
                InProcessServerBuilder.forName(name).directExecutor(), runtime, options, metrics)
            .start();
    ManagedChannel channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    return new InProcessServer(server, metrics, channel);
  }

  @Override
  public void close() throws InterruptedException {
    channel.shutdownNow();
    server.stop();
  }
}
