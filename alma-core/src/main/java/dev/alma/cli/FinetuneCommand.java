package dev.alma.cli;

import dev.alma.model.LlamaConfig;
import dev.alma.tokenizer.Tokenizer;
import dev.alma.train.Batch;
import dev.alma.train.BleuLog;
import dev.alma.train.BleuValidation;
import dev.alma.train.BatchSource;
import dev.alma.train.LoraConfig;
import dev.alma.train.LossLog;
import dev.alma.train.LrSchedule;
import dev.alma.train.ModelFiles;
import dev.alma.train.Stage1Data;
import dev.alma.train.Stage2Data;
import dev.alma.train.StepLog;
import dev.alma.train.TrainConfig;
import dev.alma.train.TrainableLlama;
import dev.alma.train.Trainer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code alma finetune}: ALMA's stage 1 (monolingual) or stage 2 (parallel, full weights or LoRA) on the CPU,
 * with a progress bar, a loss log (CSV, JSON), a loss plot (PNG), optional validation BLEU ({@code bleu.csv}),
 * training checkpoints and resume.
 */
@Command(name = "finetune", mixinStandardHelpOptions = true,
        description = "Fine-tune a LLaMA model as ALMA does: --stage 1 on monolingual text, --stage 2 on parallel data.")
public final class FinetuneCommand implements Callable<Integer> {
    @Option(names = "--stage", required = true, description = "1: monolingual, 2: parallel")
    int stage;
    @Option(names = "--model", required = true, description = "Hugging Face model directory (config.json, safetensors, tokenizer)")
    Path model;
    @Option(names = "--output", required = true, description = "directory for the result, checkpoints and loss logs")
    Path output;
    @Option(names = "--data", required = true, split = ",",
            description = "stage 1: LANG=FILE entries (text: one document per line; .jsonl: {\"text\"}); stage 2: ALMA data root (xxen/train.xx-en.*)")
    List<String> data;
    @Option(names = "--valid-data", split = ",", description = "stage 1: LANG=FILE entries for validation (stage 2 uses the valid split of --data)")
    List<String> validData = List.of();
    @Option(names = "--pairs", split = ",", description = "stage 2 directions, e.g. de-en,en-de (default: every direction found)")
    List<String> pairs = List.of();
    @Option(names = "--mix", split = ",", description = "stage 1 language ratios LANG=WEIGHT (default ALMA's: en .17, ru .22, cs .14, zh .19, is .08, de .20)")
    List<String> mix = List.of();
    @Option(names = "--tokenizer", description = "tokenizer file or directory (default: the model directory)")
    Path tokenizer;
    @Option(names = "--max-samples", defaultValue = "0", description = "stage 2: sentence pairs per language pair (0: all)")
    int maxSamples;
    @Option(names = "--eval-samples", defaultValue = "64", description = "validation sentence pairs per language pair (stage 2) or blocks (stage 1)")
    int evalSamples;
    @Option(names = "--lora", description = "train a LoRA adapter instead of the full weights")
    boolean lora;
    @Option(names = "--lora-r", defaultValue = "16", description = "LoRA rank (default ${DEFAULT-VALUE})")
    int loraR;
    @Option(names = "--lora-alpha", defaultValue = "32", description = "LoRA alpha; the update is scaled by alpha/r (default ${DEFAULT-VALUE})")
    double loraAlpha;
    @Option(names = "--lora-dropout", defaultValue = "0.05", description = "dropout on the LoRA input while training (default ${DEFAULT-VALUE})")
    double loraDropout;
    @Option(names = "--lora-targets", split = ",", defaultValue = "down_proj", description = "among q_proj k_proj v_proj o_proj gate_proj up_proj down_proj")
    List<String> loraTargets;
    @Option(names = "--lr", defaultValue = "2e-5", description = "peak learning rate (default ${DEFAULT-VALUE})")
    double lr;
    @Option(names = "--epochs", defaultValue = "1", description = "passes over the stage-2 data (default ${DEFAULT-VALUE})")
    int epochs;
    @Option(names = "--max-steps", defaultValue = "0", description = "optimiser steps (overrides --epochs; required for stage 1)")
    long maxSteps;
    @Option(names = "--batch-size", defaultValue = "4", description = "sequences per micro-batch")
    int batchSize;
    @Option(names = "--grad-accum", defaultValue = "1", description = "micro-batches per optimiser step")
    int gradAccum;
    @Option(names = "--block-size", defaultValue = "256", description = "stage 1: tokens per packed block; stage 2: maximum example length")
    int blockSize;
    @Option(names = "--warmup-ratio", defaultValue = "0.01", description = "share of the steps spent warming up (default ${DEFAULT-VALUE})")
    double warmupRatio;
    @Option(names = "--scheduler", defaultValue = "inverse_sqrt", description = "cosine, inverse_sqrt, linear or constant")
    String scheduler;
    @Option(names = "--weight-decay", defaultValue = "0.01", description = "AdamW weight decay, not applied to norm weights (default ${DEFAULT-VALUE})")
    double weightDecay;
    @Option(names = "--seed", defaultValue = "42", description = "seed of data order, LoRA init and dropout (default ${DEFAULT-VALUE})")
    long seed;
    @Option(names = "--resume", description = "continue from the checkpoint in --output")
    boolean resume;
    @Option(names = "--save-every", defaultValue = "0", description = "steps between checkpoints (0: at the end)")
    int saveEvery;
    @Option(names = "--eval-every", defaultValue = "0", description = "steps between validation runs (0: at the end)")
    int evalEvery;
    @Option(names = "--stop-after", defaultValue = "0",
            description = "stop once this many steps are done, leaving a checkpoint to --resume from (0: run to the end)")
    long stopAfter;
    @Option(names = "--bleu-samples", defaultValue = "0",
            description = "stage 2: also translate this many validation sentences per direction at each validation and report BLEU (0: off)")
    int bleuSamples;
    @Option(names = "--bleu-max-new-tokens", defaultValue = "96", description = "greedy decoding limit of those translations (default ${DEFAULT-VALUE})")
    int bleuMaxNewTokens;
    @Option(names = "--init-random", description = "start from random weights (N(0, 0.02²), norms 1) for config.json instead of the checkpoint")
    boolean initRandom;

