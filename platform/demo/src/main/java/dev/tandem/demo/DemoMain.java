package dev.tandem.demo;

import dev.tandem.runtime.Main;
import picocli.CommandLine;

/**
 * The demo jar's entry point: the runtime's {@code tandem} command line ({@link Main#commandLine()}) with
 * {@code demo} added. {@code bin/tandem demo} runs it; production nodes run the runtime jar, which has no
 * embedded PostgreSQL on its class path.
 */
public final class DemoMain {

  private DemoMain() {}

  /** @return the runtime's command line with the {@code demo} subcommand */
  public static CommandLine commandLine() {
    return Main.commandLine().addSubcommand(new DemoCommand());
  }

  /** @param args command line */
  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }
}
