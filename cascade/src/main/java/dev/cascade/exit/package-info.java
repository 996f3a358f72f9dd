/**
 * Exit heads: small trained networks that turn an early layer's hidden states into an embedding in
 * the final layer's space, and the versioned file that ships them.
 */
package dev.cascade.exit;
