package org.bitengine.models.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.Shape;
import java.awt.Stroke;
import java.awt.geom.AffineTransform;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Line2D;
import java.awt.geom.Path2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import javax.imageio.ImageIO;

import org.bitengine.engine.BitEngineException;
import org.bitengine.io.AtomicFile;

/**
 * Training curves and confusion matrices as PNG, drawn with Java2D (no display needed: AWT runs
 * headless) and written atomically.
 */
public final class Plots {

    static {
        // Before the first AWT class loads: a server or CI machine has no display.
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
    }

    private Plots() {}

    /** One point of a series: {@code x} is the training step. */
    public record Point(double x, double y) {}

    static final Color TRAIN_RAW = new Color(31, 119, 180, 70);
    static final Color TRAIN = new Color(31, 119, 180);
    static final Color VAL = new Color(255, 127, 14);
    static final Color ACCURACY = new Color(44, 160, 44);
    static final Color GRID = new Color(0, 0, 0, 28);
    static final Color AXIS = new Color(60, 60, 60);
    static final Color TEXT = new Color(30, 30, 30);
    static final Color MUTED = new Color(110, 110, 110);

    private static final int CURVES_WIDTH = 1200;
    private static final int CURVES_HEIGHT = 500;

    /**
     * Writes a two-panel figure: on the left the training loss against the step (thin line: every
     * logged value, thick line: an exponential moving average) with the validation loss as markers; on
     * the right the validation top-1 accuracy against the step, with its best value marked.
     * Accuracies are fractions in [0, 1] (shown as %), unless a value exceeds 1, then they are taken to
     * be percentages already. Any series may be empty; non-finite points are ignored. The loss axis
     * ignores the highest 2% of raw training values, so the first steps' spike does not flatten the rest.
     */
    public static void curves(Path png, List<Point> trainLoss, List<Point> valLoss, List<Point> valTop1, String title) {
        BufferedImage image;
        try {
            image = drawCurves(trainLoss, valLoss, valTop1, title);
        } catch (java.awt.AWTError | InternalError | LinkageError e) {
            throw cannotDraw(png, e);
        }
        write(png, image);
    }

