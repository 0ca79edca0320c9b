package dev.alma.model;

import java.nio.file.Path;

/** Child-JVM entry of {@link CheckpointTest}: opens a model and runs one token through it. */
public final class OpenModelMain {
    private OpenModelMain() {
    }

    public static void main(String[] args) {
        try (LlamaModel m = LlamaModel.open(Path.of(args[0]), ModelOptions.defaults());
             LlamaModel.Context ctx = m.newContext(8)) {
            float[][] logits = m.append(ctx, ctx.cache().create(), new int[]{1}, false);
            System.out.println("vocab " + m.config().vocabSize() + " layers " + m.config().numLayers()
                    + " logits " + logits[0].length + " heap used MB "
                    + (Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory()) / (1 << 20));
        }
    }
}
