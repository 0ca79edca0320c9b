package dev.alma.cli;

import dev.alma.AlmaException;
import dev.alma.decode.Logits;
import dev.alma.io.Json;
import dev.alma.model.LlamaModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code alma logits}: the model's scores at every position of a token sequence. */
@Command(name = "logits", mixinStandardHelpOptions = true,
        description = "Print log-sum-exp and the top-k logits at every position of --ids.")
final class LogitsCommand implements Runnable {
    @Mixin
    ModelMixin model;

    @Option(names = "--ids", required = true, description = "token ids, e.g. \"1 4103 9632\" (include BOS yourself)")
    String ids;

    @Option(names = "--top", defaultValue = "8", description = "how many top logits per position")
    int top;

    @Option(names = "--json", description = "print one JSON object")
    boolean json;

    @Override
    public void run() {
        int[] tokens = ModelMixin.parseIds(ids);
        if (top <= 0) throw new AlmaException("--top must be positive");
        try (LlamaModel m = model.open(); LlamaModel.Context ctx = m.newContext(tokens.length)) {
            float[][] logits = m.append(ctx, ctx.cache().create(), tokens, true);
            List<Double> lse = new ArrayList<>();
            List<int[]> topIds = new ArrayList<>();
            List<float[]> topLogits = new ArrayList<>();
            for (float[] row : logits) {
                lse.add(Logits.logSumExp(row));
                int[] idx = Logits.topK(row, top);
                float[] vals = new float[idx.length];
                for (int j = 0; j < idx.length; j++) vals[j] = row[idx[j]];
                topIds.add(idx);
                topLogits.add(vals);
            }
            if (json) {
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("logsumexp", lse);
                out.put("top_ids", topIds);
                out.put("top_logits", topLogits);
                System.out.println(Json.write(out));
            } else {
                for (int i = 0; i < tokens.length; i++) {
                    StringBuilder sb = new StringBuilder();
                    sb.append(i).append(" token ").append(tokens[i]).append(String.format(" lse %.5f:", lse.get(i)));
                    for (int j = 0; j < topIds.get(i).length; j++)
                        sb.append(String.format(" %d(%.4f)", topIds.get(i)[j], topLogits.get(i)[j]));
                    System.out.println(sb);
                }
            }
        }
    }
}
