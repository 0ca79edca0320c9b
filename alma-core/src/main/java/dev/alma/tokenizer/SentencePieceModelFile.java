package dev.alma.tokenizer;

import dev.alma.io.FormatException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a SentencePiece {@code tokenizer.model} (a serialized {@code ModelProto}): the pieces with their scores and
 * types, the trainer settings that change encoding (model type, byte fallback, special pieces) and the normalizer
 * settings (dummy prefix, extra whitespace, whitespace escaping).
 */
final class SentencePieceModelFile {
    private static final int MODEL_TYPE_BPE = 2;
    /** A model file larger than this is not a tokenizer (LLaMA's is 500 kB, a 256k-piece model's about 5 MB). */
    private static final long MAX_SIZE = 64L << 20;

    private SentencePieceModelFile() {
    }

    static SentencePieceTokenizer read(Path file) {
        byte[] data;
        try {
            long size = Files.size(file);
            if (size > MAX_SIZE) throw new FormatException(file, null, "is " + size + " bytes, too large for a tokenizer model");
            data = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new FormatException(file, null, "file not found");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        return parse(file, data);
    }

    static SentencePieceTokenizer parse(Path file, byte[] data) {
        List<String> pieces = new ArrayList<>();
        List<Float> scores = new ArrayList<>();
        List<Integer> types = new ArrayList<>();
        // TrainerSpec defaults.
        int modelType = 1;
        boolean byteFallback = false, suffix = false;
        String unkPiece = "<unk>", bosPiece = "<s>", eosPiece = "</s>";
        // NormalizerSpec defaults.
        byte[] charsMap = new byte[0];
        boolean addDummyPrefix = true, removeExtra = true, escape = true;

        ProtoReader model = new ProtoReader(file, "ModelProto", data, 0, data.length);
        while (model.hasNext()) {
            switch (model.next()) {
                case 1 -> {
                    String field = "pieces[" + pieces.size() + "]";
                    ProtoReader p = model.readMessage(field);
                    String piece = null;
                    float score = 0;
                    int type = SentencePieceTokenizer.NORMAL;
                    while (p.hasNext()) {
                        switch (p.next()) {
                            case 1 -> piece = p.readString(field + ".piece");
                            case 2 -> score = p.readFloat(field + ".score");
                            case 3 -> type = p.readInt32(field + ".type");
                            default -> p.skip();
                        }
                    }
                    if (piece == null || piece.isEmpty()) throw new FormatException(file, field + ".piece", "is empty");
                    if (type < SentencePieceTokenizer.NORMAL || type > SentencePieceTokenizer.BYTE)
                        throw new FormatException(file, field + ".type", "unknown piece type " + type);
                    pieces.add(piece);
                    scores.add(score);
                    types.add(type);
                }
                case 2 -> {
                    ProtoReader t = model.readMessage("trainer_spec");
                    while (t.hasNext()) {
                        switch (t.next()) {
                            case 3 -> modelType = t.readInt32("trainer_spec.model_type");
                            case 24 -> suffix = t.readBool("trainer_spec.treat_whitespace_as_suffix");
                            case 35 -> byteFallback = t.readBool("trainer_spec.byte_fallback");
                            case 45 -> unkPiece = t.readString("trainer_spec.unk_piece");
                            case 46 -> bosPiece = t.readString("trainer_spec.bos_piece");
                            case 47 -> eosPiece = t.readString("trainer_spec.eos_piece");
                            default -> t.skip();
                        }
                    }
                }
                case 3 -> {
                    ProtoReader n = model.readMessage("normalizer_spec");
                    while (n.hasNext()) {
                        switch (n.next()) {
                            case 2 -> charsMap = n.readBytes("normalizer_spec.precompiled_charsmap");
                            case 3 -> addDummyPrefix = n.readBool("normalizer_spec.add_dummy_prefix");
                            case 4 -> removeExtra = n.readBool("normalizer_spec.remove_extra_whitespaces");
                            case 5 -> escape = n.readBool("normalizer_spec.escape_whitespaces");
                            default -> n.skip();
                        }
                    }
                }
                default -> model.skip();
            }
        }
        if (pieces.isEmpty()) throw new FormatException(file, "pieces", "the model has no pieces");
        if (modelType != MODEL_TYPE_BPE)
            throw new FormatException(file, "trainer_spec.model_type", "model type " + modelType
                    + " is not supported, only BPE (2)" + (modelType == 1 ? " (a unigram model, or a truncated file)" : ""));

        int n = pieces.size();
        String[] p = pieces.toArray(String[]::new);
        float[] s = new float[n];
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            s[i] = scores.get(i);
            t[i] = types.get(i);
        }
        int bos = find(p, t, bosPiece, SentencePieceTokenizer.CONTROL);
        int eos = find(p, t, eosPiece, SentencePieceTokenizer.CONTROL);
        try {
            SentencePieceTokenizer tok = new SentencePieceTokenizer(p, s, t, bos, eos,
                    new SentencePieceTokenizer.Options(addDummyPrefix, removeExtra, escape, suffix, byteFallback),
                    charsMap.length == 0 ? null : new PrecompiledCharsMap(file, charsMap));
            if (!tok.piece(tok.unkId()).equals(unkPiece))
                throw new FormatException(file, "trainer_spec.unk_piece", "'" + unkPiece
                        + "' is not the unknown piece '" + tok.piece(tok.unkId()) + "'");
            return tok;
        } catch (IllegalArgumentException e) {
            throw new FormatException(file, "pieces", e.getMessage());
        }
    }

    /** Id of the piece spelled {@code piece} if it has type {@code type} (as SentencePiece's bos_id()), else -1. */
    private static int find(String[] pieces, int[] types, String piece, int type) {
        for (int i = 0; i < pieces.length; i++) if (types[i] == type && pieces[i].equals(piece)) return i;
        return -1;
    }
}
