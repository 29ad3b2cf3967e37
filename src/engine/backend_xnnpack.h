/* backend_xnnpack.h — convolution and fully connected layers through Debian's libXNNPACK
 * (native builds with SIALO_WITH_XNNPACK only; elsewhere every call reports "not available"). */
#ifndef SIALO_BACKEND_XNNPACK_H
#define SIALO_BACKEND_XNNPACK_H

#include "ops/ops.h"

typedef struct sialo_xnn_op sialo_xnn_op;

int sialo_xnn_available(void); /* 1 if compiled in and xnn_initialize succeeded */
/* conv: w in our layout [KH,KW,Cin/G,Cout]; an op for a fixed batch and input size */
sialo_xnn_op *sialo_xnn_conv_create(const conv_params *p, const float *w, const float *b, shape4 xs);
/* dense: w [Cin,Cout] */
sialo_xnn_op *sialo_xnn_dense_create(int cin, int cout, const float *w, const float *b, int act, int batch);
int sialo_xnn_run(sialo_xnn_op *op, const float *x, float *y, int threads);
void sialo_xnn_free(sialo_xnn_op *op);

#endif
