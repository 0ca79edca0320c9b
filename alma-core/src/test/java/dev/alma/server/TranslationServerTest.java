package dev.alma.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.alma.Fixtures;
import dev.alma.TranslationOptions;
import dev.alma.Translator;
import dev.alma.io.Json;
import dev.alma.model.ModelOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code alma serve}'s server on the tiny fixture model: concurrent requests, and every refusal named. */
class TranslationServerTest {
    private static final TranslationOptions OPTIONS = TranslationOptions.greedy(8).withMaxBatch(3);
    private static Translator translator;
    private static TranslationServer server;
    private static final HttpClient client = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        translator = Translator.open(Fixtures.fixture("models/tiny-llama-mha-f32"), ModelOptions.defaults(), OPTIONS);
        server = TranslationServer.start(translator, OPTIONS, new InetSocketAddress("127.0.0.1", 0));
    }

    @AfterAll
    static void stop() {
        server.close();
        translator.close();
    }

    private static URI uri(String path) {
        return URI.create("http://127.0.0.1:" + server.address().getPort() + path);
    }

    private static HttpRequest post(String body) {
        return HttpRequest.newBuilder(uri("/translate")).POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    private static HttpResponse<String> send(HttpRequest r) throws Exception {
        return client.send(r, HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void concurrentRequestsGetWhatEachTextGetsAlone() throws Exception {
        List<String> texts = List.of("Eins.", "Zwei Häuser.", "Drei kleine Katzen.", "Vier.", "Fünf Bäume im Wald.", "Sechs.");
        List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
        for (String t : texts) {
            String body = Json.write(Json.MAPPER.createObjectNode().put("text", t).put("from", "de").put("to", "en"));
            answers.add(client.sendAsync(post(body), HttpResponse.BodyHandlers.ofString()));
        }
        for (int i = 0; i < texts.size(); i++) {
            HttpResponse<String> r = answers.get(i).join();
            assertEquals(200, r.statusCode(), r.body());
            assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
            String alone = translator.translate(texts.get(i), "de", "en", OPTIONS.withMaxBatch(1));
            assertEquals(alone, Json.MAPPER.readTree(r.body()).get("translation").asText(), texts.get(i));
        }
        var many = Json.MAPPER.createObjectNode().put("from", "de").put("to", "en");
        many.putArray("texts").add(texts.get(2)).add(texts.get(0));
        HttpResponse<String> r = send(post(Json.write(many)));
        assertEquals(200, r.statusCode(), r.body());
        JsonNode got = Json.MAPPER.readTree(r.body()).get("translations");
        assertEquals(translator.translateAll(List.of(texts.get(2), texts.get(0)), "de", "en", OPTIONS),
                List.of(got.get(0).asText(), got.get(1).asText()));
    }

    @Test
    void badRequestsAreRefusedWithTheirReason() throws Exception {
        String[][] cases = {
                {"nope", "400", "not JSON"},
                {"[1, 2]", "400", "JSON object"},
                {"{\"text\": \"Hallo\", \"from\": \"de\"}", "400", "missing field 'to'"},
                {"{\"text\": \"Hallo\", \"from\": 5, \"to\": \"en\"}", "400", "field 'from' must be a string"},
                {"{\"text\": \"Hallo\", \"from\": \"xx\", \"to\": \"en\"}", "400", "'xx'"},
                {"{\"text\": \"  \", \"from\": \"de\", \"to\": \"en\"}", "400", "empty"},
                {"{\"texts\": [\"Hallo\", 3], \"from\": \"de\", \"to\": \"en\"}", "400", "texts[1] must be a string"},
                {"{\"texts\": [], \"from\": \"de\", \"to\": \"en\"}", "400", "1 to 256 strings, not 0"},
                {"{\"texts\": \"Hallo\", \"from\": \"de\", \"to\": \"en\"}", "400", "must be an array"},
                {"{\"texts\": [\"Hallo\", \"" + "Wort ".repeat(3000) + "\"], \"from\": \"de\", \"to\": \"en\"}", "400",
                        "texts[1]: input too long"},
                {"{\"text\": \"" + "x".repeat(TranslationServer.MAX_BODY_BYTES) + "\"}", "413", "larger than"},
        };
        for (String[] c : cases) {
            HttpResponse<String> r = send(post(c[0]));
            assertEquals(Integer.parseInt(c[1]), r.statusCode(), c[2] + ": " + r.body());
            String error = Json.MAPPER.readTree(r.body()).get("error").asText();
            assertTrue(error.contains(c[2]), "'" + c[2] + "' in " + error);
        }
        HttpResponse<String> get = send(HttpRequest.newBuilder(uri("/translate")).GET().build());
        assertEquals(405, get.statusCode());
    }

    @Test
    void healthSaysHowManyTextsRunAtOnce() throws Exception {
        HttpResponse<String> r = send(HttpRequest.newBuilder(uri("/health")).GET().build());
        assertEquals(200, r.statusCode());
        JsonNode j = Json.MAPPER.readTree(r.body());
        assertEquals("ok", j.get("status").asText());
        assertEquals(3, j.get("max_batch").asInt());
    }

    @Test
    void aClosedServerTakesNoRequests() throws Exception {
        TranslationServer other = TranslationServer.start(translator, OPTIONS, new InetSocketAddress("127.0.0.1", 0));
        URI health = URI.create("http://127.0.0.1:" + other.address().getPort() + "/health");
        assertEquals(200, send(HttpRequest.newBuilder(health).GET().build()).statusCode());
        other.close();
        assertThrows(java.io.IOException.class, () -> send(HttpRequest.newBuilder(health).GET().build()));
    }

    @Test
    void aRequestPastTheTextsAllowedToWaitIsAnsweredBusy() throws Exception {
        try (TranslationServer small = TranslationServer.start(translator, OPTIONS, new InetSocketAddress("127.0.0.1", 0), 2)) {
            URI translate = URI.create("http://127.0.0.1:" + small.address().getPort() + "/translate");
            String three = "{\"texts\": [\"Eins.\", \"Zwei.\", \"Drei.\"], \"from\": \"de\", \"to\": \"en\"}";
            HttpResponse<String> r = send(HttpRequest.newBuilder(translate).POST(HttpRequest.BodyPublishers.ofString(three)).build());
            assertEquals(503, r.statusCode(), r.body());
            assertEquals("5", r.headers().firstValue("Retry-After").orElse(""));
            assertTrue(r.body().contains("busy"), r.body());
            String two = "{\"texts\": [\"Eins.\", \"Zwei.\"], \"from\": \"de\", \"to\": \"en\"}";
            r = send(HttpRequest.newBuilder(translate).POST(HttpRequest.BodyPublishers.ofString(two)).build());
            assertEquals(200, r.statusCode(), r.body());
            assertEquals(0, small.queue().pending(), "every text answered");
        }
    }
}
