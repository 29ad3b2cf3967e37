/* calibration.h — Platt scaling of p(malignant): p_cal = sigmoid(a * logit(p_raw) + b).
 * Temperature scaling is the case b = 0 (a = 1/T); a = 1, b = 0 is the identity. Fitted by
 * maximum likelihood (Newton's method on the log loss) on out-of-fold raw probabilities; applied by
 * the engine to every probability it reports (classify.c). Also the calibration figures of eval
 * and calibrate: Brier score, expected calibration error, log loss. */
#ifndef SIALO_CALIBRATION_H
#define SIALO_CALIBRATION_H

#include <stddef.h>

/* raw probabilities are clamped to [EPS, 1 - EPS] before the logit (so 0 and 1 stay finite) */
#define SIALO_CALIB_EPS 1e-7
#define SIALO_CALIB_MIN_ROWS 20
#define SIALO_ECE_BINS 10

typedef enum { SIALO_CALIB_PLATT = 0, SIALO_CALIB_TEMPERATURE = 1 } sialo_calib_method;

/* sigmoid(a * logit(clamp(p)) + b); exactly p when a = 1 and b = 0 */
double sialo_calib_apply(double a, double b, double p);
/* the inverse: the raw probability whose calibrated value is q (a > 0) */
double sialo_calib_invert(double a, double b, double q);
/* Maximum-likelihood fit on n raw probabilities p (in [0,1]) with labels y (1 = malignant).
 * Refuses (-1, reason set) fewer than SIALO_CALIB_MIN_ROWS rows, a single class, p outside [0,1],
 * no convergence (e.g. classes separated perfectly) and a slope a <= 0. */
int sialo_calib_fit(const double *p, const int *y, int n, sialo_calib_method method, double *a, double *b);
/* mean squared error of p against y */
double sialo_brier(const double *p, const int *y, int n);
/* expected calibration error: SIALO_ECE_BINS equal-width bins of p (bin k = [k/10, (k+1)/10),
 * the last one closed), sum over bins of (n_bin / n) * |fraction malignant - mean p| */
double sialo_ece(const double *p, const int *y, int n);
/* mean negative log-likelihood (p clamped as above) */
double sialo_log_loss(const double *p, const int *y, int n);

/* The provenance sentence of a fit: "<method>, <formula>, <parameters>, fitted by maximum
 * likelihood on <source>" (source e.g. "the 502 pooled out-of-fold predictions by sialoscan train"). */
void sialo_calib_describe(char *buf, size_t size, sialo_calib_method method, double a, double b, const char *source);

struct sialo_graph;
/* Give a binary graph the calibration (a, b): its threshold is carried into the new calibrated
 * scale (first back to the raw scale through the old calibration, if any: a monotone map, so the
 * operating point is unchanged up to float rounding), and its provenance text gets one sentence
 * "| calibration: ..." (replacing an earlier one) built from `how`. Returns 0 or -1. */
int sialo_calib_set(struct sialo_graph *g, double a, double b, const char *how);

#endif
