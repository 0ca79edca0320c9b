package dev.alma.io;

import com.fasterxml.jackson.databind.JsonNode;
import dev.alma.tensor.DType;
import dev.alma.tensor.Layouts;
import dev.alma.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A memory-mapped {@code .safetensors} file: an 8-byte little-endian header length, a JSON header mapping tensor
 * names to {@code dtype}, {@code shape} and {@code data_offsets}, then the tensor bytes. Tensors are views of the
 * mapping; nothing is copied onto the heap. Every field is validated against the file's size before use.
 */
public final class SafeTensors implements AutoCloseable {
    /** Largest header accepted (parsing costs ~10x its size in heap); real headers of 13B checkpoints are ~50 KB. */
    static final long MAX_HEADER_BYTES = 16L << 20;

    private final Path file;
    private final Arena arena;
    private final Map<String, Tensor> tensors;
    private final Map<String, String> metadata;

    private SafeTensors(Path file, Arena arena, Map<String, Tensor> tensors, Map<String, String> metadata) {
        this.file = file;
        this.arena = arena;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    /** Maps and validates {@code file}. */
    public static SafeTensors open(Path file) {
        return MappedFiles.map(file, 8, "header length", "safetensors", (arena, all) -> parse(file, arena, all));
    }

    private static SafeTensors parse(Path file, Arena arena, MemorySegment all) {
        long size = all.byteSize();
        long n = all.get(Layouts.I64, 0);
        if (n < 2 || n > size - 8 || n > MAX_HEADER_BYTES)
            throw new FormatException(file, "header length", "header length " + Long.toUnsignedString(n)
                    + " does not fit a file of " + size + " bytes");
        byte[] headerBytes = all.asSlice(8, n).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        if (headerBytes[0] != '{') throw new FormatException(file, "header", "does not start with '{'");
        JsonNode header = Json.parse(file, "header", headerBytes);
        if (!header.isObject()) throw new FormatException(file, "header", "is not a JSON object");
        long base = 8 + n;
        MemorySegment data = all.asSlice(base);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        List<long[]> ranges = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String name = e.getKey();
            JsonNode v = e.getValue();
            if (name.equals("__metadata__")) {
                if (v.isObject()) v.fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                continue;
            }
            Tensor t = parseTensor(file, name, v, data);
            tensors.put(name, t);
            ranges.add(new long[]{t.data().address() - data.address(), t.data().byteSize(), ranges.size()});
        }
        ranges.sort(Comparator.comparingLong(r -> r[0]));
        for (int i = 1; i < ranges.size(); i++) {
            long[] prev = ranges.get(i - 1), cur = ranges.get(i);
            if (cur[0] < prev[0] + prev[1]) {
                List<String> names = new ArrayList<>(tensors.keySet());
                throw new FormatException(file, names.get((int) cur[2]), "data overlaps tensor " + names.get((int) prev[2]));
            }
        }
        return new SafeTensors(file, arena, Collections.unmodifiableMap(tensors), Collections.unmodifiableMap(metadata));
    }

    private static Tensor parseTensor(Path file, String name, JsonNode v, MemorySegment data) {
        if (!v.isObject()) throw new FormatException(file, name, "entry is not an object");
        JsonNode dt = v.get("dtype"), sh = v.get("shape"), off = v.get("data_offsets");
        if (dt == null || !dt.isTextual()) throw new FormatException(file, name + ".dtype", "missing or not a string");
        DType type = switch (dt.asText()) {
            case "F32" -> DType.F32;
            case "F16" -> DType.F16;
            case "BF16" -> DType.BF16;
            case "I32" -> DType.I32;
            case "I64" -> DType.I64;
            default -> throw new FormatException(file, name + ".dtype", "unsupported dtype " + dt.asText());
        };
        if (sh == null || !sh.isArray() || sh.size() > 8)
            throw new FormatException(file, name + ".shape", "missing or not an array of at most 8 dimensions");
        long[] shape = new long[sh.size()];
        long count = 1;
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = sh.get(i);
            if (!d.canConvertToLong() || !d.isIntegralNumber() || d.asLong() < 0)
                throw new FormatException(file, name + ".shape", "dimension " + d + " is not a non-negative integer");
            shape[i] = d.asLong();
            if (shape[i] != 0 && count > Long.MAX_VALUE / shape[i])
                throw new FormatException(file, name + ".shape", "element count overflows");
            count *= shape[i];
        }
        if (off == null || !off.isArray() || off.size() != 2 || !off.get(0).isIntegralNumber() || !off.get(1).isIntegralNumber())
            throw new FormatException(file, name + ".data_offsets", "missing or not [begin, end]");
        long begin = off.get(0).asLong(), end = off.get(1).asLong();
        if (begin < 0 || end < begin || end > data.byteSize())
            throw new FormatException(file, name + ".data_offsets", "[" + begin + ", " + end + "] outside the "
                    + data.byteSize() + " data bytes");
        long need = type.byteSize(count);
        if (need != end - begin)
            throw new FormatException(file, name + ".data_offsets", "shape " + java.util.Arrays.toString(shape) + " of "
                    + type + " needs " + need + " bytes, offsets give " + (end - begin));
        return new Tensor(name, type, shape, data.asSlice(begin, end - begin));
    }

    /** The file this was read from. */
    public Path file() {
        return file;
    }

    /** Tensors by name, in header order. */
    public Map<String, Tensor> tensors() {
        return tensors;
    }

    /** The tensor called {@code name}, or null. */
    public Tensor get(String name) {
        return tensors.get(name);
    }

    /** The {@code __metadata__} entries. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** Unmaps the file; tensors of this file must not be used afterwards. */
    @Override
    public void close() {
        arena.close();
    }
}
