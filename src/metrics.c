/* metrics.c — confusion matrix, accuracy / sensitivity / specificity / PPV / NPV, ROC AUC. */
#include "metrics.h"

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
