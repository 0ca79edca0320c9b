package dev.alma.model;

import dev.alma.io.GgufFile;
import dev.alma.io.GgufWriter;
import dev.alma.tensor.DType;
import dev.alma.tensor.Tensor;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A LLaMA-2 7B-shape GGUF (hidden 4096, 32 layers, FFN 11008, 32 heads, vocab 32000) with random Q4_0 weights,
 * about 3.8 GB, is streamed to disk by {@link GgufWriter} and opened by {@link GgufFile} + {@link GgufCheckpoint}
 * in a child JVM limited to a 512 MB heap: the weights stay in the mapping.
 */
@Tag("slow")
class Gguf7BShapeTest {
    static final int HIDDEN = 4096, LAYERS = 32, FFN = 11008, HEADS = 32, VOCAB = 32000;

    static void write7B(Path p, DType type) {
        GgufWriter w = new GgufWriter()
                .putString("general.architecture", "llama")
                .putString("general.name", "random 7B shape")
                .putUInt32("llama.context_length", 4096)
                .putUInt32("llama.embedding_length", HIDDEN)
                .putUInt32("llama.feed_forward_length", FFN)
                .putUInt32("llama.block_count", LAYERS)
                .putUInt32("llama.attention.head_count", HEADS)
                .putUInt32("llama.attention.head_count_kv", HEADS)
                .putUInt32("llama.rope.dimension_count", HIDDEN / HEADS)
                .putFloat32("llama.attention.layer_norm_rms_epsilon", 1e-5f)
                .putString("tokenizer.ggml.model", "llama");
        String[] tokens = new String[VOCAB];
        float[] scores = new float[VOCAB];
        int[] types = new int[VOCAB];
        for (int i = 0; i < VOCAB; i++) {
            tokens[i] = i < 3 ? List.of("<unk>", "<s>", "</s>").get(i) : "▁t" + i;
            scores[i] = -i;
            types[i] = i == 0 ? 2 : i < 3 ? 3 : 1;
        }
        w.putStrings("tokenizer.ggml.tokens", tokens).putFloat32s("tokenizer.ggml.scores", scores)
                .putInt32s("tokenizer.ggml.token_type", types)
                .putUInt32("tokenizer.ggml.bos_token_id", 1).putUInt32("tokenizer.ggml.eos_token_id", 2);
        // a pool of random rows per width keeps generation cheap; every row is still quantized and written
        GgufWriter.Rows rows = pooled(0.05f);
        w.tensor("token_embd.weight", type, new long[]{VOCAB, HIDDEN}, rows);
        for (int l = 0; l < LAYERS; l++) {
            String b = "blk." + l + ".";
            w.tensor(b + "attn_norm.weight", DType.F32, new long[]{HIDDEN}, rows);
            w.tensor(b + "attn_q.weight", type, new long[]{HIDDEN, HIDDEN}, rows);
            w.tensor(b + "attn_k.weight", type, new long[]{HIDDEN, HIDDEN}, rows);
            w.tensor(b + "attn_v.weight", type, new long[]{HIDDEN, HIDDEN}, rows);
            w.tensor(b + "attn_output.weight", type, new long[]{HIDDEN, HIDDEN}, rows);
            w.tensor(b + "ffn_norm.weight", DType.F32, new long[]{HIDDEN}, rows);
            w.tensor(b + "ffn_gate.weight", type, new long[]{FFN, HIDDEN}, rows);
            w.tensor(b + "ffn_up.weight", type, new long[]{FFN, HIDDEN}, rows);
            w.tensor(b + "ffn_down.weight", type, new long[]{HIDDEN, FFN}, rows);
        }
        w.tensor("output_norm.weight", DType.F32, new long[]{HIDDEN}, rows);
        w.tensor("output.weight", type, new long[]{VOCAB, HIDDEN}, rows);
        w.write(p);
    }

    /** Rows drawn from 37 random rows per width (rotated by the row index so neighbours differ). */
    static GgufWriter.Rows pooled(float scale) {
        java.util.Map<Integer, float[][]> pools = new java.util.concurrent.ConcurrentHashMap<>();
        return (r, out) -> {
            float[][] pool = pools.computeIfAbsent(out.length, n -> {
                Random rnd = new Random(n);
                float[][] p = new float[37][n];
                for (float[] row : p) for (int i = 0; i < n; i++) row[i] = (float) ((rnd.nextDouble() * 2 - 1) * scale);
                return p;
            });
            System.arraycopy(pool[(int) (r % 37)], 0, out, 0, out.length);
        };
    }

    /** Run in the child JVM: opens the file, builds the checkpoint and vocabulary, touches every tensor. */
    public static void main(String[] args) {
        Path p = Path.of(args[0]);
        try (GgufFile f = GgufFile.open(p)) {
            GgufCheckpoint ck = GgufCheckpoint.of(f);
            GgufVocabulary v = ck.vocabulary();
            long bytes = 0, sum = 0;
            for (Tensor t : ck.tensors().values()) {
                bytes += t.data().byteSize();
                sum += t.data().get(ValueLayout.JAVA_BYTE, 0) + t.data().get(ValueLayout.JAVA_BYTE, t.data().byteSize() - 1);
            }
            Runtime rt = Runtime.getRuntime();
            System.gc();
            System.out.println("config " + ck.config());
            System.out.println("tensors " + ck.tensors().size() + " bytes " + bytes + " tokens " + v.size() + " checksum " + sum);
            System.out.println("heap used " + (rt.totalMemory() - rt.freeMemory()) + " max " + rt.maxMemory());
        }
    }

    @Test
    void sevenBShapeQ4_0OpensInA512MegabyteHeap(@TempDir Path dir) throws IOException, InterruptedException {
        Path p = dir.resolve("random-7b-q4_0.gguf");
        long t0 = System.nanoTime();
        write7B(p, DType.Q4_0);
        long size = Files.size(p);
        System.out.printf("wrote %s: %.2f GB in %.1f s%n", p, size / 1e9, (System.nanoTime() - t0) / 1e9);
        assertTrue(size > 3_700_000_000L, "file of " + size + " bytes");

        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process proc = new ProcessBuilder(java, "-Xmx512m", "-cp", System.getProperty("java.class.path"),
                Gguf7BShapeTest.class.getName(), p.toString()).redirectErrorStream(true).start();
        byte[] out = proc.getInputStream().readAllBytes();
        assertTrue(proc.waitFor(120, TimeUnit.SECONDS), "child JVM did not finish");
        String text = new String(out, StandardCharsets.UTF_8);
        System.out.print(text);
        assertEquals(0, proc.exitValue(), text);
        assertTrue(text.contains("tensors 291 "), text);
        assertTrue(text.contains("tokens 32000"), text);
        assertTrue(text.contains("hiddenSize=4096") && text.contains("intermediateSize=11008") && text.contains("numLayers=32"), text);
        long bytes = Long.parseLong(text.replaceAll("(?s).*bytes (\\d+).*", "$1"));
        assertTrue(bytes > 3_700_000_000L, "tensor bytes " + bytes);
    }
}
