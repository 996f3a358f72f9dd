package dev.cascade.runtime;

/**
 * Receives exit events as they are computed, on the thread running the cascade. For each input,
 * events arrive in layer order and the last has {@code isFinal}. Must not block for long: it holds
 * up every input of the batch.
 */
@FunctionalInterface
public interface ExitListener {
  void onEvent(ExitEvent event);
}
