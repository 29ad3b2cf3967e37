/* threadpool.h — a tiny fork-join pool: run fn(ctx, part, nparts) once for each part = 0..nparts-1
 * (nparts = the pool's size), the caller taking parts too; which thread runs which part is not
 * fixed (a part may only depend on its index). Native and Emscripten: pthreads. A build without
 * threads (plain WASM) runs serially. */
#ifndef SIALO_THREADPOOL_H
#define SIALO_THREADPOOL_H

typedef struct sialo_pool sialo_pool;
typedef void (*sialo_task)(void *ctx, int part, int nparts);

sialo_pool *sialo_pool_new(int threads); /* threads <= 0: one per core; NULL on failure */
int sialo_pool_size(const sialo_pool *p);
void sialo_pool_run(sialo_pool *p, sialo_task fn, void *ctx);
void sialo_pool_free(sialo_pool *p);
int sialo_cpu_count(void);

#endif
