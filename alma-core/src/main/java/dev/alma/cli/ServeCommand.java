package dev.alma.cli;

import dev.alma.AlmaException;
import dev.alma.TranslationOptions;
import dev.alma.Translator;
import dev.alma.server.TranslationServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.concurrent.CountDownLatch;

/** {@code alma serve}: translations over HTTP until the process is stopped ({@link TranslationServer}). */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Serve translations over HTTP: POST /translate {\"text\": ..., \"from\": \"de\", \"to\": \"en\"} "
                + "(or \"texts\": [...]); concurrent requests share forward passes. Runs until stopped (Ctrl-C).")
final class ServeCommand implements Runnable {
    @Mixin
    ModelMixin model;

    @Mixin
    TranslationMixin translation;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "address to listen on (default: ${DEFAULT-VALUE})")
    String host;

    @Option(names = "--port", defaultValue = "8080", description = "port to listen on; 0: any free one (default: ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--max-pending", defaultValue = "" + TranslationServer.DEFAULT_MAX_PENDING, paramLabel = "N",
            description = "texts allowed to wait or run; a request past it is answered 503 (default: ${DEFAULT-VALUE})")
    int maxPending;

    @Override
    public void run() {
        TranslationOptions options = translation.options();
        if (port < 0 || port > 65535) throw new AlmaException("--port must be 0 to 65535, not " + port);
        if (maxPending < 1) throw new AlmaException("--max-pending must be at least 1, not " + maxPending);
        Translator t = translation.open(model);
        TranslationServer server;
        try {
            server = TranslationServer.start(t, options, new InetSocketAddress(host, port), maxPending);
        } catch (IOException e) {
            t.close();
            throw new UncheckedIOException("cannot listen on " + host + ":" + port + ": " + e.getMessage(), e);
        }
        // Ctrl-C: answer the requests being served, then stop
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            t.close();
        }));
        translation.warnIfFewerFit(server.queue(), "texts");
        System.out.printf("alma: serving %s on http://%s:%d (POST /translate, GET /health), %d texts at once%n",
                model.model, host, server.address().getPort(), options.maxBatch());
        System.out.flush();
        try {
            new CountDownLatch(1).await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
