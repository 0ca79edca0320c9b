package dev.alma.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.alma.AlmaException;
import dev.alma.TranslationOptions;
import dev.alma.TranslationQueue;
import dev.alma.Translator;
import dev.alma.io.Json;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Translation over HTTP: every request's texts go into one {@link TranslationQueue}, so concurrent requests share
 * forward passes (continuous batching, {@link TranslationOptions#maxBatch} texts at once).
 *
 * <ul>
 *   <li>{@code POST /translate} with {@code {"text": "...", "from": "de", "to": "en"}} answers
 *   {@code {"translation": "..."}}; with {@code "texts": [...]} (at most {@link #MAX_TEXTS}), {@code {"translations":
 *   [...]}} in order.</li>
 *   <li>{@code GET /health} answers {@code {"status": "ok", "max_batch": N}}.</li>
 * </ul>
 * A bad request (not JSON, a missing or mistyped field, an unknown language, an empty or too long text, a body over
 * {@link #MAX_BODY_BYTES}) is answered {@code {"error": "..."}} with status 400 (413 for the body's size), naming
 * the field or value; a model failure with 500; a request past the texts allowed to wait with 503 and
 * {@code Retry-After}. Requests are served on virtual threads, each waiting for its texts.
 */
public final class TranslationServer implements AutoCloseable {
    /** Largest request body read. */
    public static final int MAX_BODY_BYTES = 1 << 20;
    /** Most texts in one request. */
    public static final int MAX_TEXTS = 256;
    /** Texts waiting or running past which a request is answered 503 (busy) by default. */
    public static final int DEFAULT_MAX_PENDING = 4096;

    private final HttpServer http;
    private final Translator translator;
    private final TranslationQueue queue;
    private final ExecutorService threads;
    private final TranslationOptions options;
    private final int maxPending;

    private TranslationServer(HttpServer http, Translator translator, TranslationQueue queue, ExecutorService threads,
                              TranslationOptions options, int maxPending) {
        this.maxPending = maxPending;
        this.http = http;
        this.translator = translator;
        this.queue = queue;
        this.threads = threads;
        this.options = options;
    }

    /**
     * Serves {@code translator} on {@code address} (port 0: any free one) until {@link #close}; the translator
     * stays open after.
     */
    public static TranslationServer start(Translator translator, TranslationOptions options, InetSocketAddress address)
            throws IOException {
        return start(translator, options, address, DEFAULT_MAX_PENDING);
    }

    /**
     * As {@link #start(Translator, TranslationOptions, InetSocketAddress)}; a request that would make more than
     * {@code maxPending} texts wait or run is answered 503 with {@code Retry-After}.
     */
    public static TranslationServer start(Translator translator, TranslationOptions options, InetSocketAddress address,
                                          int maxPending) throws IOException {
        if (maxPending < 1) throw new IllegalArgumentException("maxPending must be at least 1, not " + maxPending);
        HttpServer http = HttpServer.create(address, 64);
        ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
        TranslationQueue queue = translator.queue(options, 1);
        TranslationServer server = new TranslationServer(http, translator, queue, threads, options, maxPending);
        http.setExecutor(threads);
        http.createContext("/translate", server::translate);
        http.createContext("/health", server::health);
        http.start();
        return server;
    }

    /** The address served (with the port chosen, when 0 was asked for). */
    public InetSocketAddress address() {
        return http.getAddress();
    }

    /** The queue the requests share (e.g. for {@link TranslationQueue#textsAtOnce}). */
    public TranslationQueue queue() {
        return queue;
    }

    /** A request the server refuses, with its status and message. */
    private static final class Refused extends RuntimeException {
        final int status;

        Refused(int status, String message) {
            super(message);
            this.status = status;
        }
    }

    private void translate(HttpExchange ex) throws IOException {
        try (ex) {
            try {
                if (!ex.getRequestMethod().equals("POST")) throw new Refused(405, "use POST with a JSON body");
                JsonNode body = parse(read(ex.getRequestBody()));
                String from = text(body, "from"), to = text(body, "to");
                boolean many = body.has("texts");
                List<String> texts = many ? texts(body) : List.of(text(body, "text"));
                for (int i = 0; i < texts.size(); i++) {  // every text checked before any is translated
                    try {
                        translator.promptIds(texts.get(i), from, to, options);
                    } catch (AlmaException e) {
                        throw new Refused(400, (many ? "texts[" + i + "]: " : "text: ") + e.getMessage());
                    }
                }
                if (queue.pending() + texts.size() > maxPending) {
                    ex.getResponseHeaders().set("Retry-After", "5");
                    throw new Refused(503, "busy: " + queue.pending() + " texts are waiting or running (at most "
                            + maxPending + "); try again later");
                }
                List<CompletableFuture<String>> futures = new ArrayList<>(texts.size());
                for (String t : texts) futures.add(queue.submit(t, from, to));
                ObjectNode answer = Json.MAPPER.createObjectNode();
                if (many) {
                    var array = answer.putArray("translations");
                    for (CompletableFuture<String> f : futures) array.add(f.join());
                } else {
                    answer.put("translation", futures.getFirst().join());
                }
                send(ex, 200, answer);
            } catch (Refused r) {
                send(ex, r.status, error(r.getMessage()));
            } catch (CompletionException e) {
                send(ex, 500, error("translation failed: " + e.getCause().getMessage()));
            } catch (IllegalStateException e) {
                send(ex, 503, error(e.getMessage()));
            }
        }
    }

    private void health(HttpExchange ex) throws IOException {
        try (ex) {
            ObjectNode answer = Json.MAPPER.createObjectNode();
            answer.put("status", "ok");
            answer.put("max_batch", options.maxBatch());
            send(ex, ex.getRequestMethod().equals("GET") ? 200 : 405, answer);
        }
    }

    /** The body, refused past {@link #MAX_BODY_BYTES} without reading further. */
    private static byte[] read(InputStream in) throws IOException {
        byte[] body = in.readNBytes(MAX_BODY_BYTES + 1);
        if (body.length > MAX_BODY_BYTES)
            throw new Refused(413, "the request body is larger than " + MAX_BODY_BYTES + " bytes");
        return body;
    }

    private static JsonNode parse(byte[] body) {
        JsonNode node;
        try {
            node = Json.MAPPER.readTree(body);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new Refused(400, "the body is not JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new Refused(400, "the body is not JSON: " + e.getMessage());
        }
        if (node == null || !node.isObject()) throw new Refused(400, "the body must be a JSON object");
        return node;
    }

    private static String text(JsonNode body, String field) {
        JsonNode v = body.get(field);
        if (v == null) throw new Refused(400, "missing field '" + field + "'");
        if (!v.isTextual()) throw new Refused(400, "field '" + field + "' must be a string");
        return v.asText();
    }

    private static List<String> texts(JsonNode body) {
        JsonNode v = body.get("texts");
        if (!v.isArray()) throw new Refused(400, "field 'texts' must be an array of strings");
        if (v.isEmpty() || v.size() > MAX_TEXTS)
            throw new Refused(400, "field 'texts' must hold 1 to " + MAX_TEXTS + " strings, not " + v.size());
        List<String> out = new ArrayList<>(v.size());
        for (int i = 0; i < v.size(); i++) {
            if (!v.get(i).isTextual()) throw new Refused(400, "texts[" + i + "] must be a string");
            out.add(v.get(i).asText());
        }
        return out;
    }

    private static ObjectNode error(String message) {
        return Json.MAPPER.createObjectNode().put("error", message);
    }

    private static void send(HttpExchange ex, int status, JsonNode body) throws IOException {
        byte[] bytes = Json.write(body).getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    /** Stops accepting requests, waits up to 5 s for those being answered, then finishes the queue. */
    @Override
    public void close() {
        http.stop(5);
        queue.close();
        threads.close();
    }
}