    private static BufferedImage drawCurves(List<Point> trainLoss, List<Point> valLoss, List<Point> valTop1, String title) {
        List<Point> train = finite(trainLoss);
        List<Point> val = finite(valLoss);
        List<Point> top1 = finite(valTop1);
        boolean fractions = top1.stream().allMatch(p -> p.y() <= 1.0);
        if (fractions) top1 = top1.stream().map(p -> new Point(p.x(), 100 * p.y())).toList();
        List<Point> smooth = smoothed(train);

        BufferedImage image = new BufferedImage(CURVES_WIDTH, CURVES_HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = canvas(image);
        Font titleFont = new Font(Font.SANS_SERIF, Font.BOLD, 20);
        int top = 16;
        if (title != null && !title.isBlank()) {
            g.setFont(titleFont);
            g.setColor(TEXT);
            drawCentred(g, fit(g, title, CURVES_WIDTH - 40), CURVES_WIDTH / 2.0, top + g.getFontMetrics().getAscent());
            top += g.getFontMetrics().getHeight() + 6;
        }

        // Both panels share the step axis, so a point of the loss lines up with the accuracy beside it.
        double[] xs = range(List.of(train, val, top1), Point::x);
        Axis x = Axis.nice(xs[0] > 0 && xs[0] <= 0.2 * xs[1] ? 0 : xs[0], xs[1], 8, true).padded(0.02);

        double lossHi = Double.NEGATIVE_INFINITY;
        double lossLo = Double.POSITIVE_INFINITY;
        for (Point p : val) {
            lossHi = Math.max(lossHi, p.y());
            lossLo = Math.min(lossLo, p.y());
        }
        for (List<Point> s : List.of(train, smooth)) {
            if (s.isEmpty()) continue;
            double[] ys = s.stream().mapToDouble(Point::y).sorted().toArray();
            lossHi = Math.max(lossHi, ys[(int) Math.floor(0.98 * (ys.length - 1))]);
            lossLo = Math.min(lossLo, ys[0]);
        }
        boolean anyLoss = !train.isEmpty() || !val.isEmpty();
        if (!anyLoss) {
            lossLo = 0;
            lossHi = 1;
        }
        Axis lossAxis = Axis.nice(lossLo >= 0 && lossLo <= 0.25 * lossHi ? 0 : lossLo, lossHi, 6, false).padded(0.03);

        double accLo = 0;
        double accHi = 100;
        if (!top1.isEmpty()) {
            accLo = top1.stream().mapToDouble(Point::y).min().orElseThrow();
            accHi = top1.stream().mapToDouble(Point::y).max().orElseThrow();
            double pad = Math.max(0.5, 0.1 * (accHi - accLo));
            accLo = Math.max(0, accLo - pad);
            accHi = Math.min(100, accHi + pad);
        }
        Axis accAxis = Axis.nice(accLo, accHi, 6, false).clamp(0, 100).padded(0.03);

        int panelGap = 40;
        int panelW = (CURVES_WIDTH - panelGap) / 2;
        Rectangle2D left = new Rectangle2D.Double(0, top, panelW, CURVES_HEIGHT - top);
        Rectangle2D right = new Rectangle2D.Double(panelW + panelGap, top, panelW, CURVES_HEIGHT - top);

        Frame lossFrame = Frame.draw(g, left, "Loss", x, lossAxis, "step", "cross-entropy", v -> lossAxis.format(v));
        if (anyLoss) {
            Shape clip = g.getClip();
            g.clip(lossFrame.area());
            boolean smoothing = smooth != train;
            if (smoothing) drawLine(g, lossFrame, train, TRAIN_RAW, 1.2f);
            drawLine(g, lossFrame, smooth, TRAIN, 2.4f);
            if (train.size() == 1) drawMarkers(g, lossFrame, train, TRAIN, 7);
            drawLine(g, lossFrame, val, withAlpha(VAL, 120), 1.4f);
            drawMarkers(g, lossFrame, val, VAL, 8);
            g.setClip(clip);
            List<Legend> items = new ArrayList<>();
            if (!train.isEmpty() && smoothing) items.add(new Legend("train", TRAIN_RAW, false, 1.5f));
            if (!train.isEmpty()) items.add(new Legend(smoothing ? "train (smoothed)" : "train", TRAIN, train.size() == 1, 2.4f));
            if (!val.isEmpty()) items.add(new Legend("validation", VAL, true, 1.4f));
            legend(g, lossFrame, items, List.of(train, smooth, val));
        } else {
            lossFrame.message(g, "no loss logged yet");
        }

        Frame accFrame = Frame.draw(g, right, "Validation accuracy", x, accAxis, "step", "top-1 (%)", v -> accAxis.format(v) + "%");
        if (top1.isEmpty()) {
            accFrame.message(g, "no validation yet");
        } else {
            Shape clip = g.getClip();
            g.clip(accFrame.area());
            drawLine(g, accFrame, top1, ACCURACY, 2.0f);
            drawMarkers(g, accFrame, top1, ACCURACY, 8);
            g.setClip(clip);
            Point best = top1.getFirst();
            for (Point p : top1) if (p.y() > best.y()) best = p;
            Point last = top1.getLast();
            String bestText = String.format(Locale.ROOT, "best %.2f%% at step %s", best.y(), Axis.integer(best.x()));
            String lastText = String.format(Locale.ROOT, "last %.2f%% at step %s", last.y(), Axis.integer(last.x()));
            legend(g, accFrame, List.of(new Legend(bestText, ACCURACY, true, 2.0f), new Legend(lastText, null, false, 0)), List.of(top1));
            // Ring around the best point.
            double bx = accFrame.px(best.x());
            double by = accFrame.py(best.y());
            g.setColor(ACCURACY.darker());
            g.setStroke(new BasicStroke(2f));
            g.draw(new Ellipse2D.Double(bx - 8, by - 8, 16, 16));
        }
        g.dispose();
        return image;
    }

    /**
     * Reads {@code runDir/metrics.jsonl} and writes {@code runDir/curves.png}, titled with the run
     * directory's name; returns the PNG's path.
     */
    public static Path curvesFromRun(Path runDir) {
        MetricsLog log = MetricsLog.read(runDir.resolve("metrics.jsonl"));
        Path png = runDir.resolve("curves.png");
        Path name = runDir.toAbsolutePath().normalize().getFileName();
        curves(png, log.trainLoss(), log.valLoss(), log.valTop1(), name == null ? "training" : name.toString());
        return png;
    }

    /**
     * Writes a confusion-matrix heat map: rows are the true classes, columns the predicted ones; a
     * cell's colour is its count divided by its row's total (so rare classes are as readable as
     * frequent ones), and the count is written in the cell when it fits. Class names label both axes
     * (rotated on x) when the cells are large enough for text; with hundreds of classes only the
     * colours remain.
     *
     * @param counts [classes][classes], counts[true][predicted]
     */
    public static void confusionMatrix(Path png, int[][] counts, List<String> classNames) {
        BufferedImage image;
        try {
            image = drawConfusion(counts, classNames);
        } catch (java.awt.AWTError | InternalError | LinkageError e) {
            throw cannotDraw(png, e);
        }
        write(png, image);
    }

    private static BufferedImage drawConfusion(int[][] counts, List<String> classNames) {
        int k = classNames.size();
        if (k == 0) throw new IllegalArgumentException("a confusion matrix needs at least one class");
        if (counts.length != k) throw new IllegalArgumentException(counts.length + " rows of counts for " + k + " classes");
        long total = 0;
        long diagonal = 0;
        long[] rowSum = new long[k];
        for (int t = 0; t < k; t++) {
            if (counts[t].length != k) throw new IllegalArgumentException("row " + t + " has " + counts[t].length + " counts for " + k + " classes");
            for (int p = 0; p < k; p++) rowSum[t] += counts[t][p];
            total += rowSum[t];
            diagonal += counts[t][t];
        }

        int cell = Math.clamp(900 / k, 2, 64);
        int labelPt = Math.clamp(cell - 4, 0, 15);
        boolean labels = labelPt >= 8;
        long maxCount = Arrays.stream(counts).flatMapToInt(Arrays::stream).max().orElse(0);
        Font labelFont = new Font(Font.SANS_SERIF, Font.PLAIN, Math.max(labelPt, 8));
        Font axisFont = new Font(Font.SANS_SERIF, Font.BOLD, 15);
        Font titleFont = new Font(Font.SANS_SERIF, Font.BOLD, 18);
        Font tickFont = new Font(Font.SANS_SERIF, Font.PLAIN, 12);

        // Measure text before sizing the image.
        Graphics2D probe = canvas(new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB));
        probe.setFont(labelFont);
        FontMetrics lfm = probe.getFontMetrics();
        int maxLabel = 0;
        List<String> shown = new ArrayList<>(k);
        for (String name : classNames) {
            String s = fit(probe, name, 200);
            shown.add(s);
            maxLabel = Math.max(maxLabel, lfm.stringWidth(s));
        }
        // Widest count text at the largest font that fits a cell: the counts are drawn only if it fits.
        Font countFont = null;
        for (int pt = Math.min(14, cell / 2); pt >= 9; pt--) {
            Font f = new Font(Font.SANS_SERIF, Font.PLAIN, pt);
            probe.setFont(f);
            FontMetrics m = probe.getFontMetrics();
            if (m.stringWidth(Long.toString(maxCount)) <= cell - 4 && m.getAscent() <= cell - 2) {
                countFont = f;
                break;
            }
        }
        probe.setFont(titleFont);
        // The longest title this figure can have, so the width does not depend on the digits.
        int titleWidth = probe.getFontMetrics().stringWidth("Confusion matrix: n = 9,999,999, accuracy 100.00%");
        probe.dispose();

        int labelSpace = labels ? maxLabel + 10 : 0;
        int rotatedDrop = labels ? (int) Math.ceil(maxLabel * Math.sin(Math.PI / 4) + lfm.getHeight()) + 8 : 0;
        int titleH = 46;
        int axisTitle = 28;
        int colorBarW = 70;
        int gridSize = cell * k;
        int left = 20 + axisTitle + labelSpace;
        // Rotated labels hang down and to the left of their column: keep room for the first ones.
        if (labels) left = Math.max(left, (int) Math.ceil(maxLabel * Math.cos(Math.PI / 4)) + 10);
        int topY = titleH + 10;
        int width = left + gridSize + 30 + colorBarW;
        int height = topY + gridSize + rotatedDrop + axisTitle + 16;
        String title = total == 0 ? "Confusion matrix (no examples)"
                : String.format(Locale.ROOT, "Confusion matrix: n = %,d, accuracy %.2f%%", total, 100.0 * diagonal / total);
        width = Math.max(width, titleWidth + 40);

        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = canvas(image);
        g.setFont(titleFont);
        g.setColor(TEXT);
        drawCentred(g, fit(g, title, width - 20), width / 2.0, 14 + g.getFontMetrics().getAscent());

        for (int t = 0; t < k; t++) {
            for (int p = 0; p < k; p++) {
                double frac = rowSum[t] == 0 ? 0 : (double) counts[t][p] / rowSum[t];
                int x0 = left + p * cell;
                int y0 = topY + t * cell;
                g.setColor(blues(frac));
                g.fillRect(x0, y0, cell, cell);
                // Zeros are written only in small matrices; in larger ones they are noise.
                if (countFont != null && (counts[t][p] != 0 || k <= 12)) {
                    g.setFont(countFont);
                    g.setColor(frac > 0.5 ? Color.WHITE : (counts[t][p] == 0 ? new Color(170, 170, 170) : TEXT));
                    FontMetrics m = g.getFontMetrics();
                    String s = Integer.toString(counts[t][p]);
                    g.drawString(s, x0 + (cell - m.stringWidth(s)) / 2f, y0 + (cell + m.getAscent() - m.getDescent()) / 2f);
                }
            }
        }
        if (cell >= 6) {
            g.setColor(new Color(255, 255, 255, 160));
            g.setStroke(new BasicStroke(1f));
            for (int i = 1; i < k; i++) {
                g.drawLine(left + i * cell, topY, left + i * cell, topY + gridSize);
                g.drawLine(left, topY + i * cell, left + gridSize, topY + i * cell);
            }
        }
        g.setColor(AXIS);
        g.setStroke(new BasicStroke(1f));
        g.drawRect(left, topY, gridSize, gridSize);

        if (labels) {
            g.setFont(labelFont);
            g.setColor(TEXT);
            FontMetrics m = g.getFontMetrics();
            for (int t = 0; t < k; t++) {
                String s = shown.get(t);
                g.drawString(s, left - 6 - m.stringWidth(s), topY + t * cell + (cell + m.getAscent() - m.getDescent()) / 2f);
            }
            for (int p = 0; p < k; p++) {
                String s = shown.get(p);
                AffineTransform saved = g.getTransform();
                // Text ends at its column and runs down to the left at 45°.
                g.translate(left + p * cell + cell / 2.0 + m.getAscent() / 2.8, topY + gridSize + 6);
                g.rotate(-Math.PI / 4);
                g.drawString(s, -m.stringWidth(s), 0);
                g.setTransform(saved);
            }
        }
        g.setFont(axisFont);
        g.setColor(TEXT);
        FontMetrics am = g.getFontMetrics();
        drawCentred(g, "predicted", left + gridSize / 2.0, topY + gridSize + rotatedDrop + am.getAscent() + 4);
        AffineTransform saved = g.getTransform();
        g.translate(20 + am.getAscent(), topY + gridSize / 2.0);
        g.rotate(-Math.PI / 2);
        drawCentred(g, "true", 0, 0);
        g.setTransform(saved);

        // Colour bar: the fraction of the true class's examples.
        int barX = left + gridSize + 24;
        int barH = Math.max(Math.min(gridSize, 300), 60);
        int barW = 14;
        for (int i = 0; i < barH; i++) {
            g.setColor(blues(1.0 - (double) i / (barH - 1)));
            g.fillRect(barX, topY + i, barW, 1);
        }
        g.setColor(AXIS);
        g.drawRect(barX, topY, barW, barH);
        g.setFont(tickFont);
        FontMetrics tm = g.getFontMetrics();
        for (int pct : new int[] {0, 50, 100}) {
            int y = topY + (int) Math.round((1 - pct / 100.0) * (barH - 1));
            g.drawLine(barX + barW, y, barX + barW + 4, y);
            g.drawString(pct + "%", barX + barW + 6, y + tm.getAscent() / 2f - 1);
        }
        g.dispose();
        return image;
    }

