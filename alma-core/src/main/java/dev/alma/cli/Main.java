package dev.alma.cli;

import dev.alma.AlmaException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code alma} command line. Each subcommand lives in its own class of this package; this class only
 * lists them and turns library exceptions into one-line errors with exit status 1.
 */
@Command(name = "alma", mixinStandardHelpOptions = true, version = "alma 0.1.0",
        description = "ALMA translation models in Java: translate, inspect, evaluate, fine-tune.",
        subcommands = {
                CommandLine.HelpCommand.class,
                TranslateCommand.class,
                GenerateCommand.class,
                LogitsCommand.class,
                TokenizeCommand.class,
                FinetuneCommand.class,
                RandomModelCommand.class,
                ConvertCommand.class,
                BenchCommand.class,
                EvalCommand.class,
                ServeCommand.class,
                TestSetCommand.class,
        })
public final class Main implements Runnable {

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    /** Builds the picocli command line with the project's error handling. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            if (ex instanceof AlmaException || ex instanceof IllegalArgumentException) {
                cmd.getErr().println("alma: " + ex.getMessage());
                return 1;
            }
            throw ex;
        });
        return cl;
    }

    public static void main(String[] args) {
        int code = commandLine().execute(args);
        System.out.flush();
        System.exit(code);
    }
}
