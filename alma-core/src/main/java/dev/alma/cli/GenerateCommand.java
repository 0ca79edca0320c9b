package dev.alma.cli;

import dev.alma.AlmaException;
import dev.alma.decode.Greedy;
import dev.alma.io.Json;
import dev.alma.model.LlamaModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code alma generate}: continue a token sequence. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Continue --ids with the model and print the generated token ids.")
final class GenerateCommand implements Runnable {
    @Mixin
    ModelMixin model;

    @Option(names = "--ids", required = true, description = "prompt token ids (include BOS yourself)")
    String ids;

    @Option(names = "--max-new-tokens", defaultValue = "256", description = "most tokens to generate")
    int maxNewTokens;

    @Option(names = "--json", description = "print {\"sequences\": [[ids]]}")
    boolean json;

    @Override
    public void run() {
        int[] prompt = ModelMixin.parseIds(ids);
        if (maxNewTokens <= 0) throw new AlmaException("--max-new-tokens must be positive");
        try (LlamaModel m = model.open()) {
            int[] out = Greedy.generate(m, prompt, maxNewTokens, m.config().eosTokenId());
            if (json) {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("sequences", List.of(out));
                System.out.println(Json.write(o));
            } else {
                StringBuilder sb = new StringBuilder();
                for (int t : out) sb.append(sb.isEmpty() ? "" : " ").append(t);
                System.out.println(sb);
            }
        }
    }
}
