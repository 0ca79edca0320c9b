package dev.alma;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class PromptTest {
    @Test
    void almaPromptIsExactlyWhatAlmasCodeBuilds() {
        assertEquals("Translate this from German to English:\nGerman: Guten Morgen!\nEnglish:",
                PromptStyle.ALMA.build("Guten Morgen!", "de", "en"));
        assertEquals("Translate this from English to Chinese:\nEnglish: Hi\nChinese:", PromptStyle.ALMA.build("Hi", "en", "zh"));
        assertEquals("Translate this from Icelandic to English:\nIcelandic: x\nEnglish:", PromptStyle.ALMA.build("x", "IS", "en"));
    }

    @Test
    void chatStyleWrapsTheRequestInXAlmasTemplate() {
        assertEquals("[INST] Translate this from Czech to English:\nCzech: Ahoj\nEnglish: [/INST]",
                PromptStyle.CHAT.build("Ahoj", "cs", "en"));
    }

    @Test
    void unknownLanguageIsNamed() {
        AlmaException e = assertThrows(AlmaException.class, () -> PromptStyle.ALMA.build("x", "xx", "en"));
        assertTrue(e.getMessage().contains("'xx'"), e.getMessage());
        assertThrows(AlmaException.class, () -> Languages.name(null));
    }

    @Test
    void cleaningKeepsTheFirstNonEmptyLine() {
        String sfx = PromptStyle.suffix("en");
        assertEquals("Good morning!", OutputCleaner.clean(" Good morning!\nGerman: Guten Tag", sfx));
        assertEquals("Second", OutputCleaner.clean("  \n Second \nthird", sfx));
        assertEquals("Third", OutputCleaner.clean("\n\u00a0\nThird\n", sfx), "no-break space is whitespace, as in Python");
        assertEquals("", OutputCleaner.clean("\n\n\n\nfifth", sfx), "ALMA looks at three lines only");
        assertEquals("", OutputCleaner.clean("\n\n\nEnglish: x\nEnglish: Again\n", sfx), "third line returned even blank");
        assertEquals("Again", OutputCleaner.clean("\nEnglish: Again\nmore", sfx), "too few lines: after the next suffix");
        assertEquals("Cut", OutputCleaner.clean("Cut\nEnglish: more", sfx));
        assertEquals("", OutputCleaner.clean("", sfx));
    }

    @Test
    void pythonWhitespaceRules() {
        assertEquals("a b", PyStrings.strip("\u2003\u00a0a b\u3000\u001f"));
        assertEquals(java.util.List.of("a", "b", "c"), PyStrings.split(" a\u00a0b\u2028c "));
        assertFalse(PyStrings.isSpace(0x200B), "zero-width space is not whitespace in Python");
    }
}
