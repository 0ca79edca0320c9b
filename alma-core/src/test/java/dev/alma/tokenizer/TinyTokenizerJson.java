package dev.alma.tokenizer;

/** Small hand-made {@code tokenizer.json} documents whose encodings follow from the declared rules alone. */
final class TinyTokenizerJson {
    private TinyTokenizerJson() {
    }

    private static final String VOCAB = """
            {"<unk>": 0, "<s>": 1, "</s>": 2, "▁": 3, "a": 4, "b": 5, "▁a": 6, "ab": 7, "▁ab": 8, "<0x41>": 9}""";

    private static final String DECODER = """
            {"type": "Sequence", "decoders": [
              {"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
              {"type": "ByteFallback"}, {"type": "Fuse"},
              {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}""";

    private static final String ADDED = """
            [{"id": 0, "content": "<unk>", "special": true}, {"id": 1, "content": "<s>", "special": true},
             {"id": 2, "content": "</s>", "special": true}]""";

    /** Legacy layout: Prepend + Replace normalizers; merges "a b" ranked: ab first, then ▁a, then ▁ab. */
    static final String LEGACY = """
            {"added_tokens": %s,
             "normalizer": {"type": "Sequence", "normalizers": [
               {"type": "Prepend", "prepend": "▁"}, {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]},
             "pre_tokenizer": null,
             "model": {"type": "BPE", "unk_token": "<unk>", "fuse_unk": true, "byte_fallback": true,
               "vocab": %s, "merges": ["a b", "▁ a", "▁ ab"]},
             "decoder": %s}
            """.formatted(ADDED, VOCAB, DECODER);

    /** Metaspace pre-tokenizer that splits words; merges as pairs; ▁a ranks before ab. */
    static final String METASPACE_SPLIT = """
            {"added_tokens": %s,
             "normalizer": null,
             "pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": true},
             "model": {"type": "BPE", "unk_token": "<unk>", "fuse_unk": true, "byte_fallback": false,
               "vocab": %s, "merges": [["▁", "a"], ["a", "b"], ["▁", "ab"]]},
             "decoder": %s}
            """.formatted(ADDED, VOCAB, DECODER);
}
