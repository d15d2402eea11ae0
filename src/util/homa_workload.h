/*
 * homa_workload.h - message-size distributions (data/workloads, the W1-W5 of
 * the Homa papers) and small statistics helpers shared by homa-sim and
 * homa-perf. Not part of the core: this reads files.
 */
#ifndef HOMA_WORKLOAD_H
#define HOMA_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

struct homa_workload {
	char name[32];	   /* "w1".."w5", "starve", or the fixed length as text */
	uint32_t n;	   /* points in the distribution */
	uint32_t *lengths; /* ascending */
	double *cum;	   /* cum[i] = fraction of messages <= lengths[i] */
	double mean;	   /* mean message length in bytes */
};

/*
 * Loads a workload by name: "w1".."w5" or "starve" read <dir>/<name>_capped.csv
 * (dir NULL: the project's data/workloads, or $HOMA_WORKLOAD_DIR); a decimal
 * number (1..1000000) is a fixed length. Returns 0, or -1 with a message in
 * err[0..errlen).
 */
int homa_workload_load(struct homa_workload *w, const char *spec, const char *dir,
		       char *err, size_t errlen);
void homa_workload_free(struct homa_workload *w);

/* Draws a length: u uniform in [0, 1); the first point with cum >= u. */
uint32_t homa_workload_sample(const struct homa_workload *w, double u);

/* Fraction of messages (by count) whose length is <= len. */
double homa_workload_cdf(const struct homa_workload *w, uint32_t len);

/* splitmix64: a tiny seeded generator for reproducible draws. */
struct homa_rng {
	uint64_t state;
};
void homa_rng_seed(struct homa_rng *r, uint64_t seed);
uint64_t homa_rng_next(struct homa_rng *r);
double homa_rng_uniform(struct homa_rng *r); /* [0, 1) */
double homa_rng_exponential(struct homa_rng *r, double mean);

/*
 * Percentile p (0..100) of values[0..n) by nearest rank; sorts values in
 * place. Returns 0 for n == 0.
 */
double homa_percentile(double *values, size_t n, double p);

#endif
