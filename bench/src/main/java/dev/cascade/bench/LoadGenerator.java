package dev.cascade.bench;

import dev.cascade.api.v1.EmbedEvent;
import dev.cascade.api.v1.EmbedRequest;
import dev.cascade.api.v1.EmbedResponse;
import dev.cascade.api.v1.EmbedderGrpc;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Closed-loop load on any Embedder server: each of N clients sends single-input {@code Embed}
 * requests one after another, over a few shared HTTP/2 connections, and the latencies of the
 * requests that start inside the timed window are kept.
 *
 * <p>{@link #close()} shuts the connections.
 */
final class LoadGenerator implements AutoCloseable {
  private static final long DEADLINE_SECONDS = 120;

  /**
   * One closed-loop run.
   *
   * @param clients concurrent clients
   * @param seconds length of the timed window
   * @param latenciesMs every timed request's latency
   * @param errors requests that failed, with the first failure's status
   * @param meanLayers layers computed per input, averaged over timed requests
   */
  record Run(
      int clients,
      double seconds,
      double[] latenciesMs,
      long errors,
      String firstError,
      double meanLayers) {

    double requestsPerSecond() {
      return latenciesMs.length / seconds;
    }

    double p50() {
      return Samples.percentile(latenciesMs, 50);
    }

    double p99() {
      return Samples.percentile(latenciesMs, 99);
    }
  }

  /** Times of one streaming call: to its first event and to its final one. */
  record StreamTiming(double firstMs, double finalMs, int events) {}

  private final List<ManagedChannel> channels = new ArrayList<>();

  /** Connects to {@code host:port} in plain text with {@code connections} HTTP/2 connections. */
  LoadGenerator(String target, int connections) {
    for (int i = 0; i < connections; i++) {
      channels.add(
          NettyChannelBuilder.forTarget(target)
              .usePlaintext()
              .maxInboundMessageSize(16 << 20)
              .build());
    }
  }

  private EmbedderGrpc.EmbedderBlockingStub stub(int client) {
    return EmbedderGrpc.newBlockingStub(channels.get(client % channels.size()))
        .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS);
  }

  /**
   * Runs {@code clients} closed-loop clients over {@code texts} (each client starts at its own
   * offset and cycles) for {@code warmupSeconds} untimed, then {@code seconds} timed.
   */
  Run closedLoop(
      List<String> texts, String profile, int clients, double warmupSeconds, double seconds)
      throws InterruptedException {
    long start = System.nanoTime();
    long timedFrom = start + (long) (warmupSeconds * 1e9);
    long timedTo = timedFrom + (long) (seconds * 1e9);
    List<List<Double>> latencies = new ArrayList<>();
    AtomicLong errors = new AtomicLong();
    AtomicLong layers = new AtomicLong();
    AtomicLong timedInputs = new AtomicLong();
    String[] firstError = new String[1];
    List<Thread> threads = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      List<Double> mine = new ArrayList<>();
      latencies.add(mine);
      int client = c;
      Thread t =
          new Thread(
              () -> {
                int i = client * Math.max(1, texts.size() / clients);
                while (true) {
                  long sent = System.nanoTime();
                  if (sent >= timedTo) {
                    return;
                  }
                  EmbedRequest request =
                      EmbedRequest.newBuilder()
                          .addInputs(texts.get(i++ % texts.size()))
                          .setProfile(profile)
                          .setTruncate(true)
                          .build();
                  try {
                    EmbedResponse response = stub(client).embed(request);
                    if (sent >= timedFrom) {
                      mine.add((System.nanoTime() - sent) / 1e6);
                      layers.addAndGet(response.getLayersComputed());
                      timedInputs.addAndGet(response.getEmbeddingsCount());
                    }
                  } catch (StatusRuntimeException e) {
                    errors.incrementAndGet();
                    synchronized (firstError) {
                      if (firstError[0] == null) {
                        firstError[0] = e.getStatus().toString();
                      }
                    }
                  }
                }
              },
              "load-" + c);
      threads.add(t);
      t.start();
    }
    for (Thread t : threads) {
      t.join();
    }
    double[] all =
        latencies.stream().flatMap(List::stream).mapToDouble(Double::doubleValue).toArray();
    return new Run(
        clients,
        seconds,
        all,
        errors.get(),
        firstError[0],
        timedInputs.get() == 0 ? Double.NaN : (double) layers.get() / timedInputs.get());
  }

  /**
   * Embeds every text once, {@code clients} requests at a time, each a single input.
   *
   * @return the final embedding of each text, by its index
   */
  Map<Integer, float[]> embedAll(List<String> texts, String profile, int clients)
      throws InterruptedException {
    Map<Integer, float[]> out = new ConcurrentHashMap<>();
    AtomicLong next = new AtomicLong();
    List<Thread> threads = new ArrayList<>();
    RuntimeException[] failure = new RuntimeException[1];
    for (int c = 0; c < clients; c++) {
      int client = c;
      Thread t =
          new Thread(
              () -> {
                for (int i = (int) next.getAndIncrement();
                    i < texts.size();
                    i = (int) next.getAndIncrement()) {
                  try {
                    EmbedResponse r =
                        stub(client)
                            .embed(
                                EmbedRequest.newBuilder()
                                    .addInputs(texts.get(i))
                                    .setProfile(profile)
                                    .setTruncate(true)
                                    .build());
                    List<Float> values = r.getEmbeddings(0).getEmbeddingList();
                    float[] v = new float[values.size()];
                    for (int k = 0; k < v.length; k++) {
                      v[k] = values.get(k);
                    }
                    out.put(i, v);
                  } catch (RuntimeException e) {
                    synchronized (failure) {
                      failure[0] = e;
                    }
                    return;
                  }
                }
              },
              "embed-all-" + c);
      threads.add(t);
      t.start();
    }
    for (Thread t : threads) {
      t.join();
    }
    if (failure[0] != null) {
      throw failure[0];
    }
    return out;
  }

  /** One {@code EmbedStream} call for a single input: time to its first and final events. */
  StreamTiming stream(String text, String profile) {
    long start = System.nanoTime();
    Iterator<EmbedEvent> events =
        stub(0)
            .embedStream(
                EmbedRequest.newBuilder()
                    .addInputs(text)
                    .setProfile(profile)
                    .setTruncate(true)
                    .build());
    double first = Double.NaN;
    double last = Double.NaN;
    int count = 0;
    while (events.hasNext()) {
      EmbedEvent e = events.next();
      double at = (System.nanoTime() - start) / 1e6;
      if (count++ == 0) {
        first = at;
      }
      if (e.getFinal()) {
        last = at;
      }
    }
    return new StreamTiming(first, last, count);
  }

  @Override
  public void close() throws InterruptedException {
    for (ManagedChannel c : channels) {
      c.shutdownNow();
    }
    for (ManagedChannel c : channels) {
      c.awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
