package dev.alma.cli;

import dev.alma.AlmaException;
import dev.alma.decode.DecodingOptions;
import dev.alma.decode.Generator;
import dev.alma.decode.Logits;
import dev.alma.io.Json;
import dev.alma.model.LlamaModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * {@code alma bench}: prompt-processing and decoding speed, the figures {@code llama-bench -p N -n M} reports.
 * A run prefills a random prompt in one forward pass, then decodes token by token (each step feeds the argmax of
 * the previous logits); the first {@code --warmup} runs let the JIT compile the kernels and are not counted, the
 * median of the others is printed.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measure prefill and decode speed (tokens/s, median of several runs after warm-up runs).")
final class BenchCommand implements Runnable {
    @Mixin
    ModelMixin model;

    @Option(names = "--prompt-tokens", defaultValue = "64", description = "prompt length (prefill)")
    int promptTokens;

    @Option(names = "--new-tokens", defaultValue = "32", description = "tokens decoded after the prompt")
    int newTokens;

    @Option(names = "--runs", defaultValue = "5", description = "measured runs (after the --warmup runs)")
    int runs;

    @Option(names = "--warmup", defaultValue = "2", description = "unmeasured runs first (the JIT compiles the kernels)")
    int warmup;

    @Option(names = "--beams", defaultValue = "0", description = "also measure beam search with this many beams (steps/s)")
    int beams;

    @Option(names = "--batch", defaultValue = "1", paramLabel = "N",
            description = "decode N sequences at once (distinct random prompts, one forward pass per step): tok/s and "
                    + "beam steps/s count all of them")
    int batch;

    @Option(names = "--requests", paramLabel = "FILE",
            description = "instead, a set of requests, one per line: 'NEW_TOKENS' or 'PROMPT_TOKENS NEW_TOKENS' "
                    + "(random prompt ids; each request stopped after its new tokens), greedy, --batch at a time with "
                    + "continuous batching: requests/s and generated tok/s of the whole set")
    Path requests;

    @Option(names = "--wait-for-longest", description = "with --requests: batches of --batch consecutive requests, "
            + "each waiting for its longest request (for comparison with continuous batching)")
    boolean waitForLongest;

    @Option(names = "--json", description = "print {\"prefill_tok_s\": x, \"decode_tok_s\": y}")
    boolean json;

    @Option(names = "--seed", defaultValue = "1", description = "seed of the random prompt")
    long seed;

    @Override
    public void run() {
        if (promptTokens <= 0 || newTokens <= 0 || runs <= 0 || warmup < 0)
            throw new AlmaException("--prompt-tokens, --new-tokens and --runs must be positive, --warmup not negative");
        if (beams < 0 || beams == 1) throw new AlmaException("--beams must be 0 (off) or at least 2");
        if (batch < 1) throw new AlmaException("--batch must be at least 1, not " + batch);
        if (waitForLongest && requests == null) throw new AlmaException("--wait-for-longest needs --requests");
        try (LlamaModel m = model.open()) {
            if (requests != null) {
                benchRequests(m);
                return;
            }
            if ((long) promptTokens + newTokens > m.config().maxPositions())
                throw new AlmaException("--prompt-tokens + --new-tokens exceed the model's context of " + m.config().maxPositions());
            SplittableRandom random = new SplittableRandom(seed);
            List<int[]> prompts = new ArrayList<>(batch);
            for (int b = 0; b < batch; b++) prompts.add(random.ints(promptTokens, 3, m.config().vocabSize()).toArray());
            double[] prefill = new double[runs], decode = new double[runs], steps = new double[beams > 1 ? runs : 0];
            for (int r = -warmup; r < runs; r++) {
                double[] pd = greedyRun(m, prompts);
                double st = beams > 1 ? beamRun(m, prompts) : 0;
                if (r < 0) continue;
                prefill[r] = pd[0];
                decode[r] = pd[1];
                if (beams > 1) steps[r] = st;
            }
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("prefill_tok_s", round(median(prefill)));
            o.put("decode_tok_s", round(median(decode)));
            if (beams > 1) o.put("beam_steps_s", round(median(steps)));
            if (json) {
                System.out.println(Json.write(o));
                return;
            }
            String name = m.backend().name();
            if (name.startsWith("cpu"))  // the thread count means nothing to a GPU backend
                System.out.printf(Locale.ROOT, "model %s on %s, %s threads%n", model.model, name,
                        model.threads > 0 ? model.threads : "one per core: " + Runtime.getRuntime().availableProcessors());
            else System.out.printf(Locale.ROOT, "model %s on %s%n", model.model, name);
            String each = batch > 1 ? " × " + batch + " sequences" : "";
            System.out.printf(Locale.ROOT, "prefill %d tokens%s: %.2f tok/s (runs %s)%n", promptTokens, each, median(prefill), list(prefill));
            System.out.printf(Locale.ROOT, "decode %d tokens%s:  %.2f tok/s (runs %s)%n", newTokens, each, median(decode), list(decode));
            if (beams > 1)
                System.out.printf(Locale.ROOT, "beam search, %d beams%s: %.2f steps/s, %.2f tok/s (runs %s)%n", beams, each,
                        median(steps), median(steps) * beams * batch, list(steps));
        }
    }

