/**
 * When an input stops: threshold profiles (versioned JSON files), per-request exit bounds, and the
 * reasons an input stops.
 */
package dev.cascade.policy;
