/*
 * Peak fp32 FMA throughput in C, to validate the Java measurement (PeakFlops.fma) against what the
 * hardware really delivers. Each thread keeps ACC independent 512-bit accumulators in registers
 * (enough to cover FMA latency × throughput on any current x86 core) and runs acc = acc*m + c on them;
 * built with -O3 -march=native -ffp-contract=fast, the body is vfmadd on zmm registers only, no memory
 * traffic at all.
 *
 *   gcc -O3 -march=native -ffp-contract=fast -pthread peak_fma.c -o peak_fma && ./peak_fma 1 2
 *
 * Prints one line per thread count: "threads=T gflops=G".
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef float v16 __attribute__((vector_size(64)));

#define ACC 12
#define ITERS 20000000L

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void *work(void *arg) {
    float *out = arg;
    v16 acc[ACC];
    v16 m, c;
    for (int l = 0; l < 16; l++) {
        m[l] = 0.999f;
        c[l] = 0.001f;
    }
    for (int a = 0; a < ACC; a++)
        for (int l = 0; l < 16; l++) acc[a][l] = (float)(a + l) * 0.01f;
    for (long i = 0; i < ITERS; i++) {
        /* The compiler cannot see through the asm, so it keeps every multiply-add of every iteration. */
        __asm__ volatile("" : "+v"(m));
        for (int a = 0; a < ACC; a++) acc[a] = acc[a] * m + c;
    }
    v16 s = acc[0];
    for (int a = 1; a < ACC; a++) s += acc[a];
    float t = 0;
    for (int l = 0; l < 16; l++) t += s[l];
    *out = t;
    return NULL;
}

int main(int argc, char **argv) {
    for (int k = 1; k < argc; k++) {
        int threads = atoi(argv[k]);
        if (threads < 1 || threads > 256) {
            fprintf(stderr, "peak_fma: thread count must be 1..256, got %s\n", argv[k]);
            return 2;
        }
        double best = 0;
        for (int rep = 0; rep < 5; rep++) {
            pthread_t th[256];
            float out[256];
            double t0 = now();
            for (int t = 0; t < threads; t++) pthread_create(&th[t], NULL, work, &out[t]);
            for (int t = 0; t < threads; t++) pthread_join(th[t], NULL);
            double dt = now() - t0;
            double g = 2.0 * 16 * ACC * ITERS * threads / dt / 1e9;
            if (g > best) best = g;
            if (out[0] == 12345.f) printf("-");
        }
        printf("threads=%d gflops=%.1f\n", threads, best);
    }
    return 0;
}
