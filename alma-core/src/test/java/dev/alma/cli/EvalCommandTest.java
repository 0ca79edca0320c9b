package dev.alma.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.alma.Fixtures;
import dev.alma.io.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code alma eval} end to end: JSON fields, sentence BLEU, paired tests, the directory table, bad input. */
class EvalCommandTest {
    /** sacreBLEU 2.6.0 on {@link #twoReferenceFiles()}'s lines. */
    private static final double MULTI_REF_BLEU = 84.6839515847387, MULTI_REF_CHRF = 88.48936178331398, MULTI_REF_TER = 11.11111111111111;

    @TempDir
    Path tmp;

    private record Run(int code, String out, String err) {
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    private Path write(String name, String text) throws Exception {
        return Files.writeString(tmp.resolve(name), text, StandardCharsets.UTF_8);
    }

    @Test
    void jsonWithSentencesAndSwappedOrder() throws Exception {
        // CRLF endings and trailing spaces are stripped as sacreBLEU strips them
        Path hyp = write("hyp.txt", "The cat sat on the mat.\r\nHello world \n");
        Path ref = write("ref.txt", "The cat is sitting on the mat.\nHello there world\n");
        Run r = run("eval", "--hyp", hyp.toString(), "--ref", ref.toString(), "--tokenize", "13a", "--json",
                "--sentence", "--paper-swapped");
        assertEquals(0, r.code(), r.err());
        JsonNode o = Json.MAPPER.readTree(r.out());
        for (String k : new String[]{"bleu", "chrf", "chrfpp", "ter", "bleu_paper_swapped"})
            assertTrue(o.get(k).isDouble(), k);
        assertEquals("nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0", o.get("bleu_signature").asText());
        assertEquals("nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.6.0", o.get("chrf_signature").asText());
        assertEquals(2, o.get("sentence_bleu").size());
        // sacreBLEU 2.6.0: sentence BLEU (effective order) of these lines, and the corpus scores
        assertEquals(42.38365628278778, o.get("sentence_bleu").get(0).asDouble(), 1e-9);
        assertEquals(42.88819424803536, o.get("sentence_bleu").get(1).asDouble(), 1e-9);
        assertEquals(38.01390388897406, o.get("bleu").asDouble(), 1e-9);
        assertEquals(36.86541980185497, o.get("bleu_paper_swapped").asDouble(), 1e-9);
    }

