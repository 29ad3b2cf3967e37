/* calibration.c — see calibration.h. */
#include "engine/calibration.h"
#include "engine/graph.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double clampp(double p) { return p < SIALO_CALIB_EPS ? SIALO_CALIB_EPS : p > 1 - SIALO_CALIB_EPS ? 1 - SIALO_CALIB_EPS : p; }
static double logit(double p) { p = clampp(p); return log(p / (1 - p)); }
static double sigmoid(double z) { return z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z)); }
/* log(1 + e^z), stable */
static double softplus(double z) { return z > 0 ? z + log1p(exp(-z)) : log1p(exp(z)); }

double sialo_calib_apply(double a, double b, double p) {
    if (a == 1 && b == 0) return p;
    return sigmoid(a * logit(p) + b);
}

double sialo_calib_invert(double a, double b, double q) {
    if (a == 1 && b == 0) return q;
    return sigmoid((logit(q) - b) / a);
}

/* log loss of sigmoid(a x + b) (sum, not mean) */
static double nll(const double *x, const int *y, int n, double a, double b) {
    double s = 0;
    for (int i = 0; i < n; i++) {
        double z = a * x[i] + b;
        s += softplus(z) - (y[i] ? z : 0);
    }
    return s;
}

int sialo_calib_fit(const double *p, const int *y, int n, sialo_calib_method method, double *a, double *b) {
    if (n < SIALO_CALIB_MIN_ROWS)
        return sialo_fail("calibration needs at least %d predictions, there are %d", SIALO_CALIB_MIN_ROWS, n);
    int npos = 0;
    for (int i = 0; i < n; i++) {
        if (!(p[i] >= 0 && p[i] <= 1))
            return sialo_fail("prediction %d has p_malignant = %g, outside [0, 1]", i + 1, p[i]);
        if (y[i] != 0 && y[i] != 1) return sialo_fail("prediction %d has label %d; labels are 0 (benign) or 1 (malignant)", i + 1, y[i]);
        npos += y[i];
    }
    if (npos == 0 || npos == n)
        return sialo_fail("calibration needs both classes, but all %d predictions are %s", n, npos ? "malignant" : "benign");
    double *x = malloc((size_t)n * sizeof *x);
    if (!x) return sialo_fail("out of memory");
    for (int i = 0; i < n; i++) x[i] = logit(p[i]);
    /* (quasi-)separated classes: the likelihood keeps growing as a -> infinity, no finite maximum */
    double min1 = INFINITY, max1 = -INFINITY, min0 = INFINITY, max0 = -INFINITY;
    for (int i = 0; i < n; i++) {
        if (y[i]) { if (x[i] < min1) min1 = x[i]; if (x[i] > max1) max1 = x[i]; }
        else { if (x[i] < min0) min0 = x[i]; if (x[i] > max0) max0 = x[i]; }
    }
    int separated = method == SIALO_CALIB_PLATT ? (max0 <= min1 || max1 <= min0)
                                                : ((max0 <= 0 && min1 >= 0) || (max1 <= 0 && min0 >= 0));
    if (separated) {
        free(x);
        return sialo_fail("the predictions separate the classes perfectly (every malignant p %s every benign p%s), so the "
                          "maximum-likelihood calibration has no finite solution", max0 <= min1 ? "at or above" : "at or below",
                          method == SIALO_CALIB_PLATT ? "" : " on either side of 0.5");
    }
    double A = 1, B = 0, L = nll(x, y, n, A, B);
    int platt = method == SIALO_CALIB_PLATT, converged = 0;
    for (int it = 0; it < 200 && !converged; it++) {
        double ga = 0, gb = 0, haa = 0, hab = 0, hbb = 0;
        for (int i = 0; i < n; i++) {
            double s = sigmoid(A * x[i] + B), r = s - y[i], w = s * (1 - s);
            ga += r * x[i]; gb += r;
            haa += w * x[i] * x[i]; hab += w * x[i]; hbb += w;
        }
        double da, db = 0;
        if (platt) {
            double det = haa * hbb - hab * hab;
            if (!(det > 1e-300)) break;
            da = -(hbb * ga - hab * gb) / det;
            db = -(haa * gb - hab * ga) / det;
        } else {
            if (!(haa > 1e-300)) break;
            da = -ga / haa;
        }
        /* backtracking: halve the step until the loss does not increase */
        double t = 1, Ln = L;
        for (int k = 0; k < 60; k++) {
            Ln = nll(x, y, n, A + t * da, B + t * db);
            if (Ln <= L) break;
            t *= 0.5;
        }
        if (!(Ln <= L)) break;
        A += t * da;
        B += t * db;
        double step = fabs(t * da) + fabs(t * db);
        L = Ln;
        if (step < 1e-12 * (1 + fabs(A) + fabs(B)) || (fabs(ga) + fabs(gb)) < 1e-12 * n) converged = 1;
        if (fabs(A) > 1e6 || fabs(B) > 1e6) break;
    }
    free(x);
    if (!converged || !isfinite(A) || !isfinite(B) || fabs(A) > 1e4)
        return sialo_fail("the calibration does not converge: the predictions separate the classes (almost) perfectly, "
                          "so the maximum-likelihood fit has no finite solution");
    if (!(A > 0))
        return sialo_fail("the fitted slope a = %.4g is not positive: the predictions rank malignant frames below benign ones, "
                          "so they cannot be calibrated monotonically", A);
    *a = A;
    *b = platt ? B : 0;
    return 0;
}

