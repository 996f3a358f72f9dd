package dev.cascade.runtime;

/**
 * Receives exit events as they are computed, on the thread running the cascade. For each input,
 * events arrive in layer order and the last has {@code isFinal}. Must not block for long: it holds
 * up every input of the batch.
 */
@FunctionalInterface
public interface ExitListener {
  void onEvent(ExitEvent event);

  /**
   * Whether events of exits where the input goes on are wanted. When not, and the profile never
   * stops early, the exit heads are not run at all except at a maximum exit: a caller that only
   * wants final embeddings of the {@code exact} profile pays for no head.
   */
  default boolean wantsIntermediate() {
    return true;
  }

  /** A listener that receives final events only, and says so. */
  static ExitListener finalsOnly(ExitListener finals) {
    return new ExitListener() {
      @Override
      public void onEvent(ExitEvent event) {
        if (event.isFinal()) {
          finals.onEvent(event);
        }
      }

      @Override
      public boolean wantsIntermediate() {
        return false;
      }
    };
  }
}
