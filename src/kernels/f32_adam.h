/* f32_adam.h — the AdamW update, vectorised: for each of n values
 *   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
 *   w -= lr (m c1 / (sqrt(v c2) + eps) + decay w)      (c1, c2: the inverse bias corrections
 *                                                      1 / (1 - b1^t), 1 / (1 - b2^t))
 * in single precision. f32_adamw_ref: the same in double precision, one value at a time. */
#ifndef SIALO_F32_ADAM_H
#define SIALO_F32_ADAM_H

#include <stddef.h>

typedef struct { float lr, b1, b2, c1, c2, eps, decay; } f32_adam_params;

void f32_adamw(float *w, const float *g, float *m, float *v, size_t n, const f32_adam_params *p);
void f32_adamw_ref(float *w, const float *g, float *m, float *v, size_t n, const f32_adam_params *p);

#endif
