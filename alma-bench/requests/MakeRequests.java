import dev.alma.PromptStyle;
import dev.alma.tokenizer.Tokenizer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Writes an {@code alma bench --requests} file from a test set: per sentence, the prompt's length (BOS and ALMA's
 * prompt around the source) and the output's (a system's translation and EOS), in LLaMA-2 tokens.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp "alma-core/target/alma-core.jar:alma-core/target/lib/*" \
 *     alma-bench/requests/MakeRequests.java TOKENIZER SOURCE TRANSLATIONS COUNT FROM TO OUT
 * </pre>
 */
public class MakeRequests {
    public static void main(String[] a) throws Exception {
        if (a.length != 7) {
            System.err.println("usage: MakeRequests TOKENIZER SOURCE TRANSLATIONS COUNT FROM TO OUT");
            System.exit(2);
        }
        Tokenizer tok = Tokenizer.load(Path.of(a[0]));
        List<String> src = Files.readAllLines(Path.of(a[1])), out = Files.readAllLines(Path.of(a[2]));
        int n = Math.min(Integer.parseInt(a[3]), Math.min(src.size(), out.size()));
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            int prompt = 1 + tok.encode(PromptStyle.ALMA.build(src.get(i), a[4], a[5])).length;
            int output = tok.encode(out.get(i)).length + 1;
            sb.append(prompt).append(' ').append(output).append('\n');
        }
        Files.writeString(Path.of(a[6]), sb.toString());
    }
}
