package dev.alma.io;

import dev.alma.model.LlamaConfig;
import dev.alma.tensor.DType;
import dev.alma.tensor.Layouts;
import dev.alma.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A memory-mapped GGUF file (versions 2 and 3, little-endian): the header, typed metadata, tensor infos and the
 * tensor data, which stays in the mapping ({@link Tensor#data()} is a slice of it). Shapes are presented row-major
 * like safetensors ({@code [rows, cols]}; GGUF stores dimensions innermost first).
 *
 * <p>Every length, count, offset and dimension is checked against the file's size before it is used, so a damaged
 * or hostile file fails with a {@link FormatException} naming the file and field, never with an allocation
 * proportional to a length field.
 */
public final class GgufFile implements AutoCloseable {
    /** "GGUF" read as a little-endian int. */
    static final int MAGIC = 0x46554747;
    /** Alignment of tensor data when {@code general.alignment} is absent. */
    public static final int DEFAULT_ALIGNMENT = 32;
    /** Longest metadata key or tensor name accepted (ggml's tensor names have at most 64 bytes). */
    static final int MAX_NAME_BYTES = 1 << 10;
    /**
     * Most tensors and metadata entries accepted (real files have hundreds to a few thousand tensors and a few
     * dozen entries): with {@link #MAX_NAME_BYTES} this bounds the heap that the tensor table and metadata index
     * take (a few tens of MB at worst), whatever the file's size.
     */
    static final int MAX_TENSORS = 1 << 14, MAX_KVS = 1 << 14;
    /** Longest metadata array accepted (vocabularies and merge lists have up to a few hundred thousand entries). */
    static final int MAX_ARRAY = 1 << 24;
    /** ggml tensors have at most four dimensions. */
    static final int MAX_DIMS = 4;
    /** Smallest encodings of a metadata entry (empty key, one-byte value) and a tensor info (empty name, 1-D). */
    private static final int MIN_KV_BYTES = 8 + 4 + 1, MIN_TENSOR_INFO_BYTES = 8 + 4 + 8 + 4 + 8;

    private final Path file;
    private final Arena arena;
    private final int version;
    private final long alignment;
    private final MemorySegment all;
    private final Map<String, Entry> metadata;
    private final Map<String, Tensor> tensors;

    /** A metadata value: its type, and where it lies (scalars and strings are decoded when asked for). */
    private record Entry(GgufValueType type, long offset, long length, GgufArray array) {
    }

    private GgufFile(Path file, Arena arena, int version, long alignment, MemorySegment all,
                     Map<String, Entry> metadata, Map<String, Tensor> tensors) {
        this.file = file;
        this.arena = arena;
        this.version = version;
        this.alignment = alignment;
        this.all = all;
        this.metadata = metadata;
        this.tensors = tensors;
    }

    /** Maps and validates {@code file}. */
    public static GgufFile open(Path file) {
        return MappedFiles.map(file, 24, "header", "GGUF", (arena, all) -> new Parser(file, all).parse(arena));
    }

    /** Reads the file front to back, checking each field before it is used. */
    private static final class Parser {
        final Path file;
        final MemorySegment s;
        final long size;
        long pos;

        Parser(Path file, MemorySegment s) {
            this.file = file;
            this.s = s;
            this.size = s.byteSize();
        }

        FormatException error(String field, String problem) {
            return new FormatException(file, field, problem);
        }

        void need(long n, String field) {
            if (n < 0 || n > size - pos)
                throw error(field, "truncated: needs " + (n < 0 ? Long.toUnsignedString(n) : n) + " bytes at offset "
                        + pos + ", the file has " + (size - pos) + " left");
        }

        int u32(String field) {
            need(4, field);
            int v = s.get(Layouts.I32, pos);
            pos += 4;
            return v;
        }

        long u64(String field) {
            need(8, field);
            long v = s.get(Layouts.I64, pos);
            pos += 8;
            return v;
        }

        /** A count or length that must fit the bytes left, each unit taking at least {@code unit} bytes. */
        long length(String field, String what, int unit) {
            long n = u64(field);
            if (n < 0 || n > (size - pos) / unit)
                throw error(field, what + " " + Long.toUnsignedString(n) + " exceeds the " + (size - pos)
                        + " bytes left in the file");
            return n;
        }

        /** Skips a string, returning its length; {@link #pos} ends after it. */
        long skipString(String field, long max) {
            long n = length(field, "string length", 1);
            if (n > max) throw error(field, "string length " + n + " exceeds the limit of " + max + " bytes");
            pos += n;
            return n;
        }

        String string(String field) {
            long n = skipString(field, MAX_NAME_BYTES);
            return GgufArray.utf8(s, pos - n, n);
        }

        GgufFile parse(Arena arena) {
            int magic = u32("magic");
            if (magic != MAGIC) throw error("magic", String.format("0x%08x is not a GGUF file's magic", magic));
            int version = u32("version");
            if (version != 2 && version != 3) {
                if ((version & 0xFFFF) == 0 && version != 0)
                    throw error("version", "big-endian GGUF files are not supported");
                throw error("version", "version " + Integer.toUnsignedString(version) + " is not supported (only 2 and 3)");
            }
            long tensorCount = u64("tensor count");
            long kvCount = u64("metadata count");
            if (tensorCount < 0 || tensorCount > MAX_TENSORS)
                throw error("tensor count", Long.toUnsignedString(tensorCount) + " exceeds the limit of " + MAX_TENSORS + " tensors");
            if (kvCount < 0 || kvCount > MAX_KVS)
                throw error("metadata count", Long.toUnsignedString(kvCount) + " exceeds the limit of " + MAX_KVS + " entries");
            if (tensorCount > (size - pos) / MIN_TENSOR_INFO_BYTES)
                throw error("tensor count", Long.toUnsignedString(tensorCount) + " tensors cannot fit in a file of " + size + " bytes");
            if (kvCount > (size - pos) / MIN_KV_BYTES)
                throw error("metadata count", Long.toUnsignedString(kvCount) + " entries cannot fit in a file of " + size + " bytes");

            Map<String, Entry> metadata = new LinkedHashMap<>();
            for (long i = 0; i < kvCount; i++) {
                String key = string("metadata key #" + i);
                if (metadata.containsKey(key)) throw error(key, "duplicate metadata key");
                metadata.put(key, value(key));
            }
            long alignment = DEFAULT_ALIGNMENT;
            Entry a = metadata.get("general.alignment");
            if (a != null) {
                if (!a.type().integral()) throw error("general.alignment", "is " + a.type() + ", not an integer");
                alignment = a.type().readLong(s, a.offset());
                if (alignment <= 0 || alignment > (1 << 30) || Long.bitCount(alignment) != 1)
                    throw error("general.alignment", Long.toUnsignedString(alignment) + " is not a power of two up to 2^30");
            }

            record Info(String name, long[] dims, DType type, long offset) {
            }
            List<Info> infos = new ArrayList<>();
            Set<String> names = new HashSet<>();
            for (long i = 0; i < tensorCount; i++) {
                String name = string("tensor #" + i + " name");
                if (!names.add(name)) throw error(name, "duplicate tensor name");
                int nDims = u32(name + ".n_dims");
                if (nDims < 1 || nDims > MAX_DIMS)
                    throw error(name + ".n_dims", Integer.toUnsignedString(nDims) + " dimensions (expected 1.." + MAX_DIMS + ")");
                long[] dims = new long[nDims];
                for (int d = 0; d < nDims; d++) dims[d] = u64(name + ".dims");
                long typeId = u32(name + ".type") & 0xFFFF_FFFFL;
                DType type = GgmlType.toDType(typeId);
                if (type == null) throw error(name, "unsupported tensor type " + GgmlType.describe(typeId));
                long offset = u64(name + ".offset");
                infos.add(new Info(name, dims, type, offset));
            }

            long dataStart = Math.ceilDiv(pos, alignment) * alignment;
            long dataSize = Math.max(0, size - dataStart);
            MemorySegment data = dataStart <= size ? s.asSlice(dataStart) : MemorySegment.NULL;
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (Info t : infos) {
                long[] shape = shape(t.name(), t.dims(), t.type());
                long bytes = t.type().byteSize(count(shape));
                long off = t.offset();
                if (off < 0 || off % alignment != 0)
                    throw error(t.name() + ".offset", Long.toUnsignedString(off) + " is not a multiple of the alignment " + alignment);
                if (bytes > dataSize || off > dataSize - bytes)
                    throw error(t.name() + ".offset", "data [" + off + ", " + (off + bytes) + ") lies outside the "
                            + dataSize + " data bytes (the file is truncated or the offset is wrong)");
                tensors.put(t.name(), new Tensor(t.name(), t.type(), shape, data.asSlice(off, bytes)));
            }
            checkOverlaps(tensors);
            return new GgufFile(file, arena, version, alignment, s, Collections.unmodifiableMap(metadata),
                    Collections.unmodifiableMap(tensors));
        }

        private Entry value(String key) {
            long id = u32(key + " type") & 0xFFFF_FFFFL;
            GgufValueType type = GgufValueType.byId(id);
            if (type == null) throw error(key, "unknown metadata value type " + id);
            long start = pos;
            if (type == GgufValueType.STRING) {
                long n = skipString(key, Integer.MAX_VALUE - 8);
                return new Entry(type, start + 8, n, null);
            }
            if (type != GgufValueType.ARRAY) {
                need(type.size(), key);
                pos += type.size();
                return new Entry(type, start, type.size(), null);
            }
            long elemId = u32(key + " element type") & 0xFFFF_FFFFL;
            GgufValueType elem = GgufValueType.byId(elemId);
            if (elem == null) throw error(key, "unknown array element type " + elemId);
            if (elem == GgufValueType.ARRAY) throw error(key, "nested arrays are not supported");
            long count = length(key, "array length", elem == GgufValueType.STRING ? 8 : elem.size());
            if (count > MAX_ARRAY) throw error(key, "array length " + count + " exceeds the limit of " + MAX_ARRAY);
            long begin = pos;
            if (elem == GgufValueType.STRING) {
                for (long i = 0; i < count; i++) skipString(key + "[" + i + "]", Integer.MAX_VALUE - 8);
            } else {
                pos += count * elem.size();
            }
            return new Entry(type, start, pos - start, new GgufArray(file, key, elem, (int) count, s.asSlice(begin, pos - begin)));
        }

        /** GGUF dims (innermost first) to a row-major shape, checking sizes and block alignment. */
        private long[] shape(String name, long[] dims, DType type) {
            long limit = dims.length >= 2 ? LlamaConfig.MAX_DIM : Integer.MAX_VALUE;
            long[] shape = new long[dims.length];
            long count = 1;
            for (int d = 0; d < dims.length; d++) {
                long n = dims[d];
                if (n <= 0 || n > limit)
                    throw error(name + ".dims", "dimension " + Long.toUnsignedString(n) + " in " + dimsText(dims)
                            + " is out of range 1.." + limit);
                if (count > Long.MAX_VALUE / n) throw error(name + ".dims", "element count of " + dimsText(dims) + " overflows");
                count *= n;
                shape[dims.length - 1 - d] = n;
            }
            if (dims[0] % type.blockSize() != 0)
                throw error(name + ".dims", "row length " + dims[0] + " is not a multiple of the " + type
                        + " block size " + type.blockSize());
            if (type.byteSize(count) < 0) throw error(name + ".dims", "byte size of " + dimsText(dims) + " overflows");
            return shape;
        }

        private static String dimsText(long[] dims) {
            StringBuilder b = new StringBuilder("[");
            for (int i = 0; i < dims.length; i++) b.append(i == 0 ? "" : ", ").append(Long.toUnsignedString(dims[i]));
            return b.append("] (innermost first)").toString();
        }

        private static long count(long[] shape) {
            long n = 1;
            for (long d : shape) n *= d;
            return n;
        }

        private void checkOverlaps(Map<String, Tensor> tensors) {
            List<Tensor> sorted = new ArrayList<>(tensors.values());
            sorted.sort(Comparator.comparingLong(t -> t.data().address()));
            for (int i = 1; i < sorted.size(); i++) {
                Tensor prev = sorted.get(i - 1), cur = sorted.get(i);
                if (cur.data().address() < prev.data().address() + prev.data().byteSize())
                    throw error(cur.name() + ".offset", "data overlaps tensor " + prev.name());
            }
        }
    }

    /** The file this was read from. */
    public Path file() {
        return file;
    }

    /** The format version (2 or 3). */
    public int version() {
        return version;
    }

    /** Alignment of the tensor data, from {@code general.alignment} or the default 32. */
    public long alignment() {
        return alignment;
    }

    /** Tensors by name (llama.cpp's names), in file order; shapes row-major. */
    public Map<String, Tensor> tensors() {
        return tensors;
    }

    /** The tensor called {@code name}, or null. */
    public Tensor tensor(String name) {
        return tensors.get(name);
    }

    /** Metadata keys, in file order. */
    public Set<String> keys() {
        return metadata.keySet();
    }

    /** True when metadata key {@code key} is present. */
    public boolean has(String key) {
        return metadata.containsKey(key);
    }

    /** The type of metadata value {@code key}, or null when absent. */
    public GgufValueType typeOf(String key) {
        Entry e = metadata.get(key);
        return e == null ? null : e.type();
    }

    /**
     * Metadata value {@code key} decoded: a Long for every integer type (UINT64 above 2^63 wraps), Float,
     * Double, Boolean, String or {@link GgufArray}; null when absent.
     */
    public Object get(String key) {
        Entry e = metadata.get(key);
        if (e == null) return null;
        return switch (e.type()) {
            case STRING -> GgufArray.utf8(all, e.offset(), e.length());
            case ARRAY -> e.array();
            case FLOAT32 -> all.get(Layouts.F32, e.offset());
            case FLOAT64 -> e.type().readDouble(all, e.offset());
            case BOOL -> all.get(ValueLayout.JAVA_BYTE, e.offset()) != 0;
            default -> e.type().readLong(all, e.offset());
        };
    }

    private Entry require(String key) {
        Entry e = metadata.get(key);
        if (e == null) throw new FormatException(file, key, "missing");
        return e;
    }

    private FormatException wrongType(String key, Entry e, String wanted) {
        return new FormatException(file, key, "is " + e.type() + ", not " + wanted);
    }

    /** String value {@code key}; missing or of another type is a format error. */
    public String getString(String key) {
        Entry e = require(key);
        if (e.type() != GgufValueType.STRING) throw wrongType(key, e, "a string");
        return (String) get(key);
    }

    /** String value {@code key}, or {@code dflt} when absent. */
    public String getString(String key, String dflt) {
        return has(key) ? getString(key) : dflt;
    }

    /** Integer value {@code key} (any integer type). */
    public long getLong(String key) {
        Entry e = require(key);
        if (!e.type().integral()) throw wrongType(key, e, "an integer");
        return e.type().readLong(all, e.offset());
    }

    /** Integer value {@code key}, or {@code dflt} when absent. */
    public long getLong(String key, long dflt) {
        return has(key) ? getLong(key) : dflt;
    }

    /** Integer value {@code key}; a value outside the int range is a format error. */
    public int getInt(String key) {
        long v = getLong(key);
        if (v != (int) v || (typeOf(key) == GgufValueType.UINT64 && v < 0))
            throw new FormatException(file, key, (typeOf(key) == GgufValueType.UINT64 ? Long.toUnsignedString(v) : v) + " does not fit an int");
        return (int) v;
    }

    /** Integer value {@code key}, or {@code dflt} when absent. */
    public int getInt(String key, int dflt) {
        return has(key) ? getInt(key) : dflt;
    }

    /** Numeric value {@code key} (float or integer types) as a double. */
    public double getDouble(String key) {
        Entry e = require(key);
        if (e.type().size() < 0 || e.type() == GgufValueType.BOOL) throw wrongType(key, e, "a number");
        return e.type().readDouble(all, e.offset());
    }

    /** Numeric value {@code key}, or {@code dflt} when absent. */
    public double getDouble(String key, double dflt) {
        return has(key) ? getDouble(key) : dflt;
    }

    /** Numeric value {@code key} as a float. */
    public float getFloat(String key) {
        return (float) getDouble(key);
    }

    /** Numeric value {@code key} as a float, or {@code dflt} when absent. */
    public float getFloat(String key, float dflt) {
        return has(key) ? getFloat(key) : dflt;
    }

    /** Boolean value {@code key}, or {@code dflt} when absent. */
    public boolean getBoolean(String key, boolean dflt) {
        if (!has(key)) return dflt;
        Entry e = require(key);
        if (e.type() != GgufValueType.BOOL) throw wrongType(key, e, "a bool");
        return (Boolean) get(key);
    }

    /** Array value {@code key}; missing or of another type is a format error. */
    public GgufArray getArray(String key) {
        Entry e = require(key);
        if (e.type() != GgufValueType.ARRAY) throw wrongType(key, e, "an array");
        return e.array();
    }

    /** Unmaps the file; tensors of this file must not be used afterwards. */
    @Override
    public void close() {
        arena.close();
    }

    @Override
    public String toString() {
        return "GGUF v" + version + " " + file + " (" + tensors.size() + " tensors, " + metadata.size() + " metadata entries)";
    }
}