    // ---------------------------------------------------------------- drawing helpers

    /** An axis range with its tick values. */
    record Axis(double lo, double hi, double step, boolean integer) {

        /** Extends [lo, hi] to multiples of a 1-2-5 step giving about {@code ticks} intervals. */
        static Axis nice(double lo, double hi, int ticks, boolean integer) {
            if (!(hi > lo)) {
                double pad = lo == 0 ? 1 : Math.abs(lo) * 0.1;
                lo -= pad;
                hi += pad;
                if (integer && lo < 0 && hi - pad >= 0) lo = 0;
            }
            // The 1-2-5 step (2.5 too, except on integer axes) whose interval count is closest to the wish.
            double mag = Math.pow(10, Math.floor(Math.log10((hi - lo) / ticks)));
            double[] multipliers = integer ? new double[] {1, 2, 5} : new double[] {1, 2, 2.5, 5};
            double step = Double.NaN;
            double bestMiss = Double.POSITIVE_INFINITY;
            for (double scale : new double[] {mag / 10, mag, mag * 10}) {
                for (double m : multipliers) {
                    double candidate = m * scale;
                    if (integer && candidate < 1) continue;
                    double intervals = Math.ceil(hi / candidate - 1e-9) - Math.floor(lo / candidate + 1e-9);
                    double miss = Math.abs(intervals - ticks);
                    if (miss <= bestMiss) {
                        bestMiss = miss;
                        step = candidate;
                    }
                }
            }
            if (integer) step = Math.max(1, Math.round(step));
            return new Axis(Math.floor(lo / step + 1e-9) * step, Math.ceil(hi / step - 1e-9) * step, step, integer);
        }

