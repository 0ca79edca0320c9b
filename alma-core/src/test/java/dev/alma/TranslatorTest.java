package dev.alma;

import dev.alma.decode.Greedy;
import dev.alma.model.LlamaModel;
import dev.alma.model.ModelOptions;
import dev.alma.tokenizer.Tokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.*;

/** End to end on the tiny random model: its translations are noise, but every step of the path is real. */
class TranslatorTest {
    private static Translator translator;
    private static final TranslationOptions GREEDY = TranslationOptions.greedy(12);

    @BeforeAll
    static void open() {
        Path dir = Fixtures.fixture("models/tiny-llama-mha-f32");
        translator = Translator.open(dir, ModelOptions.defaults(), GREEDY);
    }

    @AfterAll
    static void close() {
        translator.close();
    }

    @Test
    void promptIsBosThenTheTokenizedAlmaPrompt() {
        Tokenizer tok = translator.tokenizer();
        int[] ids = translator.promptIds("Guten Morgen!", "de", "en", GREEDY);
        assertEquals(1, ids[0]);
        int[] body = tok.encode("Translate this from German to English:\nGerman: Guten Morgen!\nEnglish:");
        assertArrayEquals(body, java.util.Arrays.copyOfRange(ids, 1, ids.length));
        assertNotEquals(tok.eosId(), ids[ids.length - 1], "no EOS after the prompt");
    }

    @Test
    void translationIsTheCleanedGreedyContinuation() {
        LlamaModel m = translator.model();
        int[] prompt = translator.promptIds("Das Haus ist klein.", "de", "en", GREEDY);
        int[] gen = Greedy.generate(m, prompt, 12, 2);
        String expected = OutputCleaner.clean(translator.tokenizer().decode(gen), "\nEnglish:");
        assertEquals(expected, translator.translate("Das Haus ist klein.", "de", "en"));
    }

