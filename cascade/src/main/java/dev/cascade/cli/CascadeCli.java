package dev.cascade.cli;

import dev.cascade.model.ModelFormatException;
import dev.cascade.tokenize.InputRejectedException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code cascade} command: engine tools as subcommands. */
@Command(
    name = "cascade",
    mixinStandardHelpOptions = true,
    version = "cascade 0.1.0",
    description = "Early-exit embeddings for BERT-family encoders.",
    subcommands = {
      LayersCommand.class,
      TrainHeadsCommand.class,
      EvalCommand.class,
      TuneCommand.class
    })
public final class CascadeCli {

  /** Builds the command line with the shared error handling. */
  public static CommandLine commandLine(Object command) {
    CommandLine cli = new CommandLine(command);
    cli.setExecutionExceptionHandler(
        (e, commandLine, parseResult) -> {
          if (e instanceof InputRejectedException
              || e instanceof ModelFormatException
              || e instanceof IllegalArgumentException) {
            commandLine.getErr().println("error: " + e.getMessage());
            return 2;
          }
          throw e;
        });
    return cli;
  }

  public static void main(String[] args) {
    System.exit(commandLine(new CascadeCli()).execute(args));
  }
}