        /** The same ticks, with {@code fraction} of the span added as blank margin on both sides (data never sits on the frame). */
        Axis padded(double fraction) {
            double pad = (hi - lo) * fraction;
            return new Axis(lo - pad, hi + pad, step, integer);
        }

        Axis clamp(double min, double max) {
            return new Axis(Math.max(min, lo), Math.min(max, hi), step, integer);
        }

        double[] ticks() {
            List<Double> t = new ArrayList<>();
            double first = Math.ceil(lo / step - 1e-9) * step;
            for (double v = first; v <= hi + step * 1e-9; v += step) t.add(Math.abs(v) < step * 1e-9 ? 0 : v);
            return t.stream().mapToDouble(Double::doubleValue).toArray();
        }

        String format(double v) {
            if (integer) {
                return step % 1000 == 0 && v != 0 ? integer(v / 1000) + "k" : integer(v);
            }
            int decimals = Math.max(0, (int) -Math.floor(Math.log10(step) + 1e-9));
            if (step * Math.pow(10, decimals) % 1 > 1e-6) decimals++; // 2.5-steps need one more
            return String.format(Locale.ROOT, "%." + decimals + "f", v);
        }

        static String integer(double v) {
            return Long.toString(Math.round(v));
        }
    }

    /** A drawn panel: its plot area and the mapping from data to pixels. */
    record Frame(Rectangle2D area, Axis x, Axis y) {

