package dev.alma.tokenizer;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** One tokenizer shared by several threads gives every thread the reference ids. */
class ThreadSafetyTest {
    @Test
    void concurrentEncodingGivesTheReferenceIds() throws Exception {
        Tokenizer tok = TokenizerCases.sentencePiece();
        List<TokenizerCases.Case> cases = TokenizerCases.cases(TokenizerCases.SENTENCEPIECE);
        int threads = 4;
        try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            List<Future<Integer>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int offset = t * 37;
                results.add(pool.submit(() -> {
                    int wrong = 0;
                    // Each thread walks the cases from a different start, so different texts overlap in time.
                    for (int k = 0; k < cases.size(); k++) {
                        TokenizerCases.Case c = cases.get((k + offset) % cases.size());
                        if (!Arrays.equals(c.ids(), tok.encode(c.text()))) wrong++;
                    }
                    return wrong;
                }));
            }
            for (Future<Integer> f : results) assertEquals(0, f.get(), "wrong results in a thread");
        }
    }
}
