package dev.alma;

/**
 * Python's string whitespace rules ({@code str.strip()}, {@code str.split()}), which differ from Java's
 * {@link Character#isWhitespace}: Python also counts U+001C..U+001F, U+0085, U+00A0 and the Unicode space
 * separators, including no-break spaces, as whitespace.
 */
public final class PyStrings {
    private PyStrings() {
    }

    /** Whether Python's {@code str.isspace()} holds for code point {@code c}. */
    public static boolean isSpace(int c) {
        return switch (c) {
            case ' ', '\t', '\n', 0x0B, '\f', '\r', 0x1C, 0x1D, 0x1E, 0x1F, 0x85, 0xA0, 0x1680,
                 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200A,
                 0x2028, 0x2029, 0x202F, 0x205F, 0x3000 -> true;
            default -> false;
        };
    }

    /** Python's {@code s.strip()}. */
    public static String strip(String s) {
        int b = 0, e = s.length();
        while (b < e && isSpace(s.codePointAt(b))) b += Character.charCount(s.codePointAt(b));
        while (e > b && isSpace(s.codePointBefore(e))) e -= Character.charCount(s.codePointBefore(e));
        return s.substring(b, e);
    }

    /** Python's {@code s.split()}: runs of whitespace separate, no empty parts. */
    public static java.util.List<String> split(String s) {
        java.util.List<String> out = new java.util.ArrayList<>();
        int i = 0, n = s.length();
        while (i < n) {
            while (i < n && isSpace(s.codePointAt(i))) i += Character.charCount(s.codePointAt(i));
            int start = i;
            while (i < n && !isSpace(s.codePointAt(i))) i += Character.charCount(s.codePointAt(i));
            if (i > start) out.add(s.substring(start, i));
        }
        return out;
    }
}
