package dev.alma.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Maps a whole file read-only for a format reader, closing the mapping again when the reader rejects the file. */
final class MappedFiles {
    private MappedFiles() {
    }

    /** Interprets the mapped bytes of a file; the arena is the reader's to keep (and close) on success. */
    @FunctionalInterface
    interface Reader<T> {
        T read(Arena arena, MemorySegment bytes);
    }

    /**
     * Maps {@code file} into a new shared arena and hands it to {@code reader}.
     *
     * @param minBytes     the smallest size the format allows
     * @param headerField  the field named when the file is shorter than that
     * @param format       the format's name, for messages
     */
    static <T> T map(Path file, long minBytes, String headerField, String format, Reader<T> reader) {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < minBytes)
                throw new FormatException(file, headerField, "file is " + size + " bytes, too short for a " + format + " header");
            return reader.read(arena, ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena));
        } catch (NoSuchFileException e) {
            arena.close();
            throw new FormatException(file, null, "file not found");
        } catch (IOException e) {
            arena.close();
            throw new UncheckedIOException("cannot read " + file, e);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }
}
