package dev.alma.cli;

import dev.alma.AlmaException;
import dev.alma.decode.DecodingOptions;
import dev.alma.decode.Generator;
import dev.alma.decode.Hypothesis;
import dev.alma.io.Json;
import dev.alma.model.LlamaModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code alma generate}: continue a token sequence (greedy, sampling or beam search). */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Continue --ids with the model and print the generated token ids (Hugging Face generate semantics).")
final class GenerateCommand implements Runnable {
    @Mixin
    ModelMixin model;

    @Option(names = "--ids", required = true, description = "prompt token ids (include BOS yourself)")
    String ids;

    @Option(names = "--max-new-tokens", defaultValue = "256", description = "most tokens to generate")
    int maxNewTokens;

    @Option(names = "--min-new-tokens", defaultValue = "0", description = "EOS is suppressed before this many tokens")
    int minNewTokens;

    @Option(names = "--beams", defaultValue = "1", description = "beam search with this many beams (1: greedy or sampling)")
    int beams;

    @Option(names = "--num-return", defaultValue = "1", description = "sequences to print (best beams, or samples)")
    int numReturn;

    @Option(names = "--length-penalty", defaultValue = "1.0", description = "beam score = sum of log-probs / length^penalty")
    double lengthPenalty;

    @Option(names = "--early-stopping", defaultValue = "false", description = "false, true or never")
    String earlyStopping;

    @Option(names = "--full-length-normalization",
            description = "normalize beam scores by prompt + generated length (older transformers, ALMA 2023)")
    boolean fullLength;

    @Option(names = "--sample", description = "sample instead of choosing the most likely tokens")
    boolean sample;

    @Option(names = "--temperature", defaultValue = "1.0", description = "sampling temperature")
    double temperature;

    @Option(names = "--top-k", defaultValue = "0", description = "sample among the k most likely tokens (0: all)")
    int topK;

    @Option(names = "--top-p", defaultValue = "1.0", description = "nucleus sampling mass")
    double topP;

    @Option(names = "--seed", defaultValue = "0", description = "random seed for sampling")
    long seed;

    @Option(names = "--repetition-penalty", defaultValue = "1.0", description = "penalty on tokens already present (1: off)")
    double repetitionPenalty;

    @Option(names = "--no-repeat-ngram", defaultValue = "0", description = "never repeat an n-gram of this size (0: off)")
    int noRepeatNgram;

    @Option(names = "--json", description = "print {\"sequences\": [[ids]...], \"scores\": [...]}")
    boolean json;

    @Override
    public void run() {
        int[] prompt = ModelMixin.parseIds(ids);
        DecodingOptions options;
        try {
            options = new DecodingOptions(beams, numReturn, maxNewTokens, minNewTokens, lengthPenalty, earlyStopping,
                    sample, temperature, topK, topP, seed, repetitionPenalty, noRepeatNgram, List.of(), fullLength);
        } catch (IllegalArgumentException e) {
            throw new AlmaException(e.getMessage());
        }
        try (LlamaModel m = model.open()) {
            List<Hypothesis> out;
            try {
                out = new Generator(m, options).generate(prompt);
            } catch (IllegalArgumentException e) {
                throw new AlmaException(e.getMessage());
            }
            if (json) {
                List<int[]> sequences = new ArrayList<>();
                List<Double> scores = new ArrayList<>();
                for (Hypothesis h : out) {
                    sequences.add(h.tokens());
                    scores.add(h.score());
                }
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("sequences", sequences);
                o.put("scores", scores);
                System.out.println(Json.write(o));
            } else {
                for (Hypothesis h : out) {
                    StringBuilder sb = new StringBuilder();
                    for (int t : h.tokens()) sb.append(sb.isEmpty() ? "" : " ").append(t);
                    System.out.println(sb);
                }
            }
        }
    }
}
