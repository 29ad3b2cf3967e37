/* threadpool.c — see threadpool.h. Workers sleep on a condition variable between jobs. */
#include "threadpool.h"
#include "sialoscan.h"

#include <stdlib.h>
#if defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__)
#define SIALO_NO_THREADS 1
#else
#include <pthread.h>
#include <unistd.h>
#endif

int sialo_cpu_count(void) {
#ifdef SIALO_NO_THREADS
    return 1;
#elif defined(__EMSCRIPTEN__)
    extern int emscripten_num_logical_cores(void);
    return emscripten_num_logical_cores();
#else
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 64 ? 64 : (int)n;
#endif
}

#ifdef SIALO_NO_THREADS
struct sialo_pool { int n; };
sialo_pool *sialo_pool_new(int threads) {
    (void)threads;
    sialo_pool *p = malloc(sizeof *p);
    if (p) p->n = 1;
    return p;
}
int sialo_pool_size(const sialo_pool *p) { return p->n; }
void sialo_pool_run(sialo_pool *p, sialo_task fn, void *ctx) { (void)p; fn(ctx, 0, 1); }
void sialo_pool_free(sialo_pool *p) { free(p); }
#else
struct sialo_pool {
    int n;                 /* parts, including the caller */
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    sialo_task fn;
    void *ctx;
    long generation;
    int pending, quit;
};

typedef struct { sialo_pool *p; int part; } worker_arg;

static void *worker(void *arg) {
    worker_arg *wa = arg;
    sialo_pool *p = wa->p;
    int part = wa->part;
    free(wa);
    long seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->generation == seen && !p->quit) pthread_cond_wait(&p->go, &p->mu);
        if (p->quit) break;
        seen = p->generation;
        sialo_task fn = p->fn;
        void *ctx = p->ctx;
        pthread_mutex_unlock(&p->mu);
        fn(ctx, part, p->n);
        pthread_mutex_lock(&p->mu);
        if (--p->pending == 0) pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

sialo_pool *sialo_pool_new(int threads) {
    if (threads <= 0) threads = sialo_cpu_count();
    if (threads > 64) threads = 64;
    sialo_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->n = threads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->go, NULL);
    pthread_cond_init(&p->done, NULL);
    p->threads = calloc((size_t)threads, sizeof *p->threads);
    if (!p->threads) { free(p); return NULL; }
    for (int i = 1; i < threads; i++) {
        worker_arg *wa = malloc(sizeof *wa);
        if (!wa || (wa->p = p, wa->part = i, pthread_create(&p->threads[i], NULL, worker, wa)) != 0) {
            free(wa);
            p->n = i; /* keep the workers we have */
            break;
        }
    }
    return p;
}

int sialo_pool_size(const sialo_pool *p) { return p->n; }

void sialo_pool_run(sialo_pool *p, sialo_task fn, void *ctx) {
    if (p->n == 1) { fn(ctx, 0, 1); return; }
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->ctx = ctx;
    p->pending = p->n - 1;
    p->generation++;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    fn(ctx, 0, p->n);
    pthread_mutex_lock(&p->mu);
    while (p->pending > 0) pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

void sialo_pool_free(sialo_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->n; i++) pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->go);
    pthread_cond_destroy(&p->done);
    free(p->threads);
    free(p);
}
#endif
