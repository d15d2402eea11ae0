/* perf_demo.h - the demo's results, shared by its runner and its printer. */
#ifndef PERF_DEMO_H
#define PERF_DEMO_H

#include "perf_opts.h"
#include "perf_stats.h"

enum perf_phase { PERF_RTT, PERF_TPUT, PERF_RATE, PERF_NPHASE };

/* One figure of the table, summed over the rounds. */
struct perf_cell {
	struct perf_samples samples;	  /* round trips (PERF_RTT) */
	uint64_t rpcs, bytes, ns, cpu_ns; /* measured: RPCs, request bytes, time, CPU */
	int failed;
	int empty;   /* rounds that completed nothing (and reported no error) */
	double a, b; /* rtt: P50, P99 (us); tput: Gbit/s; rate: kops, CPU us/RPC */
};

struct perf_demo_result {
	struct perf_cell cells[PERF_NPHASE][PERF_NPROTO];
	int rounds;	/* per throughput and rate figure */
	int rtt_rounds; /* per round-trip figure */
	int poll;
	char homa_err[200]; /* first Homa failure, JSON-safe; "" if none */
};

/* 1 when the cell has a figure (something completed and nothing failed). */
int perf_cell_ok(const struct perf_cell *c);

/* Computes a and b of every cell from the sums. */
void perf_demo_finish(struct perf_demo_result *d);

void perf_demo_print_table(const struct perf_demo_result *d);
void perf_demo_print_json(const struct perf_demo_result *d);

#endif
