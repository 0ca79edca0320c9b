package dev.alma.train;

import dev.alma.io.Json;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Writes a run's loss history as {@code loss.csv}, {@code loss.json} and a {@code loss.png} plot (each atomically). */
public final class LossLog {
    private LossLog() {
    }

    /** Writes the three files into {@code dir}; {@code initialEval} (NaN if none) is plotted at step 0. */
    public static void write(List<StepLog> history, double initialEval, Path dir) {
        StringBuilder csv = new StringBuilder("step,lr,loss,grad_norm,tokens,seconds,tokens_per_s,eval_loss\n");
        List<Map<String, Object>> json = new ArrayList<>();
        for (StepLog s : history) {
            csv.append(String.format(Locale.ROOT, "%d,%.6e,%.6f,%.6f,%d,%.3f,%.1f,%s%n", s.step(), s.lr(), s.loss(), s.gradNorm(),
                    s.tokens(), s.seconds(), s.tokensPerSecond(), Double.isNaN(s.evalLoss()) ? "" : String.format(Locale.ROOT, "%.6f", s.evalLoss())));
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("step", s.step());
            m.put("lr", s.lr());
            m.put("loss", s.loss());
            m.put("grad_norm", s.gradNorm());
            m.put("tokens", s.tokens());
            m.put("seconds", s.seconds());
            if (!Double.isNaN(s.evalLoss())) m.put("eval_loss", s.evalLoss());
            json.add(m);
        }
        ModelFiles.writeAtomically(dir.resolve("loss.csv"), csv.toString());
        Map<String, Object> doc = new LinkedHashMap<>();
        if (!Double.isNaN(initialEval)) doc.put("initial_eval_loss", initialEval);
        doc.put("steps", json);
        ModelFiles.writeAtomically(dir.resolve("loss.json"), Json.write(doc));
        if (!history.isEmpty()) plot(history, initialEval, dir.resolve("loss.png"));
    }

    private static void plot(List<StepLog> history, double initialEval, Path png) {
        System.setProperty("java.awt.headless", "true");
        XYChart chart = new XYChartBuilder().width(900).height(500).title("Fine-tuning loss").xAxisTitle("step").yAxisTitle("loss").build();
        double[] x = new double[history.size()], y = new double[history.size()];
        List<Double> ex = new ArrayList<>(), ey = new ArrayList<>();
        if (!Double.isNaN(initialEval)) {
            ex.add(0.0);
            ey.add(initialEval);
        }
        for (int i = 0; i < x.length; i++) {
            StepLog s = history.get(i);
            x[i] = s.step();
            y[i] = s.loss();
            if (!Double.isNaN(s.evalLoss())) {
                ex.add((double) s.step());
                ey.add(s.evalLoss());
            }
        }
        chart.addSeries("train", x, y).setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        if (!ex.isEmpty()) chart.addSeries("validation", ex, ey).setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        dev.alma.io.AtomicFiles.writeFile(png, ".png", tmp -> BitmapEncoder.saveBitmap(chart, tmp.toString(), BitmapEncoder.BitmapFormat.PNG));
    }
}
