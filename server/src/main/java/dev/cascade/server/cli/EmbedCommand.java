package dev.cascade.server.cli;

import dev.cascade.api.v1.EmbedEvent;
import dev.cascade.api.v1.EmbedRequest;
import dev.cascade.api.v1.EmbedderGrpc;
import dev.cascade.api.v1.GetModelInfoRequest;
import dev.cascade.api.v1.ModelInfo;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.io.PrintWriter;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code cascade embed TEXT...}: a terminal client that streams each text's exits from a server as
 * they arrive, with the layer, the confidence and the time since the request was sent.
 */
@Command(
    name = "embed",
    mixinStandardHelpOptions = true,
    description = "Stream the exits of texts from a running server, as they arrive.")
public final class EmbedCommand implements Callable<Integer> {
  @Option(
      names = {"-t", "--target"},
      defaultValue = "localhost:50051",
      description = "Server address. Default: ${DEFAULT-VALUE}.")
  String target;

  @Option(names = "--profile", defaultValue = "", description = "Profile (default: the server's).")
  String profile;

  @Option(names = "--min-exit", defaultValue = "0", description = "Lowest layer to stop at.")
  int minExit;

  @Option(names = "--max-exit", defaultValue = "0", description = "Highest layer to stop at.")
  int maxExit;

  @Option(names = "--truncate", description = "Cut over-length texts instead of refusing them.")
  boolean truncate;

  @Option(
      names = "--timeout",
      defaultValue = "30",
      description = "Deadline in seconds. Default: ${DEFAULT-VALUE}.")
  long timeoutSeconds;

  @Parameters(arity = "1..*", paramLabel = "TEXT", description = "Texts to embed.")
  List<String> texts;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    ManagedChannel channel =
        Grpc.newChannelBuilder(target, InsecureChannelCredentials.create()).build();
    try {
      EmbedderGrpc.EmbedderBlockingStub stub =
          EmbedderGrpc.newBlockingStub(channel).withDeadlineAfter(timeoutSeconds, TimeUnit.SECONDS);
      ModelInfo info = stub.getModelInfo(GetModelInfoRequest.getDefaultInstance());
      out.printf(
          "%s at %s: %d layers, %d-d, exits %s, profile %s%n%n",
          info.getModel(),
          target,
          info.getLayers(),
          info.getHiddenSize(),
          info.getExitLayersList(),
          profile.isEmpty() ? info.getDefaultProfile() : profile);
      out.printf("%5s  %5s  %10s  %9s%n", "input", "layer", "confidence", "ms");
      out.flush();
      long start = System.nanoTime();
      Iterator<EmbedEvent> events =
          stub.embedStream(
              EmbedRequest.newBuilder()
                  .addAllInputs(texts)
                  .setProfile(profile)
                  .setMinExitLayer(minExit)
                  .setMaxExitLayer(maxExit)
                  .setTruncate(truncate)
                  .build());
      while (events.hasNext()) {
        EmbedEvent e = events.next();
        double ms = (System.nanoTime() - start) / 1e6;
        out.printf(
            Locale.ROOT,
            "%5d  %5d  %10.4f  %9.1f%s%n",
            e.getInputIndex(),
            e.getLayer(),
            e.getConfidence(),
            ms,
            e.getFinal()
                ? String.format(
                    Locale.ROOT,
                    "  final: %s, %d tokens%s, %d of %d layers",
                    e.getReason(),
                    e.getTokens(),
                    e.getTruncated() ? " (truncated)" : "",
                    e.getLayer(),
                    info.getLayers())
                : "");
        out.flush();
      }
      return 0;
    } catch (StatusRuntimeException e) {
      spec.commandLine()
          .getErr()
          .println("error: " + e.getStatus().getCode() + ": " + e.getStatus().getDescription());
      return 1;
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
