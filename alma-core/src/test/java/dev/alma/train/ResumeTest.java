package dev.alma.train;

import dev.alma.model.LlamaConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A run stopped after a checkpoint and continued by a fresh trainer has the same loss curve as an uninterrupted one. */
class ResumeTest {
    static final LlamaConfig CFG = new LlamaConfig(40, 16, 24, 2, 4, 2, 4, 1e-5f, 10000, 64, false, 1, 2, "float32", false);

    static Stage1Data data() {
        Map<String, List<String>> docs = Map.of(
                "en", List.of("the cat sat", "a dog ran far away", "birds sing"),
                "de", List.of("der hund", "die katze schläft lange", "vögel"));
        return new Stage1Data(docs, Map.of(), new CharTokenizer(40), 10, 2, 9);
    }

    static TrainConfig config(boolean lora) {
        return TrainConfig.defaults().withLr(lora ? 3e-2 : 3e-3).withSteps(6, 0).withGradAccum(2)
                .withSchedule(LrSchedule.Kind.COSINE, 0.2).withSeed(3).withIntervals(3, 2);
    }

    static double[] losses(List<StepLog> h) {
        double[] d = new double[h.size()];
        for (int i = 0; i < d.length; i++) d[i] = h.get(i).loss();
        return d;
    }

    static TrainableLlama model(boolean lora) {
        TrainableLlama m = TrainableLlama.random(CFG, 0.1, 11);
        if (lora) m.addLora(new LoraConfig(4, 8, 0.1, List.of("down_proj", "q_proj")), 2);
        return m;
    }

    static List<Batch> valid() {
        Stage1Data d = data();
        List<Batch> v = new ArrayList<>();
        v.add(d.batch(50));
        return v;
    }

    void check(boolean lora, Path a, Path b) {
        Trainer straight = new Trainer(model(lora), data(), valid(), config(lora), a);
        double before = straight.evaluate();
        straight.run(Long.MAX_VALUE, null);
        assertEquals(6, straight.history().size());

        Trainer first = new Trainer(model(lora), data(), valid(), config(lora), b);
        first.run(4, null); // checkpoints at 3 and when stopping at 4
        assertTrue(first.hasCheckpoint());
        // the process "dies" after step 4's checkpoint; a new one starts from the files alone
        Trainer second = new Trainer(model(lora), data(), valid(), config(lora), b);
        assertEquals(4, second.resume());
        second.run(Long.MAX_VALUE, null);

        assertArrayEquals(losses(straight.history()), losses(second.history()), "loss curve after resuming");
        assertEquals(straight.history().get(5).evalLoss(), second.history().get(5).evalLoss());
        assertEquals(straight.history().get(3).evalLoss(), second.history().get(3).evalLoss());
        assertTrue(straight.history().get(5).evalLoss() < before, "training lowers the validation loss");
    }

    @Test
    void fullWeights(@TempDir Path tmp) {
        check(false, tmp.resolve("a"), tmp.resolve("b"));
    }

    @Test
    void loraWithDropout(@TempDir Path tmp) {
        check(true, tmp.resolve("a"), tmp.resolve("b"));
    }

    @Test
    void refusesOtherSettings(@TempDir Path tmp) throws Exception {
        boolean lora = false;
        new Trainer(model(false), data(), List.of(), config(lora), tmp).run(1, null);
        assertTrue(Files.exists(tmp.resolve(Checkpoint.FILE)));
        Trainer other = new Trainer(model(false), data(), List.of(), config(lora).withLr(1e-3), tmp);
        var e = assertThrows(dev.alma.io.FormatException.class, other::resume);
        assertTrue(e.getMessage().contains("lr"), e.getMessage());
    }
}
