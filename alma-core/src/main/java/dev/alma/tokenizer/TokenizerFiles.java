package dev.alma.tokenizer;

import dev.alma.io.FormatException;
import dev.alma.io.GgufFile;
import dev.alma.model.GgufCheckpoint;
import dev.alma.model.GgufVocabulary;

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
        // A GGUF file starts with its magic, a ModelProto with a field key (0x0A for its first piece), JSON with '{'.
        byte[] head = head(path);
        if (path.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".gguf")
                || (head.length >= 4 && head[0] == 'G' && head[1] == 'G' && head[2] == 'U' && head[3] == 'F'))
            return fromGguf(path);
        if (path.getFileName().toString().endsWith(".json") || (head.length > 0 && head[0] == '{'))
            return TokenizerJsonFile.read(path);
        return SentencePieceModelFile.read(path);
    }

    /** The SentencePiece vocabulary of a GGUF file's {@code tokenizer.ggml.*} metadata. */
    private static Tokenizer fromGguf(Path path) {
        try (GgufFile file = GgufFile.open(path)) {
            GgufVocabulary v = GgufCheckpoint.vocabulary(file);
            if (!"llama".equals(v.model()))
                throw new FormatException(path, "tokenizer.ggml.model", "'" + v.model() + "' is not a SentencePiece (llama) vocabulary");
            if (v.scores() == null) throw new FormatException(path, "tokenizer.ggml.scores", "missing");
            if (v.tokenTypes() == null) throw new FormatException(path, "tokenizer.ggml.token_type", "missing");
            int unk = v.unkId();
            for (int i = 0; i < v.tokenTypes().length && unk < 0; i++)
                if (v.tokenTypes()[i] == SentencePieceTokenizer.UNKNOWN) unk = i; // files without unknown_token_id
            try {
                return SentencePieceTokenizer.fromVocabulary(v.tokens(), v.scores(), v.tokenTypes(), v.bosId(), v.eosId(),
                        unk, v.addSpacePrefix() == null || v.addSpacePrefix());
            } catch (IllegalArgumentException e) {
                throw new FormatException(path, "tokenizer.ggml.tokens", e.getMessage());
            }
        }
    }

    private static byte[] head(Path path) {
        try (InputStream in = Files.newInputStream(path)) {
            return in.readNBytes(4);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + path, e);
        }
    }
}
