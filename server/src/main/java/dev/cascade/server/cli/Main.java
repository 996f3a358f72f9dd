package dev.cascade.server.cli;

import dev.cascade.cli.CascadeCli;
import dev.cascade.cli.EvalCommand;
import dev.cascade.cli.LayersCommand;
import dev.cascade.cli.TrainHeadsCommand;
import dev.cascade.cli.TuneCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code cascade} command: the server, its terminal client, and the engine tools. */
@Command(
    name = "cascade",
    mixinStandardHelpOptions = true,
    version = "cascade 0.1.0",
    description = "Early-exit embeddings for BERT-family encoders.",
    subcommands = {
      ServeCommand.class,
      EmbedCommand.class,
      LayersCommand.class,
      TrainHeadsCommand.class,
      EvalCommand.class,
      TuneCommand.class
    })
public final class Main {

  /** The command line, with option defaults from the environment and the config file. */
  static CommandLine commandLine(String[] args, java.util.Map<String, String> env) {
    CommandLine cli = CascadeCli.commandLine(new Main());
    cli.getSubcommands().get("serve").setDefaultValueProvider(ConfigDefaults.from(args, env));
    return cli;
  }

  public static void main(String[] args) {
    CommandLine cli;
    try {
      cli = commandLine(args, System.getenv());
    } catch (IllegalArgumentException e) {
      System.err.println("error: " + e.getMessage());
      System.exit(2);
      return;
    }
    System.exit(cli.execute(args));
  }
}
