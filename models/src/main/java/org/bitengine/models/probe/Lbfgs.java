package org.bitengine.models.probe;

/**
 * Limited-memory BFGS (Nocedal & Wright, Numerical Optimization, algorithms 7.4 and 7.5) with a
 * backtracking Armijo line search. Small and deterministic; enough for the smooth, convex objectives
 * of the linear probes.
 */
final class Lbfgs {

    private Lbfgs() {}

    /** A smooth function of a vector. */
    interface Objective {
        /** Returns f(x) and writes ∇f(x) into {@code grad} (same length as x). */
        double valueAndGradient(double[] x, double[] grad);
    }

    /** What the minimisation did. */
    record Result(double value, int iterations, boolean converged) {}

    private static final double ARMIJO = 1e-4;
    private static final int MAX_BACKTRACKS = 40;
    private static final double RELATIVE_DECREASE = 1e-12;

    /**
     * Minimises {@code f} from {@code x}, which is overwritten with the minimiser. Stops when the
     * largest gradient entry is at most {@code gradTolerance}, when an iteration lowers f by less than
     * a relative 1e-12, when the line search finds no decrease, or after {@code maxIterations}.
     *
     * @param history pairs (s, y) kept for the inverse Hessian approximation
     */
    static Result minimize(Objective f, double[] x, int maxIterations, int history, double gradTolerance) {
        int size = x.length;
        double[] g = new double[size];
        double fx = f.valueAndGradient(x, g);
        double[][] s = new double[history][];
        double[][] y = new double[history][];
        double[] rho = new double[history];
        double[] alpha = new double[history];
        int stored = 0;
        int newest = -1;
        double[] d = new double[size];
        double[] xNew = new double[size];
        double[] gNew = new double[size];

        for (int iter = 0; iter < maxIterations; iter++) {
            if (maxAbs(g) <= gradTolerance) return new Result(fx, iter, true);

            // Two-loop recursion: d = −H·g.
            System.arraycopy(g, 0, d, 0, size);
            for (int k = 0; k < stored; k++) {
                int j = Math.floorMod(newest - k, history);
                alpha[j] = rho[j] * dot(s[j], d);
                axpy(-alpha[j], y[j], d);
            }
            double gamma = stored == 0 ? 1.0 / Math.max(1.0, Math.sqrt(dot(g, g))) : dot(s[newest], y[newest]) / dot(y[newest], y[newest]);
            scale(gamma, d);
            for (int k = stored - 1; k >= 0; k--) {
                int j = Math.floorMod(newest - k, history);
                double beta = rho[j] * dot(y[j], d);
                axpy(alpha[j] - beta, s[j], d);
            }
            scale(-1, d);
            double slope = dot(d, g);
            if (!(slope < 0)) {
                // The approximation lost positive definiteness (rounding): restart from steepest descent.
                stored = 0;
                for (int i = 0; i < size; i++) d[i] = -g[i] / Math.max(1.0, Math.sqrt(dot(g, g)));
                slope = dot(d, g);
            }

            double t = 1;
            double fNew = Double.NaN;
            boolean accepted = false;
            for (int b = 0; b < MAX_BACKTRACKS; b++) {
                for (int i = 0; i < size; i++) xNew[i] = x[i] + t * d[i];
                fNew = f.valueAndGradient(xNew, gNew);
                if (fNew <= fx + ARMIJO * t * slope) {
                    accepted = true;
                    break;
                }
                // Minimiser of the quadratic through f(0), f'(0) and f(t), kept within [t/10, t/2].
                double next = Double.isFinite(fNew) ? -slope * t * t / (2 * (fNew - fx - slope * t)) : t / 10;
                t = Math.min(0.5 * t, Math.max(0.1 * t, next));
            }
            if (!accepted) return new Result(fx, iter, false);

            int slot = (newest + 1) % history;
            if (s[slot] == null) {
                s[slot] = new double[size];
                y[slot] = new double[size];
            }
            for (int i = 0; i < size; i++) {
                s[slot][i] = xNew[i] - x[i];
                y[slot][i] = gNew[i] - g[i];
            }
            double sy = dot(s[slot], y[slot]);
            if (sy > 1e-12 * Math.sqrt(dot(s[slot], s[slot]) * dot(y[slot], y[slot]))) {
                rho[slot] = 1 / sy;
                newest = slot;
                stored = Math.min(stored + 1, history);
            }
            double decrease = fx - fNew;
            System.arraycopy(xNew, 0, x, 0, size);
            System.arraycopy(gNew, 0, g, 0, size);
            fx = fNew;
            if (decrease <= RELATIVE_DECREASE * Math.max(1.0, Math.abs(fx))) return new Result(fx, iter + 1, true);
        }
        return new Result(fx, maxIterations, maxAbs(g) <= gradTolerance);
    }

    private static double dot(double[] a, double[] b) {
        double sum = 0;
        for (int i = 0; i < a.length; i++) sum += a[i] * b[i];
        return sum;
    }

    private static void axpy(double a, double[] x, double[] y) {
        for (int i = 0; i < x.length; i++) y[i] += a * x[i];
    }

    private static void scale(double a, double[] x) {
        for (int i = 0; i < x.length; i++) x[i] *= a;
    }

    private static double maxAbs(double[] x) {
        double m = 0;
        for (double v : x) m = Math.max(m, Math.abs(v));
        return m;
    }
}
