package dev.alma.eval;

import dev.alma.PyStrings;
import dev.alma.AlmaException;
import dev.alma.io.FormatException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads hypothesis and reference files as sacreBLEU's command line does: strict UTF-8 (a byte-order mark stays
 * part of the first line), lines ended by {@code \n} only ({@code \r}, U+2028 and the like do not end a line),
 * each line right-stripped of Python whitespace (so a trailing {@code \r} goes).
 */
public final class TextLines {
    private TextLines() {
    }

    /** The right-stripped lines of a UTF-8 file. */
    public static List<String> read(Path file) {
        String text;
        try {
            long size = Files.size(file);
            if (size > Integer.MAX_VALUE - 16)
                throw new FormatException(file, null, "too large to evaluate (" + size + " bytes)");
            byte[] bytes = Files.readAllBytes(file);
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (NoSuchFileException e) {
            throw new AlmaException(file + ": file not found");
        } catch (CharacterCodingException e) {
            throw new FormatException(file, null, "not valid UTF-8", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        return split(text);
    }

    /** The right-stripped lines of a text, split on {@code \n}; a final {@code \n} does not start a line. */
    static List<String> split(String text) {
        List<String> lines = new ArrayList<>();
        int start = 0;
        while (start < text.length()) {
            int nl = text.indexOf('\n', start);
            int end = nl < 0 ? text.length() : nl;
            lines.add(PyStrings.rstrip(text.substring(start, end)));
            start = nl < 0 ? text.length() : nl + 1;
        }
        return lines;
    }

    /**
     * Reads a hypothesis file and its reference files, checking that all have the same number of lines.
     *
     * @return the hypotheses followed by one list per reference file
     */
    public static List<List<String>> readAligned(Path hypotheses, List<Path> references) {
        List<List<String>> out = new ArrayList<>();
        List<String> hyp = read(hypotheses);
        out.add(hyp);
        for (Path ref : references) {
            List<String> lines = read(ref);
            if (lines.size() != hyp.size())
                throw new AlmaException("line count mismatch: hypotheses " + hypotheses + " have " + hyp.size()
                        + " lines but references " + ref + " have " + lines.size());
            out.add(lines);
        }
        if (hyp.isEmpty()) throw new AlmaException(hypotheses + ": no lines to evaluate");
        return out;
    }
}
