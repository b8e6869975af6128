package org.bitengine.models.cli;

import java.io.PrintWriter;

import org.bitengine.engine.BitEngineException;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code java -jar bit-engine.jar <command>}. A user error prints one line and exits with 2; a bug
 * prints one line and exits with 1; {@code --verbose} adds the stack trace.
 */
@Command(name = "bit-engine",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Fine-tune and run BiT (ResNet-v2) and EfficientNet vision models, from one jar.",
        subcommands = {InfoCommand.class, PredictCommand.class, ConvertCommand.class, EvaluateCommand.class, FinetuneCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    public static final int EXIT_USER_ERROR = 2;
    public static final int EXIT_INTERNAL_ERROR = 1;

    @Option(names = "--verbose", scope = CommandLine.ScopeType.INHERIT, description = "Print stack traces of errors.")
    boolean verbose;

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the CLI with the given streams and returns the exit code (used by tests). */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        Main main = new Main();
        CommandLine cli = new CommandLine(main);
        cli.setOut(out);
        cli.setErr(err);
        cli.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            if (main.verbose) ex.printStackTrace(err);
            if (ex instanceof BitEngineException) {
                err.println("bit-engine: error: " + ex.getMessage());
                return EXIT_USER_ERROR;
            }
            err.println("bit-engine: internal error: " + ex + (main.verbose ? "" : " (run with --verbose for the stack trace)"));
            return EXIT_INTERNAL_ERROR;
        });
        cli.setParameterExceptionHandler((ex, cmdArgs) -> {
            CommandLine failed = ex.getCommandLine();
            failed.getErr().println("bit-engine: error: " + ex.getMessage() + " (see '"
                    + failed.getCommandSpec().qualifiedName() + " --help')");
            return EXIT_USER_ERROR;
        });
        int code;
        try {
            code = cli.execute(args);
        } catch (OutOfMemoryError e) {
            if (main.verbose) e.printStackTrace(err);
            err.println("bit-engine: error: out of memory (" + Runtime.getRuntime().maxMemory() / (1 << 20)
                    + " MB heap); use a smaller --batch-size or give Java more memory with java -Xmx...");
            code = EXIT_USER_ERROR;
        }
        out.flush();
        err.flush();
        return code;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"bit-engine " + (v == null ? "(development build)" : v) + ", Java " + Runtime.version()};
        }
    }
}