double sialo_brier(const double *p, const int *y, int n) {
    if (n <= 0) return NAN;
    double s = 0;
    for (int i = 0; i < n; i++) s += (p[i] - y[i]) * (p[i] - y[i]);
    return s / n;
}

double sialo_ece(const double *p, const int *y, int n) {
    if (n <= 0) return NAN;
    double sp[SIALO_ECE_BINS] = {0}, sy[SIALO_ECE_BINS] = {0};
    int cnt[SIALO_ECE_BINS] = {0};
    for (int i = 0; i < n; i++) {
        int k = (int)floor(p[i] * SIALO_ECE_BINS);
        if (k < 0) k = 0;
        if (k > SIALO_ECE_BINS - 1) k = SIALO_ECE_BINS - 1;
        sp[k] += p[i]; sy[k] += y[i]; cnt[k]++;
    }
    double e = 0;
    for (int k = 0; k < SIALO_ECE_BINS; k++)
        if (cnt[k]) e += (double)cnt[k] / n * fabs(sy[k] / cnt[k] - sp[k] / cnt[k]);
    return e;
}

double sialo_log_loss(const double *p, const int *y, int n) {
    if (n <= 0) return NAN;
    double s = 0;
    for (int i = 0; i < n; i++) { double q = clampp(p[i]); s -= y[i] ? log(q) : log(1 - q); }
    return s / n;
}

int sialo_calib_set(sialo_graph *g, double a, double b, const char *how) {
    if (g->n_classes != 1) return sialo_fail("only binary (sigmoid) models can be calibrated; this one has %d outputs", g->n_classes);
    if (!(a > 0 && a <= 1e4 && b >= -1e4 && b <= 1e4)) return sialo_fail("calibration a = %g, b = %g is out of range", a, b);
    double raw = sialo_calib_invert(g->calib_a, g->calib_b, g->threshold);
    g->threshold = (float)sialo_calib_apply((float)a, (float)b, raw);
    g->calib_a = (float)a;
    g->calib_b = (float)b;
    const char *old = g->provenance ? g->provenance : "";
    const char *cut = strstr(old, " | calibration: ");
    size_t keep = cut ? (size_t)(cut - old) : strlen(old);
    size_t len = keep + strlen(how) + 96;
    char *s = malloc(len);
    if (!s) return sialo_fail("out of memory");
    snprintf(s, len, "%.*s | calibration: %s; threshold %.4f on p_raw = %.4f on the calibrated p", (int)keep, old, how, raw, g->threshold);
    int rc = sialo_graph_set_text(&g->provenance, s);
    free(s);
    return rc;
}

void sialo_calib_describe(char *buf, size_t size, sialo_calib_method method, double a, double b, const char *source) {
    if (method == SIALO_CALIB_PLATT)
        snprintf(buf, size, "Platt scaling, p = sigmoid(a logit(p_raw) + b), a = %.4f, b = %.4f, fitted by maximum likelihood on %s",
                 (float)a, (float)b, source);
    else
        snprintf(buf, size, "temperature scaling, p = sigmoid(logit(p_raw) / T), T = %.4f (a = %.4f, b = 0), fitted by maximum likelihood "
                 "on %s", 1.0 / (float)a, (float)a, source);
}
