/* perf_stats.c - sample storage and percentile summaries. */
#define _GNU_SOURCE
#include "perf_stats.h"

#include "homa_workload.h"

#include <stdio.h>
#include <stdlib.h>

/* Decades of message length, as the Homa papers group their workloads. */
const uint32_t perf_bucket_max[PERF_NBUCKETS] = {100, 1000, 10000, 100000, 1000000};

void perf_samples_init(struct perf_samples *s, size_t max)
{
	s->len = NULL;
	s->rtt = NULL;
	s->n = s->cap = 0;
	s->max = max;
	s->dropped = 0;
}

void perf_samples_free(struct perf_samples *s)
{
	free(s->len);
	free(s->rtt);
	perf_samples_init(s, s->max);
}

static int grow(struct perf_samples *s)
{
	size_t ncap = s->cap ? s->cap * 2 : 65536;
	uint32_t *l;
	uint64_t *r;

	if (ncap > s->max)
		ncap = s->max;
	l = realloc(s->len, ncap * sizeof(*l));
	if (!l)
		return -1;
	s->len = l;
	r = realloc(s->rtt, ncap * sizeof(*r));
	if (!r)
		return -1;
	s->rtt = r;
	s->cap = ncap;
	return 0;
}

void perf_samples_add(struct perf_samples *s, uint32_t len, uint64_t rtt_ns)
{
	if (s->n == s->cap && (s->n >= s->max || grow(s) != 0)) {
		s->dropped++;
		return;
	}
	s->len[s->n] = len;
	s->rtt[s->n] = rtt_ns;
	s->n++;
}

int perf_samples_write(const struct perf_samples *s, const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	for (size_t i = 0; i < s->n; i++)
		fprintf(f, "%u %llu\n", s->len[i], (unsigned long long)s->rtt[i]);
	return fclose(f);
}

static void summarize(double *v, size_t n, struct perf_pct *out)
{
	double sum = 0;

	out->count = n;
	if (n == 0)
		return;
	for (size_t i = 0; i < n; i++)
		sum += v[i];
	out->mean = sum / (double)n;
	out->p50 = homa_percentile(v, n, 50.0); /* sorts v */
	out->p99 = homa_percentile(v, n, 99.0);
	out->p999 = homa_percentile(v, n, 99.9);
	out->min = v[0];
	out->max = v[n - 1];
}

void perf_pct_compute(const struct perf_samples *s, uint32_t lo, uint32_t hi,
		      struct perf_pct *out)
{
	double *v = malloc((s->n ? s->n : 1) * sizeof(*v));
	size_t n = 0;

	*out = (struct perf_pct){0};
	if (!v)
		return;
	for (size_t i = 0; i < s->n; i++)
		if (s->len[i] > lo && s->len[i] <= hi)
			v[n++] = (double)s->rtt[i];
	summarize(v, n, out);
	free(v);
}
