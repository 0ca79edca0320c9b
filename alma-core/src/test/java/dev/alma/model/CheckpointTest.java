package dev.alma.model;

import dev.alma.AlmaException;
import dev.alma.Fixtures;
import dev.alma.io.FormatException;
import dev.alma.io.Json;
import dev.alma.io.SafeTensorsWriter;
import dev.alma.tensor.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

class CheckpointTest {
    @TempDir
    Path tmp;

    private static final TestCheckpoints.Shape TINY = new TestCheckpoints.Shape(40, 16, 24, 2, 4, 2);

    private Path write(Map<String, long[]> shapes) throws IOException {
        TestCheckpoints.writeConfig(tmp, TINY, "float32");
        SafeTensorsWriter w = new SafeTensorsWriter();
        for (var e : shapes.entrySet()) {
            long n = 1;
            for (long d : e.getValue()) n *= d;
            w.add(e.getKey(), DType.F32, e.getValue(), new float[(int) n]);
        }
        w.write(tmp.resolve("model.safetensors"));
        return tmp;
    }

    private AlmaException openFails(Path dir) {
        return assertThrows(AlmaException.class, () -> LlamaModel.open(dir, ModelOptions.defaults()).close());
    }

    @Test
    void randomCheckpointOpensAndRuns() throws IOException {
        new RandomCheckpoint(TINY.vocab(), TINY.hidden(), TINY.heads(), TINY.kvHeads(), TINY.layers(), TINY.ffn()).write(tmp, 7);
        try (LlamaModel m = LlamaModel.open(tmp, ModelOptions.defaults())) {
            int[] out = dev.alma.decode.Greedy.generate(m, new int[]{1, 5, 9}, 4, 2);
            assertTrue(out.length >= 1);
        }
    }

    @Test
    void missingTensorsAreNamed() throws IOException {
        var shapes = new java.util.LinkedHashMap<>(TestCheckpoints.tensorShapes(TINY));
        shapes.remove("model.layers.1.mlp.up_proj.weight");
        shapes.remove("lm_head.weight");
        AlmaException e = openFails(write(shapes));
        assertTrue(e.getMessage().contains("model.layers.1.mlp.up_proj.weight") && e.getMessage().contains("lm_head.weight"), e.getMessage());
    }

    @Test
    void extraTensorsAreNamed() throws IOException {
        var shapes = new java.util.LinkedHashMap<>(TestCheckpoints.tensorShapes(TINY));
        shapes.put("model.layers.7.self_attn.q_proj.weight", new long[]{16, 16});
        AlmaException e = openFails(write(shapes));
        assertTrue(e.getMessage().contains("unexpected") && e.getMessage().contains("model.layers.7.self_attn.q_proj.weight"), e.getMessage());
    }

    @Test
    void shapeMismatchGivesBothShapes() throws IOException {
        var shapes = new java.util.LinkedHashMap<>(TestCheckpoints.tensorShapes(TINY));
        shapes.put("model.layers.0.self_attn.k_proj.weight", new long[]{16, 16});
        AlmaException e = openFails(write(shapes));
        assertTrue(e.getMessage().contains("k_proj") && e.getMessage().contains("[16, 16]") && e.getMessage().contains("[8, 16]"), e.getMessage());
    }

    @Test
    void missingShardIsNamed() throws IOException {
        Path src = Fixtures.fixture("models/tiny-llama-gqa-bf16");
        for (String f : List.of("config.json", "model.safetensors.index.json", "model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors"))
            Files.copy(src.resolve(f), tmp.resolve(f));
        AlmaException e = openFails(tmp);
        assertTrue(e.getMessage().contains("model-00003-of-00003.safetensors") && e.getMessage().contains("missing"), e.getMessage());
    }

    @Test
    void directoryWithoutWeightsIsExplained() throws IOException {
        TestCheckpoints.writeConfig(tmp, TINY, "float32");
        Files.writeString(tmp.resolve("pytorch_model.bin"), "x");
        AlmaException e = openFails(tmp);
        assertTrue(e.getMessage().contains("pytorch_model.bin"), e.getMessage());
        assertThrows(FormatException.class, () -> Checkpoint.open(tmp.resolve("nowhere")));
    }

    @Test
    void loraRejectsBinAdapterAndUnknownModules() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("lora"));
        Files.writeString(dir.resolve("adapter_config.json"), Json.write(Map.of("peft_type", "LORA", "r", 4, "lora_alpha", 8)));
        Files.writeString(dir.resolve("adapter_model.bin"), "pickle");
        FormatException e = assertThrows(FormatException.class, () -> LoraAdapter.open(dir));
        assertTrue(e.getMessage().contains("adapter_model.bin"), e.getMessage());
        Files.writeString(dir.resolve("adapter_config.json"), Json.write(Map.of("peft_type", "LORA", "r", 4, "lora_alpha", 8, "use_dora", true)));
        e = assertThrows(FormatException.class, () -> LoraAdapter.open(dir));
        assertTrue(e.getMessage().contains("use_dora"), e.getMessage());
    }

    /** A 7B-shape f16 checkpoint (13.5 GB, a sparse file here) opens and runs a token with a 512 MB heap. */
    @Test
    void sevenBillionShapeOpensWithSmallHeap() throws Exception {
        Path dir = TestCheckpoints.writeSparse(tmp.resolve("7b"), TestCheckpoints.Shape.llama7b(), DType.F16);
        assertTrue(Files.size(dir.resolve("model.safetensors")) > 13_000_000_000L);
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "--add-modules", "jdk.incubator.vector",
                "-cp", System.getProperty("java.class.path"),
                OpenModelMain.class.getName(), dir.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "child JVM timed out");
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("vocab 32000 layers 32 logits 32000"), out);
    }
}