    @Test
    void twoReferenceFiles() throws Exception {
        Path hyp = write("hyp.txt", "The cat sat on the mat.\nHello world\n");
        Path ref1 = write("ref1.txt", "The cat is sitting on the mat.\nHello there world\n");
        Path ref2 = write("ref2.txt", "A cat sat on the mat.\nhello world\n");
        Run r = run("eval", "--hyp", hyp.toString(), "--ref", ref1.toString(), "--ref", ref2.toString(), "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode o = Json.MAPPER.readTree(r.out());
        assertEquals("nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0", o.get("bleu_signature").asText());
        // sacreBLEU 2.6.0 with both references
        assertEquals(MULTI_REF_BLEU, o.get("bleu").asDouble(), 1e-9);
        assertEquals(MULTI_REF_CHRF, o.get("chrf").asDouble(), 1e-9);
        assertEquals(MULTI_REF_TER, o.get("ter").asDouble(), 1e-9);
        Run swapped = run("eval", "--hyp", hyp.toString(), "--ref", ref1.toString(), "--ref", ref2.toString(), "--paper-swapped");
        assertEquals(1, swapped.code());
        assertTrue(swapped.err().contains("--paper-swapped needs exactly one --ref"), swapped.err());
    }

    @Test
    void directoryJson() throws Exception {
        Run r = run("eval", "--dir", Fixtures.path("data/wmt22").toString(), "--system", "WMT_Winners", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode a = Json.MAPPER.readTree(r.out());
        assertEquals(10, a.size());
        assertEquals("cs-en", a.get(0).get("direction").asText());
        JsonNode zh = a.get(9);
        assertEquals("en-zh", zh.get("direction").asText());
        assertEquals("nrefs:1|case:mixed|eff:no|tok:zh|smooth:exp|version:2.6.0", zh.get("bleu_signature").asText());
        Run paired = run("eval", "--dir", Fixtures.path("data/wmt22").toString(), "--system", "WMT_Winners",
                "--baseline-system", "ALMA-13B-LoRA", "--paired-ar", "--paired-n", "50", "--json");
        assertEquals(0, paired.code(), paired.err());
        JsonNode p = Json.MAPPER.readTree(paired.out());
        for (JsonNode d : p) {
            JsonNode results = d.get("significance").get("results");
            assertEquals(4, results.size(), d.get("direction").asText());
            assertTrue(results.get(0).get("signature").asText().startsWith("nrefs:1|ar:50|seed:12345|"));
            assertEquals(d.get("bleu").asDouble(), results.get(0).get("system").asDouble(), 0.0);
        }
        Run noBaseline = run("eval", "--dir", Fixtures.path("data/wmt22").toString(), "--system", "WMT_Winners", "--paired-bs");
        assertEquals(1, noBaseline.code());
        Run missing = run("eval", "--dir", tmp.toString(), "--system", "x");
        assertEquals(1, missing.code());
        assertTrue(missing.err().contains("wmt-testset: no such directory"), missing.err());
    }

    /** As in sacreBLEU's command line, -lc is BLEU's; chrF and TER have their own case options. */
    @Test
    void caseOptionsArePerMetric() throws Exception {
        Path hyp = write("hyp.txt", "THE CAT\n");
        Path ref = write("ref.txt", "the cat\n");
        JsonNode lc = Json.MAPPER.readTree(run("eval", "--hyp", hyp.toString(), "--ref", ref.toString(), "-lc", "--json").out());
        assertEquals("nrefs:1|case:lc|eff:no|tok:13a|smooth:exp|version:2.6.0", lc.get("bleu_signature").asText());
        assertEquals("nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.6.0", lc.get("chrf_signature").asText());
        assertEquals(0.0, lc.get("chrf").asDouble(), 0.0);
        assertEquals(0.0, lc.get("ter").asDouble(), 0.0); // TER lower-cases by default
        JsonNode other = Json.MAPPER.readTree(run("eval", "--hyp", hyp.toString(), "--ref", ref.toString(),
                "--chrf-lowercase", "--ter-case-sensitive", "--json").out());
        assertEquals(100.0, other.get("chrf").asDouble(), 1e-9);
        assertEquals("nrefs:1|case:lc|eff:yes|nc:6|nw:2|space:no|version:2.6.0", other.get("chrfpp_signature").asText());
        assertEquals(100.0, other.get("ter").asDouble(), 0.0);
        assertEquals("nrefs:1|case:mixed|tok:tercom|norm:no|punct:yes|asian:no|version:2.6.0", other.get("ter_signature").asText());
    }

    @Test
    void lineCountMismatchNamesBothFiles() throws Exception {
        Path hyp = write("h.txt", "a\nb\nc\n");
        Path ref = write("r.txt", "a\nb\n");
        Run r = run("eval", "--hyp", hyp.toString(), "--ref", ref.toString(), "--json");
        assertEquals(1, r.code());
        assertEquals("alma: line count mismatch: hypotheses " + hyp + " have 3 lines but references " + ref
                + " have 2\n", r.err().replace("\r\n", "\n"));
    }

    @Test
    void invalidUtf8IsAnError() throws Exception {
        Path hyp = Files.write(tmp.resolve("bad.txt"), new byte[]{'a', (byte) 0xC3, '\n'});
        Path ref = write("r.txt", "a\n");
        Run r = run("eval", "--hyp", hyp.toString(), "--ref", ref.toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("bad.txt") && r.err().contains("not valid UTF-8"), r.err());
    }

    @Test
    void pairedBootstrapReport() throws Exception {
        Path ref = write("ref.txt", "the cat sat on the mat\nthe dog ran in the park\na bird flew over the house\n".repeat(20));
        Path good = write("good.txt", "the cat sat on the mat\nthe dog ran in a park\na bird flew over the house\n".repeat(20));
        Path bad = write("bad.txt", "a cat is on a mat\ndogs run\nbirds fly above houses\n".repeat(20));
        Run r = run("eval", "--hyp", good.toString(), "--ref", ref.toString(), "--baseline-hyp", bad.toString(),
                "--paired-bs", "--paired-n", "200", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode results = Json.MAPPER.readTree(r.out()).get("significance").get("results");
        assertEquals(4, results.size());
        assertEquals("BLEU", results.get(0).get("metric").asText());
        assertEquals(1.0 / 201, results.get(0).get("p_value").asDouble(), 1e-12);
        assertTrue(results.get(0).get("signature").asText().startsWith("nrefs:1|bs:200|seed:12345|"));
        Run text = run("eval", "--hyp", good.toString(), "--ref", ref.toString(), "--baseline-hyp", bad.toString(),
                "--paired-ar", "--paired-n", "100");
        assertEquals(0, text.code(), text.err());
        assertTrue(text.out().contains("Paired approximate randomization"), text.out());
    }

    @Test
    void directoryTable() {
        Run r = run("eval", "--dir", Fixtures.path("data/wmt22").toString(), "--system", "ALMA-13B-LoRA", "--paper-swapped");
        assertEquals(0, r.code(), r.err());
        String[] lines = r.out().split("\n");
        int rows = 0;
        for (String line : lines) if (line.matches("[a-z]{2}-[a-z]{2} .*")) rows++;
        assertEquals(10, rows, r.out());
        assertTrue(r.out().contains("cs-en        1448   13a   45.36   66.89   65.57   42.68        45.28"), r.out());
        assertTrue(r.out().contains("en-zh        2037    zh   39.87"), r.out());
        assertTrue(r.out().contains("BLEU-swapped: the ALMA paper's order"), r.out());
    }
}
