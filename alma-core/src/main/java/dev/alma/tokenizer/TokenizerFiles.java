package dev.alma.tokenizer;

import dev.alma.io.FormatException;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Finds and opens the tokenizer file behind a path given by the user. */
final class TokenizerFiles {
    private TokenizerFiles() {
    }

    static Tokenizer load(Path path) {
        if (Files.isDirectory(path)) {
            Path model = path.resolve("tokenizer.model");
            if (Files.isRegularFile(model)) return SentencePieceModelFile.read(model);
            Path json = path.resolve("tokenizer.json");
            if (Files.isRegularFile(json)) return TokenizerJsonFile.read(json);
            throw new FormatException(path, null, "directory has neither tokenizer.model nor tokenizer.json");
        }
        if (!Files.exists(path)) throw new FormatException(path, null, "file not found");
        // A ModelProto starts with a field key (0x0A for its first piece); a JSON document with '{'.
        if (path.getFileName().toString().endsWith(".json") || firstByte(path) == '{') return TokenizerJsonFile.read(path);
        return SentencePieceModelFile.read(path);
    }

    private static int firstByte(Path path) {
        try (InputStream in = Files.newInputStream(path)) {
            return in.read();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + path, e);
        }
    }
}
