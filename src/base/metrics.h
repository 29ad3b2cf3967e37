/* metrics.h — binary classification figures (malignant = positive). */
#ifndef SIALO_METRICS_H
#define SIALO_METRICS_H

typedef struct {
    int n, tp, fp, tn, fn;
    double accuracy, sensitivity, specificity, ppv, npv, auc;
} sialo_metrics;

/* p: scores, y: 1 = positive; threshold: predicted positive when p >= threshold.
   Undefined ratios (0/0) are NaN. AUC by the Mann-Whitney statistic (ties count 1/2). */
void sialo_metrics_compute(const float *p, const int *y, int n, float threshold, sialo_metrics *out);

/* 95% confidence interval of the AUC (DeLong); NaN when a class has fewer than 2 cases */
void sialo_auc_ci95(const float *p, const int *y, int n, double *lo, double *hi);
/* 95% Wilson interval of a proportion k/n */
void sialo_wilson_ci95(int k, int n, double *lo, double *hi);

#endif
