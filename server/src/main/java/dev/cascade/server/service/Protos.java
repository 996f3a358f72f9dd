package dev.cascade.server.service;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.Duration;
import com.google.protobuf.ListValue;
import com.google.protobuf.NullValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.cascade.api.v1.EmbedEvent;
import dev.cascade.api.v1.Embedding;
import dev.cascade.api.v1.ModelInfo;
import dev.cascade.api.v1.ProfileInfo;
import dev.cascade.api.v1.StopReason;
import dev.cascade.model.BertConfig;
import dev.cascade.policy.Profile;
import dev.cascade.runtime.CascadeRuntime;
import dev.cascade.runtime.ExitEvent;
import dev.cascade.server.ServerOptions;
import java.util.Arrays;
import java.util.Locale;

/** Conversions from engine values to API messages. */
final class Protos {
  private Protos() {}

  static EmbedEvent event(String requestId, ExitEvent e, int dimensions, long elapsedNanos) {
    EmbedEvent.Builder b =
        EmbedEvent.newBuilder()
            .setRequestId(requestId)
            .setInputIndex(e.input())
            .setLayer(e.layer())
            .setConfidence((float) e.confidence())
            .setFinal(e.isFinal())
            .setReason(reason(e.reason()))
            .setTokens(e.tokens())
            .setTruncated(e.truncated())
            .setElapsed(duration(elapsedNanos));
    for (float v : project(e.embedding(), dimensions)) {
      b.addEmbedding(v);
    }
    return b.build();
  }

  static Embedding embedding(ExitEvent e, int dimensions) {
    Embedding.Builder b =
        Embedding.newBuilder()
            .setInputIndex(e.input())
            .setLayer(e.layer())
            .setConfidence((float) e.confidence())
            .setReason(reason(e.reason()))
            .setTokens(e.tokens())
            .setTruncated(e.truncated());
    for (float v : project(e.embedding(), dimensions)) {
      b.addEmbedding(v);
    }
    return b.build();
  }

  /** The first {@code dimensions} values, re-normalised to unit length; all when 0. */
  static float[] project(float[] embedding, int dimensions) {
    if (dimensions == 0 || dimensions >= embedding.length) {
      return embedding;
    }
    float[] out = Arrays.copyOf(embedding, dimensions);
    double norm = 0;
    for (float v : out) {
      norm += (double) v * v;
    }
    norm = Math.sqrt(norm);
    if (norm > 0) {
      for (int i = 0; i < out.length; i++) {
        out[i] = (float) (out[i] / norm);
      }
    }
    return out;
  }

  static StopReason reason(dev.cascade.policy.StopReason reason) {
    if (reason == null) {
      return StopReason.STOP_REASON_UNSPECIFIED;
    }
    return switch (reason) {
      case CONFIDENT -> StopReason.CONFIDENT;
      case MAX_EXIT -> StopReason.MAX_EXIT;
      case LAST_LAYER -> StopReason.LAST_LAYER;
      case CANCELLED, DEADLINE_EXCEEDED ->
          throw new IllegalStateException("inputs stopped by " + reason + " have no final event");
    };
  }

  static Duration duration(long nanos) {
    return Duration.newBuilder()
        .setSeconds(nanos / 1_000_000_000L)
        .setNanos((int) (nanos % 1_000_000_000L))
        .build();
  }

  static ModelInfo modelInfo(CascadeRuntime runtime, ServerOptions options) {
    BertConfig config = runtime.model().encoder().config();
    ModelInfo.Builder b =
        ModelInfo.newBuilder()
            .setModel(runtime.model().spec().name())
            .setWeightsSha256(runtime.model().checksum())
            .setLayers(config.layers())
            .setHiddenSize(config.hiddenSize())
            .setMaxTokens(runtime.model().tokenizer().maxTokens())
            .setDefaultProfile(runtime.defaultProfile())
            .setMaxInputsPerRequest(options.maxInputsPerRequest())
            .setMaxCharsPerInput(options.maxCharsPerInput())
            .setPooling(runtime.model().spec().pooling().name().toLowerCase(Locale.ROOT));
    for (int layer : runtime.engine().exitLayers()) {
      b.addExitLayers(layer);
    }
    runtime.profiles().values().stream()
        .sorted((x, y) -> x.name().compareTo(y.name()))
        .forEach(p -> b.addProfiles(profile(p)));
    return b.build();
  }

  private static ProfileInfo profile(Profile p) {
    ProfileInfo.Builder b =
        ProfileInfo.newBuilder()
            .setName(p.name())
            .setDescription(p.description())
            .setTunedFor(struct(p.tunedFor()));
    for (int exit : p.exits()) {
      b.addExits(exit);
    }
    if (!Double.isNaN(p.meanLayers())) {
      b.setMeanLayers(p.meanLayers());
    }
    return b.build();
  }

  private static Struct struct(JsonNode json) {
    Struct.Builder b = Struct.newBuilder();
    if (json != null && json.isObject()) {
      json.fields().forEachRemaining(f -> b.putFields(f.getKey(), value(f.getValue())));
    }
    return b.build();
  }

  private static Value value(JsonNode json) {
    if (json.isObject()) {
      return Value.newBuilder().setStructValue(struct(json)).build();
    }
    if (json.isArray()) {
      ListValue.Builder list = ListValue.newBuilder();
      json.forEach(item -> list.addValues(value(item)));
      return Value.newBuilder().setListValue(list).build();
    }
    if (json.isNumber()) {
      return Value.newBuilder().setNumberValue(json.asDouble()).build();
    }
    if (json.isBoolean()) {
      return Value.newBuilder().setBoolValue(json.asBoolean()).build();
    }
    if (json.isNull() || json.isMissingNode()) {
      return Value.newBuilder().setNullValue(NullValue.NULL_VALUE).build();
    }
    return Value.newBuilder().setStringValue(json.asText()).build();
  }
}
