package dev.alma.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.alma.eval.AlmaTestSet;
import dev.alma.eval.Bleu;
import dev.alma.eval.BleuTokenizer;
import dev.alma.eval.Chrf;
import dev.alma.eval.CorpusReport;
import dev.alma.eval.Metric;
import dev.alma.eval.Significance;
import dev.alma.eval.SignificanceResult;
import dev.alma.eval.Smoothing;
import dev.alma.eval.Ter;
import dev.alma.eval.TextLines;
import dev.alma.io.Json;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * {@code alma eval}: sacreBLEU-compatible BLEU, chrF, chrF++ and TER of a hypothesis file against reference files,
 * or of a whole ALMA-layout test directory, with optional paired significance tests against a baseline.
 */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = {"Scores translations with sacreBLEU-exact BLEU, chrF2, chrF2++ and TER (sacreBLEU 2.6.0).",
                "File mode: --hyp FILE --ref FILE [--ref FILE ...]. Directory mode: --dir ROOT --system NAME."})
public final class EvalCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--hyp", paramLabel = "FILE", description = "Hypotheses, one segment per line (UTF-8).")
    Path hyp;

    @Option(names = "--ref", paramLabel = "FILE", description = "References; repeat for several references per segment.")
    List<Path> refs = new ArrayList<>();

    @Option(names = "--dir", paramLabel = "ROOT",
            description = "ALMA layout root: ROOT/wmt-testset/xxyy/test.xx-yy.yy and ROOT/SYSTEM/xxyy/test.xx-yy.yy.")
    Path dir;

    @Option(names = "--system", paramLabel = "NAME", description = "System folder under --dir.")
    String system;

    @Option(names = {"--tokenize", "-tok"}, paramLabel = "NAME",
            description = "BLEU tokenizer: 13a, zh, intl, char, none (file mode default 13a; directory mode: zh for Chinese targets, else 13a).")
    String tokenize;

    @Option(names = {"--lowercase", "-lc"}, description = "Case-insensitive BLEU (as sacreBLEU's -lc, BLEU only).")
    boolean lowercase;

    @Option(names = "--chrf-lowercase", description = "Case-insensitive chrF and chrF++.")
    boolean chrfLowercase;

    @Option(names = "--ter-case-sensitive", description = "Case-sensitive TER (sacreBLEU's TER lower-cases by default).")
    boolean terCaseSensitive;

    @Option(names = "--smooth-method", paramLabel = "NAME", defaultValue = "exp",
            description = "BLEU smoothing: exp, floor, add-k, none (default: ${DEFAULT-VALUE}).")
    String smoothMethod;

    @Option(names = "--smooth-value", paramLabel = "X", description = "Value for floor (0.1) or add-k (1) smoothing.")
    Double smoothValue;

    @Option(names = "--json", description = "Print JSON instead of a text report.")
    boolean json;

    @Option(names = "--sentence", description = "Also give sentence BLEU (effective order) of every line.")
    boolean sentence;

    @Option(names = "--paper-swapped",
            description = "Also give BLEU in the ALMA paper's swapped order (hypotheses used as references).")
    boolean paperSwapped;

    @Option(names = "--baseline-hyp", paramLabel = "FILE", description = "Baseline hypotheses for a paired test.")
    Path baselineHyp;

    @Option(names = "--baseline-system", paramLabel = "NAME",
            description = "Directory mode: baseline system folder under --dir for paired tests.")
    String baselineSystem;

    @ArgGroup(exclusive = true)
    PairedTest paired;

    static final class PairedTest {
        @Option(names = "--paired-bs", required = true, description = "Paired bootstrap resampling against --baseline-hyp (or --baseline-system).")
        boolean bootstrap;

        @Option(names = "--paired-ar", required = true, description = "Approximate randomization against --baseline-hyp (or --baseline-system).")
        boolean randomization;
    }

    @Option(names = "--paired-n", paramLabel = "N",
            description = "Bootstrap resamples (default 1000) or randomization trials (default 10000).")
    Integer pairedN;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "12345", description = "Random seed of the paired tests (default: ${DEFAULT-VALUE}).")
    long seed;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        if (dir != null) {
            if (hyp != null || !refs.isEmpty()) throw new IllegalArgumentException("--dir cannot be combined with --hyp/--ref");
            if (system == null) throw new IllegalArgumentException("--dir needs --system NAME");
            if (sentence) throw new IllegalArgumentException("--dir does not support --sentence");
            if (baselineHyp != null) throw new IllegalArgumentException("--dir takes --baseline-system NAME, not --baseline-hyp");
            if ((paired == null) != (baselineSystem == null))
                throw new IllegalArgumentException("a paired test needs both --baseline-system NAME and --paired-bs or --paired-ar");
            directoryMode(out);
        } else {
            if (hyp == null || refs.isEmpty()) throw new IllegalArgumentException("give --hyp FILE and --ref FILE (or --dir and --system)");
            if (baselineSystem != null) throw new IllegalArgumentException("--baseline-system needs --dir; give --baseline-hyp FILE");
            fileMode(out);
        }
        out.flush();
        return 0;
    }

    private Bleu bleu(BleuTokenizer tok) {
        Smoothing sm = Smoothing.of(smoothMethod);
        Bleu b = Bleu.DEFAULT.withTokenizer(tok).withLowercase(lowercase);
        return smoothValue == null ? b.withSmoothing(sm) : b.withSmoothing(sm, smoothValue);
    }

    private Ter ter() {
        return terCaseSensitive ? new Ter(false, false, false, true) : Ter.DEFAULT;
    }

    private void fileMode(PrintWriter out) {
        BleuTokenizer tok = BleuTokenizer.of(tokenize == null ? "13a" : tokenize);
        List<List<String>> texts = TextLines.readAligned(hyp, refs);
        List<String> hyps = texts.get(0);
        List<List<String>> refStreams = texts.subList(1, texts.size());
        if (paperSwapped && refStreams.size() != 1)
            throw new IllegalArgumentException("--paper-swapped needs exactly one --ref");
        Bleu bleu = bleu(tok);
        CorpusReport report = CorpusReport.score(hyps, refStreams, bleu, chrfLowercase, ter(), paperSwapped);
        var b = report.bleu();
        var c = report.chrf();
        var cpp = report.chrfpp();
        var t = report.ter();
        var swapped = report.bleuPaperSwapped();

        double[] sentences = null;
        String sentenceSignature = null;
        if (sentence) {
            Bleu sb = bleu.withEffectiveOrder(true);
            sentences = new double[hyps.size()];
            for (int i = 0; i < hyps.size(); i++) {
                List<String> r = new ArrayList<>();
                for (List<String> s : refStreams) r.add(s.get(i));
                var score = sb.sentenceScore(hyps.get(i), r);
                sentences[i] = score.score();
                sentenceSignature = score.signature();
            }
        }

        List<SignificanceResult> tests = new ArrayList<>();
        if (paired != null || baselineHyp != null) {
            if (paired == null || baselineHyp == null)
                throw new IllegalArgumentException("a paired test needs both --baseline-hyp FILE and --paired-bs or --paired-ar");
            tests = pairedTests(TextLines.readAligned(baselineHyp, refs).get(0), hyps, refStreams, bleu);
        }

        if (json) {
            ObjectNode o = Json.MAPPER.createObjectNode();
            o.put("bleu", b.score()).put("bleu_signature", b.signature());
            o.put("chrf", c.score()).put("chrf_signature", c.signature());
            o.put("chrfpp", cpp.score()).put("chrfpp_signature", cpp.signature());
            o.put("ter", t.score()).put("ter_signature", t.signature());
            if (swapped != null) o.put("bleu_paper_swapped", swapped.score());
            if (sentences != null) {
                ArrayNode a = o.putArray("sentence_bleu");
                for (double s : sentences) a.add(s);
                o.put("sentence_bleu_signature", sentenceSignature);
            }
            if (!tests.isEmpty()) putTests(o, baselineHyp.toString(), tests);
            out.println(o.toPrettyString());
            return;
        }
        out.printf("Hypotheses: %s (%d lines)%n", hyp, hyps.size());
        for (Path r : refs) out.printf("Reference:  %s%n", r);
        out.println(b);
        out.println(c);
        out.println(cpp);
        out.println(t);
        if (swapped != null) {
            out.printf(Locale.ROOT, "BLEU in the ALMA paper's swapped order (hypotheses as references; not standard) = %.2f%n",
                    swapped.score());
        }
        if (sentences != null) {
            out.println("Sentence BLEU (" + sentenceSignature + "):");
            for (int i = 0; i < sentences.length; i++) out.printf(Locale.ROOT, "%d\t%.2f%n", i + 1, sentences[i]);
        }
        if (!tests.isEmpty()) {
            out.printf("%nPaired %s against baseline %s (* = p < 0.05):%n",
                    paired.bootstrap ? "bootstrap resampling" : "approximate randomization", baselineHyp);
            for (SignificanceResult r : tests) {
                out.println("  " + r);
                out.println("    " + r.signature());
            }
        }
    }

    /** The four metrics' paired tests of {@code hyps} against {@code base}, as the options ask. */
    private List<SignificanceResult> pairedTests(List<String> base, List<String> hyps, List<List<String>> refStreams,
                                                 Bleu bleu) {
        List<Metric<?>> metrics = List.of(bleu, Chrf.CHRF.withLowercase(chrfLowercase),
                Chrf.CHRF_PLUS_PLUS.withLowercase(chrfLowercase), ter());
        List<SignificanceResult> tests = new ArrayList<>();
        for (Metric<?> m : metrics) {
            tests.add(paired.bootstrap
                    ? Significance.pairedBootstrap(m, base, hyps, refStreams,
                    pairedN == null ? Significance.DEFAULT_BOOTSTRAP_SAMPLES : pairedN, seed)
                    : Significance.approximateRandomization(m, base, hyps, refStreams,
                    pairedN == null ? Significance.DEFAULT_AR_TRIALS : pairedN, seed));
        }
        return tests;
    }

    private void putTests(ObjectNode o, String baseline, List<SignificanceResult> tests) {
        ObjectNode sig = o.putObject("significance");
        sig.put("test", paired.bootstrap ? "paired-bs" : "paired-ar").put("baseline", baseline);
        ArrayNode rs = sig.putArray("results");
        for (SignificanceResult r : tests) {
            ObjectNode n = rs.addObject();
            n.put("metric", r.metric()).put("signature", r.signature()).put("baseline", r.baselineScore())
                    .put("system", r.systemScore()).put("p_value", r.pValue());
            if (!Double.isNaN(r.systemCi())) {
                n.put("baseline_mean", r.baselineMean()).put("baseline_ci", r.baselineCi())
                        .put("system_mean", r.systemMean()).put("system_ci", r.systemCi());
            }
        }
    }

    private record DirectionResult(CorpusReport report, List<SignificanceResult> tests) {
    }

    private void directoryMode(PrintWriter out) {
        List<AlmaTestSet.Direction> dirs = AlmaTestSet.directions(dir, system);
        List<DirectionResult> results = dirs.parallelStream().map(d -> {
            List<List<String>> texts = TextLines.readAligned(d.hypothesis(), List.of(d.reference()));
            BleuTokenizer tok = tokenize == null ? AlmaTestSet.tokenizerFor(d.target()) : BleuTokenizer.of(tokenize);
            Bleu bleu = bleu(tok);
            CorpusReport report = CorpusReport.score(texts.get(0), texts.subList(1, 2), bleu, chrfLowercase, ter(),
                    paperSwapped);
            List<SignificanceResult> tests = List.of();
            if (baselineSystem != null) {
                Path base = AlmaTestSet.output(dir, baselineSystem, d);
                tests = pairedTests(TextLines.readAligned(base, List.of(d.reference())).get(0), texts.get(0),
                        texts.subList(1, 2), bleu);
            }
            return new DirectionResult(report, tests);
        }).toList();
        List<CorpusReport> reports = results.stream().map(DirectionResult::report).toList();
        if (json) {
            ArrayNode a = Json.MAPPER.createArrayNode();
            for (int i = 0; i < dirs.size(); i++) {
                CorpusReport r = reports.get(i);
                ObjectNode o = a.addObject();
                o.put("direction", dirs.get(i).name()).put("lines", r.lines());
                o.put("bleu", r.bleu().score()).put("bleu_signature", r.bleu().signature());
                o.put("chrf", r.chrf().score()).put("chrf_signature", r.chrf().signature());
                o.put("chrfpp", r.chrfpp().score()).put("chrfpp_signature", r.chrfpp().signature());
                o.put("ter", r.ter().score()).put("ter_signature", r.ter().signature());
                if (r.bleuPaperSwapped() != null) o.put("bleu_paper_swapped", r.bleuPaperSwapped().score());
                if (baselineSystem != null) putTests(o, baselineSystem, results.get(i).tests());
            }
            out.println(a.toPrettyString());
            return;
        }
        out.printf("System %s on %s (%d directions)%n%n", system, dir, dirs.size());
        StringBuilder head = new StringBuilder(String.format(Locale.ROOT, "%-10s %6s %5s %7s %7s %7s %7s",
                "direction", "lines", "tok", "BLEU", "chrF2", "chrF2++", "TER"));
        if (paperSwapped) head.append(String.format(Locale.ROOT, " %12s", "BLEU-swapped"));
        out.println(head);
        out.println("-".repeat(head.length()));
        for (int i = 0; i < dirs.size(); i++) {
            CorpusReport r = reports.get(i);
            String tok = r.bleu().signature().replaceAll(".*\\|tok:([^|]*)\\|.*", "$1");
            out.printf(Locale.ROOT, "%-10s %6d %5s %7.2f %7.2f %7.2f %7.2f", dirs.get(i).name(), r.lines(), tok,
                    r.bleu().score(), r.chrf().score(), r.chrfpp().score(), r.ter().score());
            if (paperSwapped) out.printf(Locale.ROOT, " %12.2f", r.bleuPaperSwapped().score());
            out.println();
        }
        out.println();
        if (paperSwapped) {
            out.println("BLEU-swapped: the ALMA paper's order, the system output used as the reference and the reference as");
            out.println("the hypothesis. It is not standard sacreBLEU BLEU; it is shown only to compare with the paper.");
            out.println();
        }
        if (baselineSystem != null) {
            out.printf("Paired %s against %s (%s; * = p < 0.05): system vs baseline score, p-value%n",
                    paired.bootstrap ? "bootstrap resampling" : "approximate randomization", baselineSystem,
                    results.get(0).tests().get(0).signature().replaceAll("^nrefs:[^|]*\\|(.*?)\\|case.*", "$1"));
            for (int i = 0; i < dirs.size(); i++) {
                StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-10s", dirs.get(i).name()));
                for (SignificanceResult t : results.get(i).tests()) {
                    line.append(String.format(Locale.ROOT, "  %s %.2f vs %.2f p=%.4f%s", t.metric(), t.systemScore(),
                            t.baselineScore(), t.pValue(), t.pValue() < 0.05 ? "*" : " "));
                }
                out.println(line);
            }
            out.println();
        }
        out.println("Signatures:");
        Set<String> seen = new LinkedHashSet<>();
        for (CorpusReport r : reports) {
            seen.add("BLEU     " + r.bleu().signature());
        }
        CorpusReport first = reports.get(0);
        seen.add("chrF2    " + first.chrf().signature());
        seen.add("chrF2++  " + first.chrfpp().signature());
        seen.add("TER      " + first.ter().signature());
        for (String s : seen) out.println("  " + s);
    }
}