        double px(double v) {
            return area.getX() + (v - x.lo()) / (x.hi() - x.lo()) * area.getWidth();
        }

        double py(double v) {
            return area.getMaxY() - (v - y.lo()) / (y.hi() - y.lo()) * area.getHeight();
        }

        void message(Graphics2D g, String text) {
            g.setFont(new Font(Font.SANS_SERIF, Font.ITALIC, 16));
            g.setColor(MUTED);
            drawCentred(g, text, area.getCenterX(), area.getCenterY());
        }

        static Frame draw(Graphics2D g, Rectangle2D panel, String title, Axis x, Axis y, String xLabel, String yLabel,
                          java.util.function.DoubleFunction<String> yFormat) {
            Font tickFont = new Font(Font.SANS_SERIF, Font.PLAIN, 13);
            Font labelFont = new Font(Font.SANS_SERIF, Font.PLAIN, 14);
            Font titleFont = new Font(Font.SANS_SERIF, Font.BOLD, 16);
            g.setFont(tickFont);
            FontMetrics tm = g.getFontMetrics();
            int tickWidth = 0;
            for (double v : y.ticks()) tickWidth = Math.max(tickWidth, tm.stringWidth(yFormat.apply(v)));
            g.setFont(labelFont);
            FontMetrics lm = g.getFontMetrics();
            double leftMargin = 16 + lm.getHeight() + 8 + tickWidth + 8;
            double topMargin = 34;
            double bottomMargin = tm.getHeight() + 10 + lm.getHeight() + 14;
            double rightMargin = 24;
            Rectangle2D area = new Rectangle2D.Double(panel.getX() + leftMargin, panel.getY() + topMargin,
                    panel.getWidth() - leftMargin - rightMargin, panel.getHeight() - topMargin - bottomMargin);
            Frame f = new Frame(area, x, y);

            g.setColor(Color.WHITE);
            g.fill(area);
            g.setStroke(new BasicStroke(1f));
            g.setFont(tickFont);
            for (double v : y.ticks()) {
                double py = f.py(v);
                g.setColor(GRID);
                g.draw(new Line2D.Double(area.getX(), py, area.getMaxX(), py));
                g.setColor(AXIS);
                g.draw(new Line2D.Double(area.getX() - 5, py, area.getX(), py));
                String s = yFormat.apply(v);
                g.setColor(TEXT);
                g.drawString(s, (float) (area.getX() - 8 - tm.stringWidth(s)), (float) (py + tm.getAscent() / 2.0 - 2));
            }
            double lastRight = Double.NEGATIVE_INFINITY;
            for (double v : x.ticks()) {
                double px = f.px(v);
                g.setColor(GRID);
                g.draw(new Line2D.Double(px, area.getY(), px, area.getMaxY()));
                g.setColor(AXIS);
                g.draw(new Line2D.Double(px, area.getMaxY(), px, area.getMaxY() + 5));
                String s = x.format(v);
                double w = tm.stringWidth(s);
                if (px - w / 2 > lastRight + 6) { // never let two tick labels touch
                    g.setColor(TEXT);
                    g.drawString(s, (float) (px - w / 2), (float) (area.getMaxY() + 8 + tm.getAscent()));
                    lastRight = px + w / 2;
                }
            }
            g.setColor(AXIS);
            g.draw(area);

            g.setFont(labelFont);
            g.setColor(TEXT);
            drawCentred(g, xLabel, area.getCenterX(), area.getMaxY() + 10 + tm.getHeight() + lm.getAscent());
            AffineTransform saved = g.getTransform();
            g.translate(panel.getX() + 16 + lm.getAscent(), area.getCenterY());
            g.rotate(-Math.PI / 2);
            drawCentred(g, yLabel, 0, 0);
            g.setTransform(saved);
            g.setFont(titleFont);
            drawCentred(g, title, area.getCenterX(), panel.getY() + 22);
            return f;
        }
    }

