package dev.alma;

/** How the translation request is put to the model. */
public enum PromptStyle {
    /**
     * ALMA and ALMA-R: {@code "Translate this from {Src} to {Tgt}:\n{Src}: {text}\n{Tgt}:"} after BOS, exactly as
     * ALMA's code builds it (no trailing space).
     */
    ALMA,
    /** X-ALMA's chat template around the same request: {@code <s>[INST] {request} [/INST]}. */
    CHAT;

    /** The prompt text (without BOS) for translating {@code text} from {@code from} to {@code to}. */
    public String build(String text, String from, String to) {
        String src = Languages.name(from), tgt = Languages.name(to);
        String request = "Translate this from " + src + " to " + tgt + ":\n" + src + ": " + text + "\n" + tgt + ":";
        return this == ALMA ? request : "[INST] " + request.strip() + " [/INST]";
    }

    /** The text after which the model writes the translation, as ALMA's output cleaning splits on it. */
    public static String suffix(String to) {
        return "\n" + Languages.name(to) + ":";
    }
}
