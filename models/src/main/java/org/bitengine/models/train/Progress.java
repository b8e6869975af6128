package org.bitengine.models.train;

import java.io.PrintWriter;
import java.util.Locale;

/**
 * The training progress line: {@code step 120/500 [####......] loss 1.2345 lr 3.0e-03 45.1 img/s ETA 2m05s}.
 * On a terminal the line is redrawn in place; otherwise (a log file, a test) a line is printed every
 * 5% of the run or every 30 seconds, whichever comes first, plus the first and the last step.
 */
final class Progress {

    private static final int BAR = 24;

    private final PrintWriter out;
    private final int total;
    private final boolean terminal;
    private final long startNanos = System.nanoTime();
    private final int startStep;
    private long lastPrintNanos;
    private int lastPrintedStep = -1;
    private boolean lineOpen;

    Progress(PrintWriter out, int total, int startStep, boolean terminal) {
        this.out = out;
        this.total = total;
        this.startStep = startStep;
        this.terminal = terminal;
    }

    /** After step {@code done} (1-based: updates done) with its loss, lr and throughput. */
    void step(int done, double loss, double lr, double imagesPerSecond) {
        long now = System.nanoTime();
        boolean due = terminal
                || done == startStep + 1 || done == total
                || done - lastPrintedStep >= Math.max(1, total / 20)
                || now - lastPrintNanos > 30_000_000_000L;
        if (!due) return;
        double perStep = (now - startNanos) / 1e9 / Math.max(1, done - startStep);
        double eta = perStep * (total - done);
        int filled = (int) ((long) BAR * done / Math.max(1, total));
        String line = String.format(Locale.ROOT, "step %d/%d [%s%s] loss %s lr %.1e %.1f img/s ETA %s",
                done, total, "#".repeat(filled), ".".repeat(BAR - filled), number(loss), lr, imagesPerSecond, duration(eta));
        if (terminal) {
            out.print("\r" + line + "\u001b[K");
            lineOpen = true;
        } else {
            out.println(line);
        }
        out.flush();
        lastPrintNanos = now;
        lastPrintedStep = done;
    }

    /** Prints a whole line (an evaluation, a checkpoint), ending the redrawn progress line first. */
    void message(String line) {
        endLine();
        out.println(line);
        out.flush();
    }

    void endLine() {
        if (lineOpen) {
            out.println();
            lineOpen = false;
        }
    }

    /** A loss to 4 decimals, or in scientific notation when it is far from 1. */
    static String number(double v) {
        return Math.abs(v) < 1e4 ? String.format(Locale.ROOT, "%.4f", v) : String.format(Locale.ROOT, "%.3e", v);
    }

    static String duration(double seconds) {
        if (!Double.isFinite(seconds) || seconds < 0) return "?";
        long s = Math.round(seconds);
        if (s < 60) return s + "s";
        if (s < 3600) return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
        return String.format(Locale.ROOT, "%dh%02dm", s / 3600, (s % 3600) / 60);
    }
}