    @Override
    public Integer call() {
        if (stage != 1 && stage != 2) throw new IllegalArgumentException("--stage must be 1 or 2, got " + stage);
        if (!Files.isDirectory(model)) throw new IllegalArgumentException("--model " + model + " is not a directory");
        Tokenizer tok = Tokenizer.load(tokenizer != null ? tokenizer : model);
        TrainableLlama m = initRandom ? TrainableLlama.random(LlamaConfig.read(model.resolve("config.json")), 0.02, seed)
                : ModelFiles.load(model);
        if (lora) m.addLora(new LoraConfig(loraR, loraAlpha, loraDropout, loraTargets), seed);
        BatchSource train;
        List<Batch> valid = new ArrayList<>();
        BleuValidation bleu = null;
        if (bleuSamples < 0) throw new IllegalArgumentException("--bleu-samples must be 0 or more, got " + bleuSamples);
        if (bleuSamples > 0 && stage != 2) throw new IllegalArgumentException("--bleu-samples needs --stage 2 (parallel validation data)");
        if (stage == 1) {
            if (maxSteps <= 0) throw new IllegalArgumentException("stage 1 needs --max-steps (its data is a stream without epochs)");
            Stage1Data s1 = new Stage1Data(Stage1Data.readFiles(langFiles(data)), ratios(), tok, blockSize, batchSize, seed);
            train = s1;
            if (!validData.isEmpty()) {
                Stage1Data v = new Stage1Data(Stage1Data.readFiles(langFiles(validData)), ratios(), tok, blockSize, batchSize, seed + 1);
                for (int i = 0; i * batchSize < Math.max(1, evalSamples); i++) valid.add(v.batch(i));
            }
        } else {
            if (data.size() != 1) throw new IllegalArgumentException("stage 2 takes one --data directory (ALMA's layout), got " + data);
            Path root = Path.of(data.getFirst());
            Stage2Data s2 = new Stage2Data(Stage2Data.read(root, "train", pairs, maxSamples), tok, blockSize, batchSize, seed);
            train = s2;
            if (hasValid(root)) valid = new Stage2Data(Stage2Data.read(root, "valid", pairs, evalSamples), tok, blockSize, batchSize, seed).inOrder();
            if (bleuSamples > 0) {
                if (!hasValid(root)) throw new IllegalArgumentException("--bleu-samples needs valid.xx-en files under " + root);
                bleu = new BleuValidation(Stage2Data.read(root, "valid", pairs, bleuSamples), tok, bleuSamples, bleuMaxNewTokens, model);
            }
        }
        TrainConfig cfg = new TrainConfig(lr, maxSteps, maxSteps > 0 ? 0 : epochs, gradAccum, warmupRatio, LrSchedule.kind(scheduler),
                weightDecay, 0.9, 0.999, 1e-8, 1.0, seed, saveEvery, evalEvery);
        Trainer trainer = new Trainer(m, train, valid, cfg, output);
        if (resume) {
            if (trainer.hasCheckpoint()) System.err.println("alma: resuming at step " + trainer.resume());
            else System.err.println("alma: no checkpoint in " + output + ", starting from step 0");
        }
        double initialEval = Double.NaN;
        if (trainer.step() > 0 && Files.isRegularFile(output.resolve("loss.json")))
            initialEval = dev.alma.io.Json.read(output.resolve("loss.json")).path("initial_eval_loss").asDouble(Double.NaN);
        if (trainer.step() == 0 && !valid.isEmpty()) {
            initialEval = trainer.evaluate();
            System.err.printf(Locale.ROOT, "alma: validation loss before training %.4f%n", initialEval);
        }
        BleuLog bleuLog = bleu == null ? null : BleuLog.read(output, trainer.step());
        if (bleu != null && trainer.step() == 0) {
            bleuLog.add(0, reportBleu(bleu, m, 0));
            bleuLog.write(output);
        }
        long params = m.trainableParameters().stream().mapToLong(p -> p.size()).sum();
        System.err.printf(Locale.ROOT, "alma: stage %d, %s, %,d trainable parameters, %d steps%n", stage,
                lora ? "LoRA " + loraTargets : "full weights", params, trainer.totalSteps());
        long t0 = System.nanoTime(), tokens0 = tokens(trainer.history());
        double[] initial = {initialEval};
        try (ProgressBar bar = new ProgressBarBuilder().setTaskName("finetune").setInitialMax(trainer.totalSteps())
                .setStyle(ProgressBarStyle.ASCII).setConsumer(new me.tongfei.progressbar.ConsoleProgressBarConsumer(System.err))
                .startsFrom(trainer.step(), java.time.Duration.ZERO).build()) {
            BleuValidation bleuRun = bleu;
            trainer.run(stopAfter > 0 ? stopAfter : Long.MAX_VALUE, (log, total) -> {
                if (bleuRun != null && !Double.isNaN(log.evalLoss())) {
                    bleuLog.add(log.step(), reportBleu(bleuRun, m, log.step()));
                    bleuLog.write(output);
                }
                bar.stepTo(log.step());
                bar.setExtraMessage(String.format(Locale.ROOT, "loss %.4f lr %.2e %.0f tok/s%s", log.loss(), log.lr(),
                        log.tokensPerSecond(), Double.isNaN(log.evalLoss()) ? "" : String.format(Locale.ROOT, " valid %.4f", log.evalLoss())));
                if (saveEvery > 0 && log.step() % saveEvery == 0 || log.step() == total)
                    LossLog.write(trainer.history(), initial[0], output);
            });
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        if (trainer.step() < trainer.totalSteps()) {
            LossLog.write(trainer.history(), initial[0], output);
            System.out.printf(Locale.ROOT, "stopped after step %d of %d; continue with --resume%n", trainer.step(), trainer.totalSteps());
            return 0;
        }
        long tokens = tokens(trainer.history()) - tokens0;
        if (lora) ModelFiles.saveAdapter(m, output);
        else ModelFiles.saveModel(m, model, output);
        LossLog.write(trainer.history(), initial[0], output);
        List<StepLog> h = trainer.history();
        StepLog last = h.getLast();
        System.out.printf(Locale.ROOT, "steps %d, final training loss %.4f, validation loss %s -> %s, %,d tokens in %.1f s = %.0f tokens/s%n",
                last.step(), last.loss(), Double.isNaN(initial[0]) ? "n/a" : String.format(Locale.ROOT, "%.4f", initial[0]),
                Double.isNaN(last.evalLoss()) ? "n/a" : String.format(Locale.ROOT, "%.4f", last.evalLoss()), tokens, seconds, tokens / seconds);
        if (bleuLog != null) {
            List<BleuLog.Entry> e = bleuLog.entries();
            StringBuilder sb = new StringBuilder("validation BLEU");
            for (BleuLog.Entry x : e) if (x.step() == last.step()) sb.append(String.format(Locale.ROOT, " %s %.2f", x.direction(), x.bleu()));
            System.out.println(sb);
        }
        System.out.println("wrote " + (lora ? "adapter" : "model") + ", loss.csv, loss.json, loss.png" + (bleuLog != null ? ", " + BleuLog.FILE : "") + " to " + output);
        return 0;
    }

    /** Scores the current weights and prints one line per validation: {@code step N BLEU de-en x, ...}. */
    private static List<BleuValidation.Result> reportBleu(BleuValidation bleu, dev.alma.train.TrainableLlama m, long step) {
        long t0 = System.nanoTime();
        List<BleuValidation.Result> results = bleu.evaluate(m);
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%nalma: step %d validation BLEU", step));
        for (int i = 0; i < results.size(); i++)
            sb.append(i == 0 ? " " : ", ").append(String.format(Locale.ROOT, "%s %.2f", results.get(i).direction(), results.get(i).bleu().score()));
        sb.append(String.format(Locale.ROOT, " (%d sentences each, %.1f s)", results.getFirst().hypotheses().size(), (System.nanoTime() - t0) / 1e9));
        System.err.println(sb);
        return results;
    }

    private static long tokens(List<StepLog> h) {
        return h.stream().mapToLong(StepLog::tokens).sum();
    }

    private boolean hasValid(Path root) {
        try (var s = Files.list(root)) {
            return s.anyMatch(d -> Files.isDirectory(d) && d.getFileName().toString().endsWith("en")
                    && Files.exists(d.resolve("valid." + d.getFileName().toString().substring(0, 2) + "-en.json")));
        } catch (java.io.IOException e) {
            return false;
        }
    }

    private Map<String, Double> ratios() {
        Map<String, Double> r = new LinkedHashMap<>();
        for (String e : mix) {
            String[] kv = e.split("=", 2);
            if (kv.length != 2) throw new IllegalArgumentException("--mix entry '" + e + "' is not LANG=WEIGHT");
            try {
                r.put(kv[0], Double.parseDouble(kv[1]));
            } catch (NumberFormatException ex) {
                throw new IllegalArgumentException("--mix entry '" + e + "': '" + kv[1] + "' is not a number");
            }
        }
        return r;
    }

    private static Map<String, Path> langFiles(List<String> entries) {
        Map<String, Path> out = new LinkedHashMap<>();
        for (String e : entries) {
            String[] kv = e.split("=", 2);
            if (kv.length != 2 || kv[0].isBlank()) throw new IllegalArgumentException("stage-1 data entry '" + e + "' is not LANG=FILE");
            out.put(kv[0], Path.of(kv[1]));
        }
        return out;
    }
}
