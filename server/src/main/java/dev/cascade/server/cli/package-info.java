/** The {@code cascade} command: {@code serve}, {@code embed} and the engine tools. */
package dev.cascade.server.cli;