    record Legend(String label, Color color, boolean marker, float width) {}

    /** A legend box in the corner of the panel where it hides the fewest data points (upper right on a tie). */
    private static void legend(Graphics2D g, Frame f, List<Legend> items, List<List<Point>> data) {
        if (items.isEmpty()) return;
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        FontMetrics m = g.getFontMetrics();
        int row = m.getHeight() + 4;
        int textW = items.stream().mapToInt(i -> m.stringWidth(i.label())).max().orElse(0);
        boolean anySwatch = items.stream().anyMatch(i -> i.color() != null);
        int swatch = anySwatch ? 30 : 0;
        double w = 10 + swatch + textW + 12;
        double h = items.size() * row + 8;
        Rectangle2D a = f.area();
        double[][] corners = {
            {a.getMaxX() - w - 10, a.getY() + 10}, {a.getMaxX() - w - 10, a.getMaxY() - h - 10},
            {a.getX() + 10, a.getY() + 10}, {a.getX() + 10, a.getMaxY() - h - 10}};
        double x0 = corners[0][0];
        double y0 = corners[0][1];
        long fewest = Long.MAX_VALUE;
        for (double[] c : corners) {
            Rectangle2D box = new Rectangle2D.Double(c[0] - 6, c[1] - 6, w + 12, h + 12);
            long hidden = 0;
            for (List<Point> series : data) {
                for (int i = 0; i < series.size(); i++) {
                    Point p = series.get(i);
                    if (box.contains(f.px(p.x()), f.py(p.y()))) hidden++;
                    if (i > 0) {
                        Point q = series.get(i - 1);
                        if (box.intersectsLine(f.px(q.x()), f.py(q.y()), f.px(p.x()), f.py(p.y()))) hidden++;
                    }
                }
            }
            if (hidden < fewest) {
                fewest = hidden;
                x0 = c[0];
                y0 = c[1];
            }
        }
        g.setColor(new Color(255, 255, 255, 225));
        g.fill(new Rectangle2D.Double(x0, y0, w, h));
        g.setColor(new Color(0, 0, 0, 60));
        g.setStroke(new BasicStroke(1f));
        g.draw(new Rectangle2D.Double(x0, y0, w, h));
        for (int i = 0; i < items.size(); i++) {
            Legend it = items.get(i);
            double cy = y0 + 4 + i * row + row / 2.0;
            if (it.color() != null) {
                g.setColor(it.color());
                if (it.width() > 0) {
                    g.setStroke(new BasicStroke(it.width(), BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
                    g.draw(new Line2D.Double(x0 + 8, cy, x0 + 8 + swatch - 8, cy));
                }
                if (it.marker()) g.fill(new Ellipse2D.Double(x0 + 8 + (swatch - 8) / 2.0 - 4, cy - 4, 8, 8));
            }
            g.setColor(it.color() == null ? MUTED : TEXT);
            g.drawString(it.label(), (float) (x0 + 10 + swatch), (float) (cy + m.getAscent() / 2.0 - 2));
        }
    }

    private static void drawLine(Graphics2D g, Frame f, List<Point> points, Color color, float width) {
        if (points.size() < 2) return;
        Path2D.Double path = new Path2D.Double();
        path.moveTo(f.px(points.getFirst().x()), f.py(points.getFirst().y()));
        for (int i = 1; i < points.size(); i++) path.lineTo(f.px(points.get(i).x()), f.py(points.get(i).y()));
        Stroke saved = g.getStroke();
        g.setColor(color);
        g.setStroke(new BasicStroke(width, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
        g.draw(path);
        g.setStroke(saved);
    }

    private static void drawMarkers(Graphics2D g, Frame f, List<Point> points, Color color, double size) {
        // Thousands of markers would be a smear: thin them to about 200.
        int every = Math.max(1, points.size() / 200);
        for (int i = 0; i < points.size(); i += every) {
            Point p = points.get(i);
            Ellipse2D dot = new Ellipse2D.Double(f.px(p.x()) - size / 2, f.py(p.y()) - size / 2, size, size);
            g.setColor(color);
            g.fill(dot);
            g.setColor(Color.WHITE);
            g.setStroke(new BasicStroke(1f));
            g.draw(dot);
        }
    }

    /**
     * A centred moving average over about 2% of the series on each side: unlike an exponential
     * average it does not lag behind the fast early drop of a loss curve. Returns the series itself
     * when it is too short to smooth.
     */
    static List<Point> smoothed(List<Point> series) {
        int n = series.size();
        if (n < 10) return series;
        int half = Math.max(1, n / 50);
        double[] prefix = new double[n + 1];
        for (int i = 0; i < n; i++) prefix[i + 1] = prefix[i] + series.get(i).y();
        List<Point> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            // Near the start the window shrinks symmetrically, so the steep first steps are not pulled
            // down by later values; near the end, where curves are flat, it is cut off instead, so the
            // last point is still an average rather than one noisy value.
            int from = i < half ? 0 : i - half;
            int to = i < half ? Math.min(2 * i, n - 1) : Math.min(n - 1, i + half);
            out.add(new Point(series.get(i).x(), (prefix[to + 1] - prefix[from]) / (to - from + 1)));
        }
        return out;
    }

    private static List<Point> finite(List<Point> points) {
        if (points == null) return List.of();
        return points.stream().filter(p -> Double.isFinite(p.x()) && Double.isFinite(p.y())).toList();
    }

    private static double[] range(List<List<Point>> series, java.util.function.ToDoubleFunction<Point> f) {
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (List<Point> s : series) {
            for (Point p : s) {
                lo = Math.min(lo, f.applyAsDouble(p));
                hi = Math.max(hi, f.applyAsDouble(p));
            }
        }
        return lo > hi ? new double[] {0, 1} : new double[] {lo, hi};
    }

    /** White → blue, roughly matplotlib's "Blues". */
    static Color blues(double t) {
        t = Math.clamp(t, 0.0, 1.0);
        int[][] stops = {{247, 251, 255}, {198, 219, 239}, {107, 174, 214}, {33, 113, 181}, {8, 48, 107}};
        double s = t * (stops.length - 1);
        int i = Math.min((int) s, stops.length - 2);
        double u = s - i;
        int r = (int) Math.round(stops[i][0] + u * (stops[i + 1][0] - stops[i][0]));
        int gr = (int) Math.round(stops[i][1] + u * (stops[i + 1][1] - stops[i][1]));
        int b = (int) Math.round(stops[i][2] + u * (stops[i + 1][2] - stops[i][2]));
        return new Color(r, gr, b);
    }

    private static Color withAlpha(Color c, int alpha) {
        return new Color(c.getRed(), c.getGreen(), c.getBlue(), alpha);
    }

    private static Graphics2D canvas(BufferedImage image) {
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
        g.setRenderingHint(RenderingHints.KEY_FRACTIONALMETRICS, RenderingHints.VALUE_FRACTIONALMETRICS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, image.getWidth(), image.getHeight());
        return g;
    }

    private static void drawCentred(Graphics2D g, String s, double cx, double baseline) {
        g.drawString(s, (float) (cx - g.getFontMetrics().stringWidth(s) / 2.0), (float) baseline);
    }

    /** {@code s}, cut with an ellipsis to at most {@code maxWidth} pixels in the current font. */
    private static String fit(Graphics2D g, String s, int maxWidth) {
        FontMetrics m = g.getFontMetrics();
        if (m.stringWidth(s) <= maxWidth) return s;
        int end = s.length();
        while (end > 1 && m.stringWidth(s.substring(0, end) + "…") > maxWidth) end--;
        return s.substring(0, end) + "…";
    }

    private static void write(Path png, BufferedImage image) {
        AtomicFile.write(png, out -> {
            if (!ImageIO.write(image, "png", out)) throw new java.io.IOException("no PNG writer in this Java runtime");
        });
    }

    /** A failure to draw at all (no fonts on a stripped-down JRE): one line; callers may treat the PNG as optional. */
    private static BitEngineException cannotDraw(Path png, Throwable cause) {
        return new BitEngineException(png + ": cannot draw the figure (" + cause + "); the numbers are unaffected, install fonts (fontconfig) to get plots", cause);
    }
}
