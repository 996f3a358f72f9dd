package dev.cascade.data;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Deterministic two-way splits by key, so that training, calibration and evaluation never share an
 * item: a key falls in the first half when the first byte of its SHA-256 is even, and each half
 * splits again by the byte's second bit.
 */
public final class Splits {
  private Splits() {}

  /** Which half {@code key} falls in: 0 or 1. */
  public static int half(String key) {
    return firstByte(key) & 1;
  }

  /**
   * Which half of its half {@code key} falls in (0 or 1), by the first byte's second bit, so that a
   * half can itself be split in two, for example to choose among settings on calibration data.
   */
  public static int quarter(String key) {
    return (firstByte(key) >> 1) & 1;
  }

  private static int firstByte(String key) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8))[0];
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
