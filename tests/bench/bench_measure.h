/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The micro benchmarks' loop (bench_crypto, bench_hs): ns per call of a
 * function on the benchmark's own struct bench, the best of BENCH_REPEATS
 * runs that together take about BENCH_ROW_SECONDS of this thread's CPU time.
 * Thread CPU time, because the machine is shared: time spent preempted by
 * other work is not counted, and the minimum is the least disturbed run.
 * struct bench stays incomplete here: each benchmark defines its own.
 */
#ifndef BENCH_MEASURE_H
#define BENCH_MEASURE_H

#include <time.h>

#define BENCH_ROW_SECONDS 0.3
#define BENCH_REPEATS	  5

struct bench;
typedef void (*bench_fn)(struct bench *b);

static inline double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* calibrate_n: calls of the first, sizing run (and the least of every run). */
static inline double bench_measure(struct bench *b, bench_fn fn, unsigned long calibrate_n)
{
	unsigned long i, n = calibrate_n;
	double t0, t, best = 0;
	int rep;

	t0 = bench_now();
	for (i = 0; i < n; i++)
		fn(b);
	t = bench_now() - t0;
	n = (unsigned long)(BENCH_ROW_SECONDS / BENCH_REPEATS / (t / (double)n));
	if (n < calibrate_n)
		n = calibrate_n;
	for (rep = 0; rep < BENCH_REPEATS; rep++) {
		t0 = bench_now();
		for (i = 0; i < n; i++)
			fn(b);
		t = (bench_now() - t0) / (double)n * 1e9;
		if (rep == 0 || t < best)
			best = t;
	}
	return best;
}

#endif /* BENCH_MEASURE_H */
