package dev.alma.io;

import dev.alma.AlmaException;

import java.nio.file.Path;

/**
 * A file is malformed, truncated or inconsistent. The message names the file and the field at fault.
 */
public class FormatException extends AlmaException {
    private final Path file;
    private final String field;

    public FormatException(Path file, String field, String problem) {
        super(file + ": " + (field == null || field.isEmpty() ? "" : field + ": ") + problem);
        this.file = file;
        this.field = field;
    }

    public FormatException(Path file, String field, String problem, Throwable cause) {
        super(file + ": " + (field == null || field.isEmpty() ? "" : field + ": ") + problem, cause);
        this.file = file;
        this.field = field;
    }

    /** The file at fault. */
    public Path file() {
        return file;
    }

    /** The field, tensor or key at fault, or null when the whole file is. */
    public String field() {
        return field;
    }
}
