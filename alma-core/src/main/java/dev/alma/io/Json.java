package dev.alma.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** The one Jackson mapper of the project, and helpers that turn JSON errors into {@link FormatException}s. */
public final class Json {
    /** Shared, thread-safe mapper. Large documents (tokenizer.json is ~2 MB) are allowed. */
    public static final ObjectMapper MAPPER = JsonMapper.builder().build();

    static {
        MAPPER.getFactory().setStreamReadConstraints(StreamReadConstraints.builder()
                .maxStringLength(256 << 20).maxNestingDepth(200).build());
    }

    private Json() {
    }

    /** Reads a JSON file; a missing file or a syntax error becomes a {@link FormatException} naming the file. */
    public static JsonNode read(Path file) {
        try {
            return MAPPER.readTree(Files.readAllBytes(file));
        } catch (NoSuchFileException e) {
            throw new FormatException(file, null, "file not found");
        } catch (JsonProcessingException e) {
            throw new FormatException(file, null, "invalid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    /** Parses JSON text read from {@code file} (used for headers embedded in binary files). */
    public static JsonNode parse(Path file, String field, byte[] text) {
        try {
            return MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            throw new FormatException(file, field, "invalid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            // in-memory input cannot fail to read: this is undecodable text (e.g. a bad character encoding)
            throw new FormatException(file, field, "cannot decode JSON: " + e.getMessage(), e);
        }
    }

    /** Serializes a value to compact JSON. */
    public static String write(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
