package dev.alma.eval;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Files are split into lines as sacreBLEU's command line reads them. */
class TextLinesTest {
    @Test
    void linesSplitOnNewlineOnly() {
        assertEquals(List.of("a", "b\rc", "", "d\u2028e"), TextLines.split("a\r\nb\rc\n\nd\u2028e \n"));
        assertEquals(List.of(""), TextLines.split("\n"));
        assertEquals(List.of(), TextLines.split(""));
        assertEquals(List.of("\ufeffx"), TextLines.split("\ufeffx"));
    }
}
