package dev.alma.cli;

import dev.alma.Fixtures;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code alma serve}'s refusals before it listens (the server itself: {@code TranslationServerTest}). */
class ServeCommandTest {
    @Test
    void aBadPortOrBatchIsRefusedBeforeTheModelLoads() {
        String model = Fixtures.fixture("models/tiny-llama-mha-f32").toString();
        Cli.Result port = Cli.run("", "serve", "--model", model, "--port", "70000");
        assertEquals(1, port.code());
        assertTrue(port.err().contains("--port must be 0 to 65535, not 70000"), port.err());
        Cli.Result batch = Cli.run("", "serve", "--model", "/no/such/model", "--batch", "0");
        assertEquals(1, batch.code());
        assertTrue(batch.err().contains("--batch must be at least 1"), batch.err());
    }
}
