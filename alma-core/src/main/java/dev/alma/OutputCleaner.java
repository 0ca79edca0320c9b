package dev.alma;

/**
 * ALMA's {@code clean_outputstring}, applied to the generated text (up to any repetition of the prompt's suffix):
 * the first line if it is not blank, else the second if not blank, else the third (even blank), all stripped with
 * Python's whitespace rules; when there are fewer lines than that, the first line after the next repetition of the
 * suffix; else the empty string.
 */
public final class OutputCleaner {
    private OutputCleaner() {
    }

    /**
     * @param generated the decoded continuation (the prompt not included)
     * @param suffix    the prompt's suffix, e.g. {@code "\nEnglish:"}
     */
    public static String clean(String generated, String suffix) {
        String[] segments = generated.split(java.util.regex.Pattern.quote(suffix), -1);
        String[] lines = segments[0].split("\n", -1);
        String first = PyStrings.strip(lines[0]);
        if (!first.isEmpty()) return first;
        if (lines.length > 1) {
            String second = PyStrings.strip(lines[1]);
            if (!second.isEmpty()) return second;
            if (lines.length > 2) return PyStrings.strip(lines[2]);
        }
        // ALMA's fallback when there are fewer lines: the first line after the next repetition of the suffix
        return segments.length > 1 ? PyStrings.strip(segments[1].split("\n", -1)[0]) : "";
    }
}
