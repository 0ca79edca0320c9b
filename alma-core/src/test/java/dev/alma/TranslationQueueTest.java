package dev.alma;

import dev.alma.backend.Backend;
import dev.alma.backend.cpu.CpuBackend;
import dev.alma.model.Checkpoint;
import dev.alma.model.LlamaModel;
import dev.alma.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A queue whose model fails: every text waiting, and every text submitted later, completes with the error. */
class TranslationQueueTest {
    @Test
    void aFailingModelFailsEveryTextWithItsError() {
        Path dir = Fixtures.fixture("models/tiny-llama-mha-f32");
        CpuBackend cpu = new CpuBackend(1);
        // the CPU backend, except that it has no memory for a KV cache
        Backend failing = (Backend) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[]{Backend.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("kvCache")) throw new AlmaException("no memory for a KV cache (test)");
                    try {
                        return method.invoke(cpu, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        Checkpoint ckpt = Checkpoint.open(dir);
        TranslationOptions options = TranslationOptions.greedy(4);
        try (Translator t = Translator.of(LlamaModel.create(ckpt, failing, List.of(), ckpt), Tokenizer.load(dir), options);
             TranslationQueue q = t.queue(options, 1)) {
            List<CompletableFuture<String>> first = List.of(q.submit("Eins.", "de", "en"), q.submit("Zwei.", "de", "en"));
            for (CompletableFuture<String> f : first) {
                CompletionException e = assertThrows(CompletionException.class, f::join);
                assertTrue(e.getCause().getMessage().contains("no memory for a KV cache (test)"), e.getCause().getMessage());
            }
            CompletionException later = assertThrows(CompletionException.class, () -> q.submit("Drei.", "de", "en").join());
            assertTrue(later.getCause().getMessage().contains("no memory for a KV cache (test)"));
            assertEquals(0, q.pending(), "failed texts are not pending");
        }
    }
}
