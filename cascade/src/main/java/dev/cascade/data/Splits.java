package dev.cascade.data;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Deterministic two-way splits by key, so that training, calibration and evaluation never share an
 * item: a key falls in the first half when the first byte of its SHA-256 is even.
 */
public final class Splits {
  private Splits() {}

  /** Which half {@code key} falls in: 0 or 1. */
  public static int half(String key) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
      return digest[0] & 1;
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The page of a man-page source such as {@code "getent.1 DESCRIPTION"}: {@code getent.1}. */
  public static String page(String source) {
    int space = source.indexOf(' ');
    return space < 0 ? source : source.substring(0, space);
  }
}
