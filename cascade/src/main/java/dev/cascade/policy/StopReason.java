package dev.cascade.policy;

/** Why an input stopped where it did. */
public enum StopReason {
  /** Its confidence reached the exit's threshold. */
  CONFIDENT,
  /** It reached the request's maximum exit layer. */
  MAX_EXIT,
  /** It ran the whole model. */
  LAST_LAYER,
  /** Its call was cancelled before it finished. */
  CANCELLED,
  /** Its deadline passed before it finished. */
  DEADLINE_EXCEEDED
}
