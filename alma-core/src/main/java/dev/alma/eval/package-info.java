/**
 * Machine-translation metrics that reproduce sacreBLEU 2.6.0 exactly (scores and signatures), and paired
 * significance tests.
 *
 * <ul>
 * <li>{@link dev.alma.eval.Bleu} with {@link dev.alma.eval.BleuTokenizer} ({@code 13a}, {@code zh}, {@code intl},
 * {@code char}, {@code none}) and {@link dev.alma.eval.Smoothing}; sentence BLEU with effective order.</li>
 * <li>{@link dev.alma.eval.Chrf}: chrF2 and chrF2++.</li>
 * <li>{@link dev.alma.eval.Ter}: TER with sacreBLEU's tercom tokenizer, shifts and beam.</li>
 * <li>{@link dev.alma.eval.Significance}: paired bootstrap resampling and approximate randomization.</li>
 * <li>{@link dev.alma.eval.CorpusReport}: all four scores of one output; {@link dev.alma.eval.AlmaTestSet}: ALMA's
 * test-set folders; {@link dev.alma.eval.TextLines}: files read as sacreBLEU's command line reads them.</li>
 * </ul>
 *
 * <pre>{@code
 * List<String> hyps = TextLines.read(Path.of("hyp.txt")), refs = TextLines.read(Path.of("ref.txt"));
 * BleuScore bleu = Bleu.DEFAULT.withTokenizer(BleuTokenizer.ZH).corpusScore(hyps, List.of(refs));
 * System.out.println(bleu.score() + " " + bleu.signature()); // ... nrefs:1|case:mixed|eff:no|tok:zh|...
 * SignificanceResult r = Significance.pairedBootstrap(Chrf.CHRF, baseline, hyps, List.of(refs), 1000, 12345);
 * }</pre>
 *
 * <p>Text is handled as Python handles it in sacreBLEU: on code points, with Python's whitespace set for
 * {@code split()} and {@code strip()}, and Python's lower-casing (equal to Java's language-neutral one except for
 * characters added to Unicode after the Python version that produced the reference numbers).
 */
package dev.alma.eval;
