package dev.alma.eval;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Python's {@code str} whitespace semantics, which differ from Java's. */
class PyTextTest {
    @Test
    void whitespaceIsPythons() {
        for (int cp : new int[]{0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x1F, 0x20, 0x85, 0xA0, 0x1680, 0x2000,
                0x2005, 0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000})
            assertTrue(PyText.isSpace(cp), Integer.toHexString(cp));
        for (int cp : new int[]{0x08, 0x0E, 0x200B, 0x180E, 0xFEFF, 0x2060, 'a', 0x1F600})
            assertFalse(PyText.isSpace(cp), Integer.toHexString(cp));
    }

    @Test
    void splitStripAndLower() {
        assertEquals(List.of("a", "b\u200bc", "d"), PyText.split("\u3000a\u00a0\u00a0b\u200bc\u0085d\u2028"));
        assertEquals(List.of(), PyText.split(" \t\n"));
        assertEquals("\u00a0x y", PyText.rstrip("\u00a0x y\r\u202f\u205f"));
        assertEquals("x\u200b", PyText.strip("\u1680x\u200b\u2029"));
        assertEquals("ab", PyText.removeSpaces(" a \u3000b\u000b"));
        assertEquals("i\u0307stanbul \u03c3\u03b1\u03c2", PyText.lower("\u0130STANBUL \u03a3\u0391\u03a3"));
    }

    @Test
    void linesSplitOnNewlineOnly() {
        assertEquals(List.of("a", "b\rc", "", "d\u2028e"), TextLines.split("a\r\nb\rc\n\nd\u2028e \n"));
        assertEquals(List.of(""), TextLines.split("\n"));
        assertEquals(List.of(), TextLines.split(""));
        assertEquals(List.of("\ufeffx"), TextLines.split("\ufeffx"));
    }
}
