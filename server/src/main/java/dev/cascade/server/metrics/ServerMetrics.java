package dev.cascade.server.metrics;

import dev.cascade.policy.StopReason;
import dev.cascade.runtime.RunSummary;
import io.grpc.Status;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.Locale;
import java.util.function.IntSupplier;

/**
 * The server's Prometheus metrics, in a registry of their own. Names are listed in the README.
 *
 * <p>Thread-safe.
 */
public final class ServerMetrics {
  private static final double NANOS = 1e9;

  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final Counter requests =
      Counter.builder()
          .name("cascade_requests_total")
          .help("Embedder calls by method and gRPC status code.")
          .labelNames("method", "code")
          .register(registry);
  private final Histogram latency =
      Histogram.builder()
          .name("cascade_request_duration_seconds")
          .help("Embedder call latency by method, from the call's start to its status.")
          .labelNames("method")
          .classicOnly()
          .classicExponentialUpperBounds(0.001, 2, 16)
          .register(registry);
  private final Histogram queueWait =
      Histogram.builder()
          .name("cascade_queue_wait_seconds")
          .help("Time from a request's admission to its first layer step.")
          .classicOnly()
          .classicExponentialUpperBounds(0.0005, 2, 16)
          .register(registry);
  private final Histogram compute =
      Histogram.builder()
          .name("cascade_compute_seconds")
          .help("Time from a request's first layer step to its end.")
          .classicOnly()
          .classicExponentialUpperBounds(0.001, 2, 16)
          .register(registry);
  private final Counter inputs =
      Counter.builder()
          .name("cascade_inputs_total")
          .help("Inputs embedded, by the layer they exited at and why they stopped there.")
          .labelNames("exit_layer", "reason")
          .register(registry);
  private final Counter layersComputed =
      Counter.builder()
          .name("cascade_layers_computed_total")
          .help("Encoder layers computed, summed over inputs.")
          .register(registry);
  private final Counter layersSaved =
      Counter.builder()
          .name("cascade_layers_saved_total")
          .help("Encoder layers not computed because inputs exited early or were stopped.")
          .register(registry);
  private final Counter tokens =
      Counter.builder()
          .name("cascade_tokens_total")
          .help("Tokens of the inputs computed, as the model saw them.")
          .register(registry);
  private final Counter truncated =
      Counter.builder()
          .name("cascade_truncated_inputs_total")
          .help("Inputs cut to fit the model.")
          .register(registry);
  private final Counter dropped =
      Counter.builder()
          .name("cascade_requests_dropped_total")
          .help("Requests dropped while queued, without compute, by reason.")
          .labelNames("reason")
          .register(registry);
  private final Counter stopped =
      Counter.builder()
          .name("cascade_runs_stopped_total")
          .help("Requests whose compute stopped part-way, by reason.")
          .labelNames("reason")
          .register(registry);
  private final Counter steps =
      Counter.builder()
          .name("cascade_steps_total")
          .help("Layer steps run by the scheduler.")
          .register(registry);
  private final Histogram stepInputs =
      Histogram.builder()
          .name("cascade_step_inputs")
          .help("Inputs in one layer step, from every request that shared it.")
          .classicOnly()
          .classicExponentialUpperBounds(1, 2, 10)
          .register(registry);
  private final Histogram stepTokens =
      Histogram.builder()
          .name("cascade_step_tokens")
          .help("Tokens computed in one layer step.")
          .classicOnly()
          .classicExponentialUpperBounds(8, 2, 12)
          .register(registry);
  private final Counter stalls =
      Counter.builder()
          .name("cascade_stream_stalls_total")
          .help(
              "Times a streaming request's inputs were held back because its client was not reading.")
          .register(registry);

  /** The registry, for export. */
  public PrometheusRegistry registry() {
    return registry;
  }

  /** Registers gauges that read the scheduler: requests in flight, inputs waiting, busy workers. */
  public void watchQueue(IntSupplier requests, IntSupplier waitingInputs, IntSupplier busy) {
    GaugeWithCallback.builder()
        .name("cascade_requests_in_flight")
        .help("Requests admitted to the scheduler and not finished.")
        .callback(cb -> cb.call(requests.getAsInt()))
        .register(registry);
    GaugeWithCallback.builder()
        .name("cascade_inputs_waiting")
        .help("Inputs waiting for their next layer.")
        .callback(cb -> cb.call(waitingInputs.getAsInt()))
        .register(registry);
    GaugeWithCallback.builder()
        .name("cascade_workers_busy")
        .help("Engine workers running a step.")
        .callback(cb -> cb.call(busy.getAsInt()))
        .register(registry);
  }

  /** The scheduler ran one layer for {@code inputs} inputs of {@code tokenCount} tokens. */
  public void step(int layer, int inputs, long tokenCount) {
    steps.inc();
    stepInputs.observe(inputs);
    stepTokens.observe(tokenCount);
  }

  /** One Embedder call ended with {@code status} after {@code nanos}. */
  public void call(String method, Status.Code code, long nanos) {
    requests.labelValues(method, code.name()).inc();
    latency.labelValues(method).observe(nanos / NANOS);
  }

  /** One request ran on the engine. */
  public void run(RunSummary summary, long tokenCount, long queueNanos, long computeNanos) {
    queueWait.observe(queueNanos / NANOS);
    compute.observe(computeNanos / NANOS);
    layersComputed.inc(summary.layersComputed());
    layersSaved.inc(summary.layersSaved());
    tokens.inc(tokenCount);
    if (summary.stopped() != null) {
      stopped.labelValues(label(summary.stopped())).inc();
    }
  }

  /** One input stopped at {@code layer}. */
  public void exit(int layer, StopReason reason, boolean wasTruncated) {
    inputs.labelValues(Integer.toString(layer), label(reason)).inc();
    if (wasTruncated) {
      truncated.inc();
    }
  }

  /** One request was dropped from the queue before compute. */
  public void dropped(StopReason reason) {
    dropped.labelValues(label(reason)).inc();
  }

  /** A streaming request's inputs were held back for a slow client. */
  public void stall() {
    stalls.inc();
  }

  public long layersComputed() {
    return layersComputed.getLongValue();
  }

  public long droppedCount(StopReason reason) {
    return (long) dropped.labelValues(label(reason)).get();
  }

  public long stoppedCount(StopReason reason) {
    return (long) stopped.labelValues(label(reason)).get();
  }

  public long stepCount() {
    return steps.getLongValue();
  }

  /** Tokens summed over every step so far, rows computed for stopped inputs included. */
  public double stepTokensSum() {
    return stepTokens.collect().getDataPoints().get(0).getSum();
  }

  /** Inputs summed over every step so far. */
  public double stepInputsSum() {
    return stepInputs.collect().getDataPoints().get(0).getSum();
  }

  public long stallCount() {
    return stalls.getLongValue();
  }

  public long callCount(String method, Status.Code code) {
    return (long) requests.labelValues(method, code.name()).get();
  }

  public long inputCount(int layer, StopReason reason) {
    return (long) inputs.labelValues(Integer.toString(layer), label(reason)).get();
  }

  private static String label(StopReason reason) {
    return reason.name().toLowerCase(Locale.ROOT);
  }
}
