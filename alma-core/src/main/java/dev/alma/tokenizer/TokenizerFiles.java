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
        byte[] head = head(path);
        if (head.length >= 4 && head[0] == 'G' && head[1] == 'G' && head[2] == 'U' && head[3] == 'F')
            throw new FormatException(path, null, "is a GGUF file: its tokenizer.ggml.* vocabulary is read with the "
                    + "model (SentencePieceTokenizer.fromVocabulary), not by Tokenizer.load");
        if (path.getFileName().toString().endsWith(".json") || (head.length > 0 && head[0] == '{'))
            return TokenizerJsonFile.read(path);
        return SentencePieceModelFile.read(path);
    }

    private static byte[] head(Path path) {
        try (InputStream in = Files.newInputStream(path)) {
            return in.readNBytes(4);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + path, e);
        }
    }
}
