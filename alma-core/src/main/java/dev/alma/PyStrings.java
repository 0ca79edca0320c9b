package dev.alma;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The Python {@code str} operations that ALMA's output cleaning and sacreBLEU's metrics rest on, on code points:
 * {@code split()}, {@code strip()}, {@code rstrip()} and {@code lower()}. Python's whitespace ({@code str.isspace})
 * is not Java's {@code \s} nor {@link Character#isWhitespace}: it includes U+0085, U+00A0, U+1680, U+2000–U+200A,
 * U+2028, U+2029, U+202F, U+205F, U+3000 and U+001C–U+001F.
 */
public final class PyStrings {
    private PyStrings() {
    }

    /** Python's {@code str.isspace()} for one code point. */
    public static boolean isSpace(int cp) {
        if (cp <= 0x20) return cp == 0x20 || (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x1F);
        if (cp < 0x85) return false;
        return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A)
                || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
    }

    /** Python's {@code s.split()}: the maximal runs of non-whitespace, in order. */
    public static List<String> split(String s) {
        List<String> out = new ArrayList<>();
        int n = s.length(), start = -1;
        for (int i = 0; i < n; ) {
            int cp = s.codePointAt(i);
            if (isSpace(cp)) {
                if (start >= 0) {
                    out.add(s.substring(start, i));
                    start = -1;
                }
            } else if (start < 0) {
                start = i;
            }
            i += Character.charCount(cp);
        }
        if (start >= 0) out.add(s.substring(start));
        return out;
    }

    /** Python's {@code ' '.join(s.split())}. */
    public static String normalizeSpaces(String s) {
        return String.join(" ", split(s));
    }

    /** Python's {@code ''.join(s.split())}: the string without any whitespace. */
    public static String removeSpaces(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            if (!isSpace(cp)) b.appendCodePoint(cp);
            i += Character.charCount(cp);
        }
        return b.toString();
    }

    /** Python's {@code s.rstrip()}. */
    public static String rstrip(String s) {
        int end = s.length();
        while (end > 0) {
            int cp = s.codePointBefore(end);
            if (!isSpace(cp)) break;
            end -= Character.charCount(cp);
        }
        return s.substring(0, end);
    }

    /** Python's {@code s.strip()}. */
    public static String strip(String s) {
        String r = rstrip(s);
        int start = 0;
        while (start < r.length()) {
            int cp = r.codePointAt(start);
            if (!isSpace(cp)) break;
            start += Character.charCount(cp);
        }
        return r.substring(start);
    }

    /**
     * Python's {@code s.lower()}: full Unicode lower-case mapping, language-neutral (final sigma and the
     * dotted capital I are mapped as Python does).
     */
    public static String lower(String s) {
        return s.toLowerCase(Locale.ROOT);
    }

    /** The code points of {@code s}. */
    public static int[] codePoints(String s) {
        return s.codePoints().toArray();
    }
}