    @Test
    void concurrentCallsGiveTheSameResultsAsSequentialOnes() throws Exception {
        List<String> texts = List.of("Eins.", "Zwei Häuser.", "Drei kleine Katzen.", "Vier.", "Fünf Bäume im Wald.", "Sechs.");
        List<String> sequential = translator.translateAll(texts, "de", "en");
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<String>> futures = new ArrayList<>();
            for (String t : texts) futures.add(pool.submit(() -> translator.translate(t, "de", "en")));
            for (int i = 0; i < texts.size(); i++) assertEquals(sequential.get(i), futures.get(i).get());
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void badInputsAreNamed() {
        AlmaException e = assertThrows(AlmaException.class, () -> translator.translate("Hallo", "xx", "en"));
        assertTrue(e.getMessage().contains("'xx'"), e.getMessage());
        e = assertThrows(AlmaException.class, () -> translator.translate("  \n", "de", "en"));
        assertTrue(e.getMessage().contains("empty"), e.getMessage());
        String huge = "Wort ".repeat(3000);
        e = assertThrows(AlmaException.class, () -> translator.translate(huge, "de", "en"));
        assertTrue(e.getMessage().contains("too long") && e.getMessage().contains("2048"), e.getMessage());
    }

    @Test
    void beamSearchBatchAndNBestAgree() {
        TranslationOptions beams = TranslationOptions.defaults().withDecoding(TranslationOptions.defaults().decoding().withMaxNewTokens(10));
        List<String> texts = List.of("Ein Satz.", "Noch ein längerer Satz mit mehr Wörtern.");
        List<String> batch = translator.translateAll(texts, "de", "en", beams);
        for (int i = 0; i < texts.size(); i++) {
            assertEquals(translator.translate(texts.get(i), "de", "en", beams), batch.get(i));
            List<Translator.Candidate> best = translator.translateNBest(texts.get(i), "de", "en", 3, beams);
            assertEquals(3, best.size());
            assertEquals(batch.get(i), best.getFirst().text(), "the first of the n-best is the 5-beam translation's best when n <= beams");
            assertTrue(best.get(0).score() >= best.get(1).score() && best.get(1).score() >= best.get(2).score());
        }
        List<List<Translator.Candidate>> nbest = translator.translateAllNBest(texts, "de", "en", 3, beams);
        for (int i = 0; i < texts.size(); i++) {
            // the batch's products sum in another order (more rows per kernel call): the scores agree to rounding
            List<Translator.Candidate> alone = translator.translateNBest(texts.get(i), "de", "en", 3, beams);
            for (int k = 0; k < 3; k++) {
                assertEquals(alone.get(k).text(), nbest.get(i).get(k).text(), "n-best " + k + " of text " + i + " in a batch");
                assertEquals(alone.get(k).score(), nbest.get(i).get(k).score(), 1e-5, "its score");
            }
        }
        assertThrows(AlmaException.class, () -> translator.translateAllNBest(texts, "de", "en", 0, beams));
    }

    @Test
    void streamingYieldsTheSameText() {
        StringBuilder streamed = new StringBuilder();
        String cleaned = translator.translateStreaming("Das Wetter ist schön.", "de", "en", GREEDY, piece -> {
            streamed.append(piece);
            return true;
        });
        assertEquals(translator.translate("Das Wetter ist schön.", "de", "en", GREEDY), cleaned);
        assertEquals(cleaned, OutputCleaner.clean(streamed.toString(), "\nEnglish:"));
        int[] calls = {0};
        translator.translateStreaming("Das Wetter ist schön.", "de", "en", GREEDY, piece -> ++calls[0] < 2);
        assertEquals(2, calls[0], "returning false stops the generation");
    }

    @Test
    void aQueueTranslatesTextsSubmittedFromManyThreadsAsEachAlone() throws Exception {
        TranslationOptions beams = TranslationOptions.defaults()
                .withDecoding(TranslationOptions.defaults().decoding().withMaxNewTokens(8)).withMaxBatch(3);
        List<String> texts = List.of("Eins.", "Zwei Häuser.", "Drei kleine Katzen.", "Vier.", "Fünf Bäume im Wald.",
                "Sechs.", "Sieben Zwerge hinter den Bergen.");
        List<Translator.Candidate> alone = new ArrayList<>();
        for (String t : texts) alone.add(translator.translateNBest(t, "de", "en", 2, beams.withMaxBatch(1)).getFirst());
        List<java.util.concurrent.CompletableFuture<List<Translator.Candidate>>> futures = new ArrayList<>();
        TranslationQueue queue = translator.queue(beams, 2);
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            List<Future<java.util.concurrent.CompletableFuture<List<Translator.Candidate>>>> submitted = new ArrayList<>();
            for (String t : texts) submitted.add(pool.submit(() -> queue.submitNBest(t, "de", "en")));
            for (var f : submitted) futures.add(f.get());
            AlmaException e = assertThrows(AlmaException.class, () -> queue.submit(" ", "de", "en"));
            assertTrue(e.getMessage().contains("empty"), e.getMessage());
        } finally {
            pool.shutdown();
            queue.close();
        }
        for (int i = 0; i < texts.size(); i++) {
            assertTrue(futures.get(i).isDone(), "close waits for every submitted text");
            Translator.Candidate got = futures.get(i).get().getFirst();
            assertEquals(2, futures.get(i).get().size());
            assertEquals(alone.get(i).text(), got.text(), texts.get(i));
            assertEquals(alone.get(i).score(), got.score(), 1e-5, texts.get(i));
        }
        assertThrows(IllegalStateException.class, () -> queue.submit("Acht.", "de", "en"));
    }

    @Test
    void translateAllGivesTheSameTextsWhateverItsMaxBatch() {
        List<String> texts = List.of("Eins.", "Zwei Häuser.", "Drei kleine Katzen.", "Vier.", "Fünf Bäume im Wald.");
        List<String> all = translator.translateAll(texts, "de", "en", GREEDY.withMaxBatch(texts.size()));
        assertEquals(all, translator.translateAll(texts, "de", "en", GREEDY.withMaxBatch(2)));
        assertThrows(IllegalArgumentException.class, () -> GREEDY.withMaxBatch(0));
    }
}
