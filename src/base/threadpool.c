/* threadpool.c — see threadpool.h. Workers sleep on a condition variable between jobs. */
#include "base/threadpool.h"
#include "sialoscan.h"

#include <stdlib.h>
#if defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__)
#define SIALO_NO_THREADS 1
#else
#include <pthread.h>
#include <stdatomic.h>
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
/* A job is announced by bumping `generation`; workers spin on it for a short while before
 * sleeping on the condition variable (a layer of a small network takes microseconds: waking a
 * sleeping thread would cost more than the work). The parts are not bound to threads: every
 * thread, the caller included, claims the next unclaimed part from `next` until none is left, and
 * `remaining` counts the parts not yet finished. A worker that the OS has not scheduled (a machine
 * busy with other work) thus never holds the caller up: the caller runs the parts itself. Each part
 * runs exactly once with its own index, so the results do not depend on which thread ran it. */
struct sialo_pool {
    int n;                 /* parts, and threads including the caller */
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    sialo_task fn;
    void *ctx;
    _Atomic long generation;
    _Atomic int next;      /* the next part to claim (>= n: none left) */
    _Atomic int remaining; /* parts claimed or not, still to finish */
    _Atomic int sleepers;
    int quit;
};

#define SPIN_ITERS 20000
#if defined(__x86_64__) || defined(__i386__)
#define cpu_relax() __builtin_ia32_pause()
#else
#define cpu_relax() ((void)0)
#endif

/* claim and run parts of the current job until none is left. fn and ctx are read only after a
 * successful claim: the claim's acquire pairs with the release that published the job. */
static void run_parts(sialo_pool *p) {
    int k;
    while ((k = atomic_fetch_add_explicit(&p->next, 1, memory_order_acq_rel)) < p->n) {
        p->fn(p->ctx, k, p->n);
        if (atomic_fetch_sub_explicit(&p->remaining, 1, memory_order_acq_rel) == 1) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->mu);
        }
    }
}

static void *worker(void *arg) {
    sialo_pool *p = arg;
    long seen = 0;
    for (;;) {
        long g;
        int spins = 0;
        while ((g = atomic_load_explicit(&p->generation, memory_order_acquire)) == seen && spins < SPIN_ITERS) { spins++; cpu_relax(); }
        if (g == seen) {
            pthread_mutex_lock(&p->mu);
            atomic_fetch_add(&p->sleepers, 1);
            while ((g = atomic_load(&p->generation)) == seen && !p->quit) pthread_cond_wait(&p->go, &p->mu);
            atomic_fetch_sub(&p->sleepers, 1);
            int quit = p->quit;
            pthread_mutex_unlock(&p->mu);
            if (quit) return NULL;
        }
        if (g < 0) return NULL; /* quit */
        seen = g;
        run_parts(p);
    }
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
    atomic_init(&p->generation, 0);
    atomic_init(&p->next, 0);
    atomic_init(&p->remaining, 0);
    atomic_init(&p->sleepers, 0);
    p->threads = calloc((size_t)threads, sizeof *p->threads);
    if (!p->threads) { free(p); return NULL; }
    for (int i = 1; i < threads; i++) {
        if (pthread_create(&p->threads[i], NULL, worker, p) != 0) {
            p->n = i; /* keep the workers we have */
            break;
        }
    }
    return p;
}

int sialo_pool_size(const sialo_pool *p) { return p->n; }

void sialo_pool_run(sialo_pool *p, sialo_task fn, void *ctx) {
    if (p->n == 1) { fn(ctx, 0, 1); return; }
    p->fn = fn;
    p->ctx = ctx;
    atomic_store_explicit(&p->remaining, p->n, memory_order_relaxed);
    atomic_store_explicit(&p->next, 0, memory_order_release); /* publishes fn, ctx, remaining */
    atomic_fetch_add_explicit(&p->generation, 1, memory_order_release);
    if (atomic_load(&p->sleepers) > 0) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->go);
        pthread_mutex_unlock(&p->mu);
    }
    run_parts(p);
    int spins = 0;
    while (atomic_load_explicit(&p->remaining, memory_order_acquire) > 0 && spins < SPIN_ITERS) { spins++; cpu_relax(); }
    if (atomic_load_explicit(&p->remaining, memory_order_acquire) > 0) {
        pthread_mutex_lock(&p->mu);
        while (atomic_load(&p->remaining) > 0) pthread_cond_wait(&p->done, &p->mu);
        pthread_mutex_unlock(&p->mu);
    }
}

void sialo_pool_free(sialo_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    atomic_store(&p->generation, -1);
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
