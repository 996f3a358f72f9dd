package dev.cascade.server.service;

/** A request that can never succeed as sent; the message says what was wrong and the limit. */
final class BadRequestException extends RuntimeException {
  BadRequestException(String message) {
    super(message, null, false, false);
  }
}
