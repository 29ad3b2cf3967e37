/* metrics.c — confusion matrix, accuracy / sensitivity / specificity / PPV / NPV, ROC AUC. */
#include "base/metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static double ratio(int a, int b) { return b ? (double)a / b : NAN; }

typedef struct { float p; int y; } scored;
static int by_score(const void *a, const void *b) {
    float x = ((const scored *)a)->p, z = ((const scored *)b)->p;
    return (x > z) - (x < z);
}

void sialo_metrics_compute(const float *p, const int *y, int n, float threshold, sialo_metrics *out) {
    memset(out, 0, sizeof *out);
    out->n = n;
    for (int i = 0; i < n; i++) {
        int pred = p[i] >= threshold;
        if (y[i]) { if (pred) out->tp++; else out->fn++; }
        else { if (pred) out->fp++; else out->tn++; }
    }
    out->accuracy = ratio(out->tp + out->tn, n);
    out->sensitivity = ratio(out->tp, out->tp + out->fn);
    out->specificity = ratio(out->tn, out->tn + out->fp);
    out->ppv = ratio(out->tp, out->tp + out->fp);
    out->npv = ratio(out->tn, out->tn + out->fn);
    /* AUC: rank-sum over sorted scores, average ranks for ties */
    int npos = out->tp + out->fn, nneg = out->tn + out->fp;
    out->auc = NAN;
    if (!npos || !nneg) return;
    scored *s = malloc((size_t)n * sizeof *s);
    if (!s) return;
    for (int i = 0; i < n; i++) { s[i].p = p[i]; s[i].y = y[i] != 0; }
    qsort(s, (size_t)n, sizeof *s, by_score);
    double rank_sum = 0;
    for (int i = 0; i < n;) {
        int j = i;
        while (j < n && s[j].p == s[i].p) j++;
        double avg = (i + 1 + j) / 2.0; /* ranks i+1 .. j */
        for (int k = i; k < j; k++) if (s[k].y) rank_sum += avg;
        i = j;
    }
    out->auc = (rank_sum - (double)npos * (npos + 1) / 2.0) / ((double)npos * nneg);
    free(s);
}

/* DeLong et al. (1988): the AUC's variance from the structural components of the Mann-Whitney
   statistic; 95% interval AUC +- 1.96 sd, clipped to [0, 1]. O(n_pos * n_neg). */
void sialo_auc_ci95(const float *p, const int *y, int n, double *lo, double *hi) {
    *lo = *hi = NAN;
    int npos = 0, nneg = 0;
    for (int i = 0; i < n; i++) { if (y[i]) npos++; else nneg++; }
    if (npos < 2 || nneg < 2) return;
    double *v10 = calloc((size_t)npos, sizeof *v10), *v01 = calloc((size_t)nneg, sizeof *v01);
    if (!v10 || !v01) { free(v10); free(v01); return; }
    int a = 0;
    double auc = 0;
    for (int i = 0; i < n; i++) {
        if (!y[i]) continue;
        int b = 0;
        for (int j = 0; j < n; j++) {
            if (y[j]) continue;
            double psi = p[i] > p[j] ? 1.0 : p[i] == p[j] ? 0.5 : 0.0;
            v10[a] += psi;
            v01[b] += psi;
            b++;
        }
        a++;
    }
    for (int i = 0; i < npos; i++) { v10[i] /= nneg; auc += v10[i]; }
    auc /= npos;
    for (int j = 0; j < nneg; j++) v01[j] /= npos;
    double s10 = 0, s01 = 0;
    for (int i = 0; i < npos; i++) s10 += (v10[i] - auc) * (v10[i] - auc);
    for (int j = 0; j < nneg; j++) s01 += (v01[j] - auc) * (v01[j] - auc);
    s10 /= npos - 1;
    s01 /= nneg - 1;
    double sd = sqrt(s10 / npos + s01 / nneg);
    *lo = fmax(0.0, auc - 1.959964 * sd);
    *hi = fmin(1.0, auc + 1.959964 * sd);
    free(v10);
    free(v01);
}

/* Wilson score interval for k successes out of n */
void sialo_wilson_ci95(int k, int n, double *lo, double *hi) {
    if (n <= 0) { *lo = *hi = NAN; return; }
    double z = 1.959964, ph = (double)k / n, d = 1 + z * z / n;
    double c = (ph + z * z / (2.0 * n)) / d, h = z * sqrt(ph * (1 - ph) / n + z * z / (4.0 * n * n)) / d;
    *lo = fmax(0.0, c - h);
    *hi = fmin(1.0, c + h);
}
