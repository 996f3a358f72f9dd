package dev.cascade.server.service;

import dev.cascade.policy.ExitBounds;
import dev.cascade.policy.Profile;
import dev.cascade.tokenize.TokenizedInput;
import java.util.List;

/**
 * A validated request, ready for the engine.
 *
 * @param requestId the client's id, echoed in events
 * @param inputs the tokenized inputs, in request order
 * @param profile the profile to run
 * @param bounds the request's exit bounds, valid for the model and profile
 * @param dimensions dimensions to keep in each embedding; 0 = all
 */
record PreparedRequest(
    String requestId,
    List<TokenizedInput> inputs,
    Profile profile,
    ExitBounds bounds,
    int dimensions) {

  PreparedRequest {
    inputs = List.copyOf(inputs);
  }

  /** Tokens of every input, summed, as the model sees them. */
  long tokens() {
    return inputs.stream().mapToLong(TokenizedInput::length).sum();
  }
}
