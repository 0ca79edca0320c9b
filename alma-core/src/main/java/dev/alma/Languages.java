package dev.alma;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** ALMA's language table: code → the English name used in prompts (ALMA and X-ALMA's 50 languages). */
public final class Languages {
    private static final Map<String, String> NAMES;

    static {
        Map<String, String> m = new LinkedHashMap<>();
        String[] table = {
                "en", "English", "da", "Danish", "nl", "Dutch", "de", "German", "is", "Icelandic", "no", "Norwegian",
                "sv", "Swedish", "af", "Afrikaans", "ca", "Catalan", "ro", "Romanian", "gl", "Galician", "it", "Italian",
                "pt", "Portuguese", "es", "Spanish", "bg", "Bulgarian", "mk", "Macedonian", "sr", "Serbian",
                "uk", "Ukrainian", "ru", "Russian", "id", "Indonesian", "ms", "Malay", "th", "Thai", "vi", "Vietnamese",
                "mg", "Malagasy", "fr", "French", "hu", "Hungarian", "el", "Greek", "cs", "Czech", "pl", "Polish",
                "lt", "Lithuanian", "lv", "Latvian", "ka", "Georgian", "zh", "Chinese", "ja", "Japanese", "ko", "Korean",
                "fi", "Finnish", "et", "Estonian", "gu", "Gujarati", "hi", "Hindi", "mr", "Marathi", "ne", "Nepali",
                "ur", "Urdu", "az", "Azerbaijani", "kk", "Kazakh", "ky", "Kyrgyz", "tr", "Turkish", "uz", "Uzbek",
                "ar", "Arabic", "he", "Hebrew", "fa", "Persian", "ha", "Hausa",
        };
        for (int i = 0; i < table.length; i += 2) m.put(table[i], table[i + 1]);
        NAMES = Collections.unmodifiableMap(m);
    }

    private Languages() {
    }

    /** The prompt name of a language code, e.g. {@code de → German}. */
    public static String name(String code) {
        String name = code == null ? null : NAMES.get(code.trim().toLowerCase(java.util.Locale.ROOT));
        if (name == null)
            throw new AlmaException("unknown language code '" + code + "' (known: " + String.join(", ", NAMES.keySet()) + ")");
        return name;
    }

    /** All codes → names. */
    public static Map<String, String> all() {
        return NAMES;
    }
}
