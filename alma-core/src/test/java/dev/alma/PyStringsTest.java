package dev.alma;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Python's {@code str} whitespace semantics, which differ from Java's. */
class PyStringsTest {
    @Test
    void whitespaceIsPythons() {
        for (int cp : new int[]{0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x1F, 0x20, 0x85, 0xA0, 0x1680, 0x2000,
                0x2005, 0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000})
            assertTrue(PyStrings.isSpace(cp), Integer.toHexString(cp));
        for (int cp : new int[]{0x08, 0x0E, 0x200B, 0x180E, 0xFEFF, 0x2060, 'a', 0x1F600})
            assertFalse(PyStrings.isSpace(cp), Integer.toHexString(cp));
    }

    @Test
    void splitStripAndLower() {
        assertEquals(List.of("a", "b\u200bc", "d"), PyStrings.split("\u3000a\u00a0\u00a0b\u200bc\u0085d\u2028"));
        assertEquals(List.of(), PyStrings.split(" \t\n"));
        assertEquals("\u00a0x y", PyStrings.rstrip("\u00a0x y\r\u202f\u205f"));
        assertEquals("x\u200b", PyStrings.strip("\u1680x\u200b\u2029"));
        assertEquals("ab", PyStrings.removeSpaces(" a \u3000b\u000b"));
        assertEquals("i\u0307stanbul \u03c3\u03b1\u03c2", PyStrings.lower("\u0130STANBUL \u03a3\u0391\u03a3"));
    }
}
