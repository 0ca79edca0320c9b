package dev.alma.cli;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;

/** Runs the {@code alma} command line in-process with the given standard input, capturing its output. */
final class Cli {
    record Result(int code, String out, String err) {
    }

    private Cli() {
    }

    static Result run(String stdin, String... args) {
        InputStream oldIn = System.in;
        PrintStream oldOut = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StringWriter err = new StringWriter();
        try {
            System.setIn(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)));
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            var cl = Main.commandLine();
            cl.setErr(new PrintWriter(err, true));
            int code = cl.execute(args);
            return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString());
        } finally {
            System.setIn(oldIn);
            System.setOut(oldOut);
        }
    }

    /**
     * Starts the command line on a thread of its own, reading {@code in} and writing {@code out} (standard input and
     * output are replaced until it ends); the future gives its exit code.
     */
    static java.util.concurrent.CompletableFuture<Integer> start(InputStream in, java.io.OutputStream out, String... args) {
        java.util.concurrent.CompletableFuture<Integer> code = new java.util.concurrent.CompletableFuture<>();
        Thread.ofPlatform().daemon(true).start(() -> {
            InputStream oldIn = System.in;
            PrintStream oldOut = System.out;
            int exit = -1;
            Throwable failure = null;
            try {
                System.setIn(in);
                System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
                exit = Main.commandLine().execute(args);
            } catch (Throwable t) {
                failure = t;
            } finally {
                // before the future completes: the next test's replacement must not be undone
                System.setIn(oldIn);
                System.setOut(oldOut);
            }
            if (failure != null) code.completeExceptionally(failure);
            else code.complete(exit);
        });
        return code;
    }
}
