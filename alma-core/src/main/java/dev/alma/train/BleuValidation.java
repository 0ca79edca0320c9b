package dev.alma.train;

import dev.alma.TranslationOptions;
import dev.alma.Translator;
import dev.alma.backend.cpu.CpuBackend;
import dev.alma.eval.Bleu;
import dev.alma.eval.BleuScore;
import dev.alma.eval.BleuTokenizer;
import dev.alma.model.LlamaModel;
import dev.alma.tokenizer.Tokenizer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Corpus BLEU of the model being trained on validation sentences: the current weights (LoRA merged, see
 * {@link EvalWeights}) translate the first {@code samples} source sentences of each direction with greedy
 * decoding and ALMA's prompt, and sacreBLEU's BLEU ({@code zh} tokenization for Chinese targets, {@code 13a}
 * otherwise) scores them against the references.
 */
public final class BleuValidation {
    /** The score of one direction, with what it was computed from. */
    public record Result(String direction, List<String> sources, List<String> references, List<String> hypotheses, BleuScore bleu) {
    }

    private record Direction(String from, String to, List<String> sources, List<String> references) {
    }

    private final Tokenizer tokenizer;
    private final List<Direction> directions;
    private final int maxNewTokens;
    private final Path source;

    /**
     * @param examples     validation examples; their directions are scored in order of first appearance
     * @param samples      sentences per direction (must be positive)
     * @param maxNewTokens the greedy decoding limit per translation
     * @param source       the model directory trained, named in error messages
     */
    public BleuValidation(List<Stage2Data.Example> examples, Tokenizer tokenizer, int samples, int maxNewTokens, Path source) {
        if (samples <= 0) throw new IllegalArgumentException("BLEU samples per direction must be positive, got " + samples);
        if (maxNewTokens <= 0) throw new IllegalArgumentException("BLEU max new tokens must be positive, got " + maxNewTokens);
        if (examples.isEmpty()) throw new IllegalArgumentException("no validation examples to translate for BLEU");
        Map<String, Direction> byKey = new LinkedHashMap<>();
        for (Stage2Data.Example e : examples) {
            Direction d = byKey.computeIfAbsent(e.src() + "-" + e.tgt(), k -> new Direction(e.src(), e.tgt(), new ArrayList<>(), new ArrayList<>()));
            if (d.sources().size() < samples) {
                d.sources().add(e.source());
                d.references().add(e.target());
            }
        }
        this.directions = List.copyOf(byKey.values());
        this.tokenizer = tokenizer;
        this.maxNewTokens = maxNewTokens;
        this.source = source;
    }

    /** The directions scored, e.g. {@code de-en}. */
    public List<String> directions() {
        return directions.stream().map(d -> d.from() + "-" + d.to()).toList();
    }

    /** The BLEU metric used for a target language. */
    public static Bleu metricFor(String targetLanguage) {
        return Bleu.DEFAULT.withTokenizer(targetLanguage.equals("zh") ? BleuTokenizer.ZH : BleuTokenizer.MTEVAL_13A);
    }

    /** Translates and scores every direction with the model's current weights. */
    public List<Result> evaluate(TrainableLlama model) {
        CpuBackend backend = new CpuBackend(Runtime.getRuntime().availableProcessors());
        LlamaModel inference = LlamaModel.create(EvalWeights.snapshot(model, source), backend, List.of(), backend);
        try (Translator t = Translator.of(inference, tokenizer, TranslationOptions.greedy(maxNewTokens))) {
            List<Result> out = new ArrayList<>();
            for (Direction d : directions) {
                List<String> hyps = t.translateAll(d.sources(), d.from(), d.to(), TranslationOptions.greedy(maxNewTokens));
                BleuScore s = metricFor(d.to()).corpusScore(hyps, List.of(d.references()));
                out.add(new Result(d.from() + "-" + d.to(), List.copyOf(d.sources()), List.copyOf(d.references()), hyps, s));
            }
            return out;
        }
    }
}
