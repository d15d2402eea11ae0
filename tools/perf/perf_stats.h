/*
 * perf_stats.h - completed-RPC samples and their percentiles.
 *
 * Every completed RPC is kept (length, round-trip time) so that percentiles
 * are exact and --samples can hand the raw data to the cluster tool. The
 * store is bounded: past `max` samples, further ones are only counted.
 */
#ifndef PERF_STATS_H
#define PERF_STATS_H

#include <stddef.h>
#include <stdint.h>

struct perf_samples {
	uint32_t *len;	  /* drawn request length */
	uint64_t *rtt;	  /* round-trip time, ns */
	size_t n;	  /* samples stored */
	size_t cap;	  /* allocated */
	size_t max;	  /* bound on n */
	uint64_t dropped; /* samples past max, or lost to allocation failure */
};

void perf_samples_init(struct perf_samples *s, size_t max);
void perf_samples_free(struct perf_samples *s);
void perf_samples_add(struct perf_samples *s, uint32_t len, uint64_t rtt_ns);

/* Writes "length rtt_ns" lines to path; returns 0 or -1 (errno set). */
int perf_samples_write(const struct perf_samples *s, const char *path);

/* Round-trip statistics of a set of samples, in nanoseconds. */
struct perf_pct {
	size_t count;
	double min, p50, p99, p999, max, mean;
};

/* Statistics over samples with lo < length <= hi. */
void perf_pct_compute(const struct perf_samples *s, uint32_t lo, uint32_t hi,
		      struct perf_pct *out);

/* Size buckets reported by the client: upper bounds, in bytes. */
#define PERF_NBUCKETS 5
extern const uint32_t perf_bucket_max[PERF_NBUCKETS];

#endif
