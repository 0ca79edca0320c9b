package dev.alma.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.alma.Fixtures;
import dev.alma.io.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code alma finetune} end to end on the tiny fixture model: stage-2 LoRA, outputs, and a resumed run. */
class FinetuneCommandTest {
    static int run(List<String> args, StringWriter err) {
        var cl = Main.commandLine();
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args.toArray(String[]::new));
    }

    static List<String> args(Path out, int steps) {
        return new ArrayList<>(List.of("finetune", "--stage", "2", "--model", Fixtures.fixture("models/tiny-llama-mha-f32").toString(),
                "--output", out.toString(), "--data", Fixtures.path("data/alma-human-written").toString(), "--pairs", "de-en,en-de",
                "--max-samples", "6", "--eval-samples", "2", "--batch-size", "2", "--block-size", "64", "--max-steps", Integer.toString(steps),
                "--lora", "--lora-targets", "down_proj,q_proj", "--lr", "1e-3", "--save-every", "2"));
    }

    static List<String> losses(Path out) throws Exception {
        List<String> l = new ArrayList<>();
        for (String line : Files.readAllLines(out.resolve("loss.csv")).subList(1, Files.readAllLines(out.resolve("loss.csv")).size()))
            l.add(line.split(",")[2]);
        return l;
    }

    @Test
    void loraRunWritesAdapterLogsAndResumes(@TempDir Path tmp) throws Exception {
        StringWriter err = new StringWriter();
        Path straight = tmp.resolve("straight"), split = tmp.resolve("split");
        assertEquals(0, run(args(straight, 3), err), err.toString());
        JsonNode cfg = Json.read(straight.resolve("adapter_config.json"));
        assertEquals("LORA", cfg.get("peft_type").asText());
        assertEquals(List.of("down_proj", "q_proj"), List.of(cfg.get("target_modules").get(0).asText(), cfg.get("target_modules").get(1).asText()));
        for (String f : List.of("adapter_model.safetensors", "loss.csv", "loss.json", "loss.png", "checkpoint.safetensors"))
            assertTrue(Files.size(straight.resolve(f)) > 0, f);
        assertEquals(3, losses(straight).size());

        List<String> first = args(split, 3);
        first.addAll(List.of("--stop-after", "2"));
        assertEquals(0, run(first, err), err.toString());
        assertTrue(!Files.exists(split.resolve("adapter_model.safetensors")), "no adapter before the run ends");
        assertEquals(2, losses(split).size());
        List<String> resumed = args(split, 3);
        resumed.add("--resume");
        assertEquals(0, run(resumed, err), err.toString());
        assertEquals(losses(straight), losses(split), "loss curve of a run resumed from its step-2 checkpoint");
    }

    @Test
    void bleuSamplesWriteBleuAtEachValidation(@TempDir Path tmp) throws Exception {
        StringWriter err = new StringWriter();
        Path out = tmp.resolve("bleu");
        List<String> a = args(out, 3);
        a.addAll(List.of("--eval-every", "2", "--bleu-samples", "2", "--bleu-max-new-tokens", "8"));
        java.io.ByteArrayOutputStream console = new java.io.ByteArrayOutputStream();
        java.io.PrintStream saved = System.err;
        System.setErr(new java.io.PrintStream(console, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            assertEquals(0, run(a, err), err.toString());
        } finally {
            System.setErr(saved);
        }
        List<String> rows = Files.readAllLines(out.resolve("bleu.csv"));
        assertEquals("step,direction,bleu,sentences", rows.getFirst());
        List<String> keys = new ArrayList<>();
        for (String r : rows.subList(1, rows.size())) {
            String[] c = r.split(",");
            keys.add(c[0] + " " + c[1]);
            double bleu = Double.parseDouble(c[2]);
            assertTrue(bleu >= 0 && bleu <= 100, r);
            assertEquals("2", c[3], r);
        }
        // before training, at the validation of step 2 and at the end (step 3)
        assertEquals(List.of("0 de-en", "0 en-de", "2 de-en", "2 en-de", "3 de-en", "3 en-de"), keys);
        String printed = console.toString(java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(printed.contains("step 2 validation BLEU de-en "), printed);

        Path split = tmp.resolve("split");
        List<String> first = args(split, 3);
        first.addAll(List.of("--eval-every", "2", "--bleu-samples", "2", "--bleu-max-new-tokens", "8", "--stop-after", "2"));
        assertEquals(0, run(first, err), err.toString());
        List<String> resumed = args(split, 3);
        resumed.addAll(List.of("--eval-every", "2", "--bleu-samples", "2", "--bleu-max-new-tokens", "8", "--resume"));
        assertEquals(0, run(resumed, err), err.toString());
        assertEquals(rows, Files.readAllLines(split.resolve("bleu.csv")), "a resumed run keeps the BLEU rows before its checkpoint");
    }

    @Test
    void bleuSamplesNeedStageTwo(@TempDir Path tmp) {
        StringWriter err = new StringWriter();
        List<String> a = args(tmp, 1);
        a.set(a.indexOf("--stage") + 1, "1");
        a.addAll(List.of("--bleu-samples", "2"));
        assertEquals(1, run(a, err));
        assertTrue(err.toString().contains("--bleu-samples needs --stage 2"), err.toString());
    }

    @Test
    void badArgumentsAreOneLineErrors(@TempDir Path tmp) {
        StringWriter err = new StringWriter();
        List<String> a = args(tmp, 1);
        a.set(a.indexOf("--stage") + 1, "3");
        assertEquals(1, run(a, err));
        assertTrue(err.toString().contains("--stage must be 1 or 2"), err.toString());
    }
}
