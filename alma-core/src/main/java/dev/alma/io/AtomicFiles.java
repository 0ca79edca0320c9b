package dev.alma.io;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Files that appear whole or not at all: written to a temporary file beside the target, given the usual
 * {@code rw-r--r--} permissions, then renamed over it. A crash leaves the old file (or none), never half a file.
 */
public final class AtomicFiles {
    private AtomicFiles() {
    }

    /** Writes a file's bytes to a stream. */
    @FunctionalInterface
    public interface StreamBody {
        void write(OutputStream out) throws IOException;
    }

    /** Writes a file at the given (temporary) path, for libraries that take a file name. */
    @FunctionalInterface
    public interface FileBody {
        void write(Path tmp) throws IOException;
    }

    /** Writes {@code target} through a buffered stream. */
    public static void write(Path target, StreamBody body) {
        writeFile(target, ".tmp", tmp -> {
            try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20)) {
                body.write(out);
            }
        });
    }

    /** Writes {@code text} as UTF-8. */
    public static void writeString(Path target, String text) {
        write(target, out -> out.write(text.getBytes(StandardCharsets.UTF_8)));
    }

    /** Copies {@code from} to {@code to} (nothing when they are the same file). */
    public static void copy(Path from, Path to) {
        if (from.toAbsolutePath().normalize().equals(to.toAbsolutePath().normalize())) return;
        writeFile(to, ".tmp", tmp -> Files.copy(from, tmp, StandardCopyOption.REPLACE_EXISTING));
    }

    /**
     * Lets {@code body} write a temporary file whose name ends with {@code suffix}, then renames it to
     * {@code target}.
     */
    public static void writeFile(Path target, String suffix, FileBody body) {
        Path dir = target.toAbsolutePath().getParent();
        try {
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, target.getFileName().toString() + ".", suffix);
            try {
                body.write(tmp);
                try {
                    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
                } catch (UnsupportedOperationException notPosix) {
                    // other file systems keep their default permissions
                }
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException | RuntimeException e) {
                Files.deleteIfExists(tmp);
                throw e;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + target, e);
        }
    }
}
