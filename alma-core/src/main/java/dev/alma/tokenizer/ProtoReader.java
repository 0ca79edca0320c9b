package dev.alma.tokenizer;

import dev.alma.io.FormatException;

import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * A bounds-checked reader of the protocol-buffers wire format over a byte range. Every length is checked against
 * the bytes that remain, so a truncated or corrupted file fails with a {@link FormatException} naming the file and
 * field, never with an out-of-memory or index error.
 */
final class ProtoReader {
    static final int VARINT = 0, FIXED64 = 1, LENGTH_DELIMITED = 2, START_GROUP = 3, END_GROUP = 4, FIXED32 = 5;

    private final Path file;
    private final String message;
    private final byte[] data;
    private int pos;
    private final int end;
    private int tag;

    /** Reads {@code data[from, to)}, a message called {@code message} in errors. */
    ProtoReader(Path file, String message, byte[] data, int from, int to) {
        this.file = file;
        this.message = message;
        this.data = data;
        this.pos = from;
        this.end = to;
    }

    boolean hasNext() {
        return pos < end;
    }

    /** Reads the next key; returns its field number. */
    int next() {
        long key = varint(message);
        if (key >>> 32 != 0 || (key >>> 3) == 0)
            throw error(message, "invalid field key " + Long.toUnsignedString(key));
        tag = (int) key;
        return tag >>> 3;
    }

    int wireType() {
        return tag & 7;
    }

    /** An unsigned or two's-complement varint field (int32 values are the low 32 bits). */
    long readVarint(String field) {
        expect(field, VARINT);
        return varint(field);
    }

    int readInt32(String field) {
        return (int) readVarint(field);
    }

    boolean readBool(String field) {
        return readVarint(field) != 0;
    }

    float readFloat(String field) {
        expect(field, FIXED32);
        need(field, 4);
        int bits = (data[pos] & 0xFF) | (data[pos + 1] & 0xFF) << 8 | (data[pos + 2] & 0xFF) << 16
                | (data[pos + 3] & 0xFF) << 24;
        pos += 4;
        return Float.intBitsToFloat(bits);
    }

    /** A length-delimited field as a sub-reader. */
    ProtoReader readMessage(String field) {
        int len = length(field);
        ProtoReader r = new ProtoReader(file, field, data, pos, pos + len);
        pos += len;
        return r;
    }

    byte[] readBytes(String field) {
        int len = length(field);
        byte[] b = new byte[len];
        System.arraycopy(data, pos, b, 0, len);
        pos += len;
        return b;
    }

    /** A string field, which must be valid UTF-8. */
    String readString(String field) {
        int len = length(field);
        try {
            String s = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(data, pos, len)).toString();
            pos += len;
            return s;
        } catch (CharacterCodingException e) {
            throw error(field, "is not valid UTF-8");
        }
    }

    /** Skips the current field's value. */
    void skip() {
        String field = message + " field " + (tag >>> 3);
        switch (wireType()) {
            case VARINT -> varint(field);
            case FIXED64 -> {
                need(field, 8);
                pos += 8;
            }
            case LENGTH_DELIMITED -> {
                int len = length(field); // read before adding: the length's own bytes move pos
                pos += len;
            }
            case FIXED32 -> {
                need(field, 4);
                pos += 4;
            }
            default -> throw error(field, "unsupported wire type " + wireType());
        }
    }

    FormatException error(String field, String problem) {
        return new FormatException(file, field, problem);
    }

    private void expect(String field, int wireType) {
        if (wireType() != wireType)
            throw error(field, "wire type " + wireType() + ", expected " + wireType);
    }

    private int length(String field) {
        expect(field, LENGTH_DELIMITED);
        long len = varint(field);
        if (len < 0 || len > end - pos)
            throw error(field, "length " + Long.toUnsignedString(len) + " exceeds the " + (end - pos)
                    + " bytes left (file truncated or corrupt)");
        return (int) len;
    }

    private void need(String field, int n) {
        if (end - pos < n) throw error(field, "truncated: needs " + n + " bytes, " + (end - pos) + " left");
    }

    private long varint(String field) {
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos >= end) throw error(field, "truncated varint");
            int b = data[pos++];
            v |= (long) (b & 0x7F) << shift;
            if (b >= 0) return v;
        }
        throw error(field, "varint longer than 10 bytes");
    }
}