    /** {@code --requests}: the whole set --warmup times unmeasured (its first --batch requests), then --runs times. */
    private void benchRequests(LlamaModel m) {
        RequestsBench set = RequestsBench.read(requests, promptTokens, m.config().maxPositions());
        int first = Math.min(batch, set.size());
        RequestsBench head = new RequestsBench(Arrays.copyOf(set.promptTokens(), first),
                Arrays.copyOf(set.newTokens(), first));
        for (int r = 0; r < warmup; r++) head.run(m, batch, waitForLongest, seed);
        double[] seconds = new double[runs];
        for (int r = 0; r < runs; r++) seconds[r] = set.run(m, batch, waitForLongest, seed);
        double s = median(seconds);
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("requests", set.size());
        o.put("generated_tokens", set.generatedTokens());
        o.put("seconds", round(s));
        o.put("requests_s", round(set.size() / s));
        o.put("generated_tok_s", round(set.generatedTokens() / s));
        if (json) {
            System.out.println(Json.write(o));
            return;
        }
        System.out.printf(Locale.ROOT, "model %s on %s%n", model.model, m.backend().name());
        System.out.printf(Locale.ROOT, "%d requests (%d generated tokens), %d at once, %s: %.2f s, %.2f requests/s, "
                        + "%.2f generated tok/s (runs %s s)%n", set.size(), set.generatedTokens(), batch,
                waitForLongest ? "batches waiting for their longest" : "continuous batching", s, set.size() / s,
                set.generatedTokens() / s, list(seconds));
    }

    /**
     * One prefill of the prompts (one forward pass) and {@link #newTokens} decoding steps over all of them: {prefill
     * tok/s, decode tok/s}, counting every sequence's tokens.
     */
    private double[] greedyRun(LlamaModel m, List<int[]> prompts) {
        int n = prompts.size(), len = prompts.getFirst().length;
        // a sequence's last page may be partly filled: room for one more page each
        try (LlamaModel.Context ctx = m.newContext(n * (len + newTokens + 16))) {
            int[] tokens = new int[n * len], seqs = new int[n * len], positions = new int[n * len], last = new int[n];
            int[] seq = new int[n];
            for (int b = 0; b < n; b++) {
                seq[b] = ctx.cache().create();
                System.arraycopy(prompts.get(b), 0, tokens, b * len, len);
                for (int i = 0; i < len; i++) {
                    seqs[b * len + i] = seq[b];
                    positions[b * len + i] = i;
                }
                last[b] = b * len + len - 1;
            }
            long t0 = System.nanoTime();
            float[][] logits = m.forward(ctx, tokens, seqs, positions, last);
            long t1 = System.nanoTime();
            int[] token = new int[n], pos = new int[n], rows = new int[n];
            for (int b = 0; b < n; b++) rows[b] = b;
            for (int i = 0; i < newTokens; i++) {
                for (int b = 0; b < n; b++) {
                    token[b] = Logits.argmax(logits[b]);
                    pos[b] = len + i;
                }
                logits = m.forward(ctx, token, seq, pos, rows);
            }
            long t2 = System.nanoTime();
            return new double[]{(double) n * len / ((t1 - t0) / 1e9), (double) n * newTokens / ((t2 - t1) / 1e9)};
        }
    }

    /**
     * Beam search from the prompts (one batch) for {@link #newTokens} steps (EOS disabled so that every step runs):
     * steps/s between the end of the first step (which includes the prefill) and the last.
     */
    private double beamRun(LlamaModel m, List<int[]> prompts) {
        List<Long> times = new ArrayList<>();
        DecodingOptions o = DecodingOptions.alma().withBeams(beams).withNumReturn(1).withMaxNewTokens(newTokens)
                .withEarlyStopping("never");
        new Generator(m, o).withEosId(-1).withStepObserver(cache -> times.add(System.nanoTime())).generate(prompts);
        if (times.size() < 2) throw new AlmaException("beam search ran " + times.size() + " steps; use --new-tokens of 2 or more");
        return (times.size() - 1) / ((times.getLast() - times.getFirst()) / 1e9);
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }

    private static String list(double[] v) {
        StringBuilder sb = new StringBuilder();
        for (double x : v) sb.append(sb.isEmpty() ? "" : ", ").append(String.format(Locale.ROOT, "%.2f", x));
        return sb.toString();
    }
}
