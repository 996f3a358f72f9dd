package dev.cascade.server.service;

import dev.cascade.api.v1.EmbedRequest;
import dev.cascade.policy.ExitBounds;
import dev.cascade.policy.Profile;
import dev.cascade.runtime.CascadeRuntime;
import dev.cascade.server.ServerOptions;
import dev.cascade.tokenize.InputRejectedException;
import dev.cascade.tokenize.TokenizedInput;
import dev.cascade.tokenize.Truncation;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns an {@link EmbedRequest} into a {@link PreparedRequest}, or refuses it with a {@link
 * BadRequestException} that says what was wrong and the limit. Everything a request can get wrong
 * is found here, before any compute.
 *
 * <p>Thread-safe.
 */
final class RequestValidator {
  private final CascadeRuntime runtime;
  private final ServerOptions options;

  RequestValidator(CascadeRuntime runtime, ServerOptions options) {
    this.runtime = runtime;
    this.options = options;
  }

  PreparedRequest prepare(EmbedRequest request) {
    int count = request.getInputsCount();
    int maxInputs = options.maxInputsPerRequest();
    if (count == 0) {
      throw new BadRequestException("request has no inputs; send 1 to " + maxInputs);
    }
    if (count > maxInputs) {
      throw new BadRequestException(
          "request has " + count + " inputs; the limit is " + maxInputs + " per request");
    }
    for (int i = 0; i < count; i++) {
      int chars = request.getInputs(i).length();
      if (chars > options.maxCharsPerInput()) {
        throw new BadRequestException(
            "input "
                + i
                + " has "
                + chars
                + " characters; the limit is "
                + options.maxCharsPerInput()
                + " per input");
      }
    }
    Profile profile;
    try {
      profile = runtime.profile(request.getProfile());
    } catch (IllegalArgumentException e) {
      throw new BadRequestException(e.getMessage());
    }
    int hidden = runtime.model().encoder().config().hiddenSize();
    long dimensions = Integer.toUnsignedLong(request.getDimensions());
    if (dimensions > hidden) {
      throw new BadRequestException(
          "dimensions "
              + dimensions
              + " is out of range: use 0 for all "
              + hidden
              + ", or 1 to "
              + hidden);
    }
    ExitBounds bounds;
    try {
      bounds =
          new ExitBounds(unsigned(request.getMinExitLayer()), unsigned(request.getMaxExitLayer()));
      bounds.validate(runtime.model().encoder().config().layers(), profile.exits());
    } catch (IllegalArgumentException e) {
      throw new BadRequestException(e.getMessage());
    }
    Truncation truncation = request.getTruncate() ? Truncation.TRUNCATE : Truncation.REFUSE;
    List<TokenizedInput> inputs = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      try {
        inputs.add(runtime.model().tokenizer().tokenize(request.getInputs(i), i, truncation));
      } catch (InputRejectedException e) {
        throw new BadRequestException(e.getMessage());
      }
    }
    return new PreparedRequest(request.getRequestId(), inputs, profile, bounds, (int) dimensions);
  }

  /** A uint32 field as an int, with values past the int range held at the largest int. */
  private static int unsigned(int value) {
    return (int) Math.min(Integer.MAX_VALUE, Integer.toUnsignedLong(value));
  }
}
