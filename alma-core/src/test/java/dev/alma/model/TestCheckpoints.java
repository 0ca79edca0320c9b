package dev.alma.model;

import dev.alma.io.Json;
import dev.alma.tensor.DType;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * LLaMA checkpoint files for tests of the loader: the expected tensor names and shapes, a config, and sparse zero
 * files for huge shapes. Random small models come from {@link RandomCheckpoint}.
 */
public final class TestCheckpoints {
    private TestCheckpoints() {
    }

    /** A shape. */
    public record Shape(int vocab, int hidden, int ffn, int layers, int heads, int kvHeads) {
        public static Shape llama7b() {
            return new Shape(32000, 4096, 11008, 32, 32, 32);
        }
    }

    /** config.json for {@code s} in transformers 4.x style (as released ALMA checkpoints have). */
    public static void writeConfig(Path dir, Shape s, String dtype) throws IOException {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("architectures", new String[]{"LlamaForCausalLM"});
        c.put("model_type", "llama");
        c.put("hidden_act", "silu");
        c.put("vocab_size", s.vocab());
        c.put("hidden_size", s.hidden());
        c.put("intermediate_size", s.ffn());
        c.put("num_hidden_layers", s.layers());
        c.put("num_attention_heads", s.heads());
        c.put("num_key_value_heads", s.kvHeads());
        c.put("max_position_embeddings", 4096);
        c.put("rms_norm_eps", 1e-5);
        c.put("rope_scaling", null);
        c.put("tie_word_embeddings", false);
        c.put("torch_dtype", dtype);
        c.put("bos_token_id", 1);
        c.put("eos_token_id", 2);
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), Json.write(c));
    }

    /** Tensor names and shapes of a LLaMA checkpoint, in file order. */
    public static Map<String, long[]> tensorShapes(Shape s) {
        Map<String, long[]> m = new LinkedHashMap<>();
        int hd = s.hidden() / s.heads(), kv = s.kvHeads() * hd;
        m.put("model.embed_tokens.weight", new long[]{s.vocab(), s.hidden()});
        for (int i = 0; i < s.layers(); i++) {
            String p = "model.layers." + i + ".";
            m.put(p + "input_layernorm.weight", new long[]{s.hidden()});
            m.put(p + "self_attn.q_proj.weight", new long[]{s.hidden(), s.hidden()});
            m.put(p + "self_attn.k_proj.weight", new long[]{kv, s.hidden()});
            m.put(p + "self_attn.v_proj.weight", new long[]{kv, s.hidden()});
            m.put(p + "self_attn.o_proj.weight", new long[]{s.hidden(), s.hidden()});
            m.put(p + "post_attention_layernorm.weight", new long[]{s.hidden()});
            m.put(p + "mlp.gate_proj.weight", new long[]{s.ffn(), s.hidden()});
            m.put(p + "mlp.up_proj.weight", new long[]{s.ffn(), s.hidden()});
            m.put(p + "mlp.down_proj.weight", new long[]{s.hidden(), s.ffn()});
        }
        m.put("model.norm.weight", new long[]{s.hidden()});
        m.put("lm_head.weight", new long[]{s.vocab(), s.hidden()});
        return m;
    }

    /**
     * A checkpoint of shape {@code s} whose tensor data is a sparse hole of zeros: the file has its full size
     * (13 GB for 7B in f16) but takes no disk space and is written instantly.
     */
    public static Path writeSparse(Path dir, Shape s, DType type) throws IOException {
        writeConfig(dir, s, type == DType.F16 ? "float16" : type == DType.BF16 ? "bfloat16" : "float32");
        Map<String, Object> header = new LinkedHashMap<>();
        long off = 0;
        for (Map.Entry<String, long[]> e : tensorShapes(s).entrySet()) {
            long n = 1;
            for (long d : e.getValue()) n *= d;
            long bytes = type.byteSize(n);
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("dtype", type.name());
            t.put("shape", e.getValue());
            t.put("data_offsets", new long[]{off, off + bytes});
            header.put(e.getKey(), t);
            off += bytes;
        }
        byte[] json = Json.write(header).getBytes(StandardCharsets.UTF_8);
        Path file = dir.resolve("model.safetensors");
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(json.length).array());
            raf.write(json);
            raf.setLength(8 + json.length + off);
        }
        return dir;
    }

}
