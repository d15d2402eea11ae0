/*
 * homa_workload.c - loading and sampling the message-size distributions.
 *
 * The CSV format is the one of shared/workloads: '#' comment lines, a header
 * "length,cum_fraction", then rows of a non-decreasing CDF. Sampling takes the
 * first row whose cumulative fraction reaches u (no interpolation), as the
 * reference benchmark does.
 */
#define _GNU_SOURCE
#include "homa_workload.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef HOMA_DATA_DIR
#define HOMA_DATA_DIR "data/workloads"
#endif

static int fail(char *err, size_t errlen, const char *fmt, const char *arg)
{
	if (err && errlen)
		snprintf(err, errlen, fmt, arg);
	return -1;
}

static int load_fixed(struct homa_workload *w, const char *spec, char *err, size_t errlen)
{
	char *end;
	unsigned long len;

	errno = 0;
	len = strtoul(spec, &end, 10);
	if (errno || *end || len == 0 || len > 1000000)
		return fail(err, errlen,
			    "workload '%s': not w1..w5, starve, or a length 1..1000000",
			    spec);
	w->lengths = malloc(sizeof(*w->lengths));
	w->cum = malloc(sizeof(*w->cum));
	if (!w->lengths || !w->cum) {
		homa_workload_free(w);
		return fail(err, errlen, "workload '%s': out of memory", spec);
	}
	w->n = 1;
	w->lengths[0] = (uint32_t)len;
	w->cum[0] = 1.0;
	w->mean = (double)len;
	snprintf(w->name, sizeof(w->name), "%lu", len);
	return 0;
}

static int add_point(struct homa_workload *w, uint32_t *cap, uint32_t len, double cum)
{
	if (w->n == *cap) {
		uint32_t ncap = *cap ? *cap * 2 : 64;
		uint32_t *l = realloc(w->lengths, ncap * sizeof(*l));
		double *c;

		if (!l)
			return -1;
		w->lengths = l;
		c = realloc(w->cum, ncap * sizeof(*c));
		if (!c)
			return -1;
		w->cum = c;
		*cap = ncap;
	}
	w->lengths[w->n] = len;
	w->cum[w->n] = cum;
	w->n++;
	return 0;
}

static void compute_mean(struct homa_workload *w)
{
	double prev = 0, sum = 0;

	for (uint32_t i = 0; i < w->n; i++) {
		sum += (w->cum[i] - prev) * w->lengths[i];
		prev = w->cum[i];
	}
	w->mean = sum;
}

static int parse_csv(struct homa_workload *w, FILE *f, const char *path, char *err,
		     size_t errlen)
{
	char *line = NULL;
	size_t linecap = 0;
	uint32_t cap = 0;
	int ret = 0;

	while (ret == 0 && getline(&line, &linecap, f) > 0) {
		unsigned long len;
		double cum;

		if (line[0] == '#' || line[0] == '\n' || strncmp(line, "length", 6) == 0)
			continue;
		if (sscanf(line, "%lu,%lf", &len, &cum) != 2 || len > 1000000 ||
		    cum < 0 || cum > 1.0000001 ||
		    (w->n && (len < w->lengths[w->n - 1] || cum < w->cum[w->n - 1])))
			ret = fail(err, errlen, "%s: malformed row", path);
		else if (len != 0 && add_point(w, &cap, (uint32_t)len, cum) < 0)
			ret = fail(err, errlen, "%s: out of memory", path);
		/* len 0 is the origin row 0,0 of the capped files: skipped */
	}
	free(line);
	if (ret < 0)
		return ret;
	if (w->n == 0)
		return fail(err, errlen, "%s: no rows", path);
	w->cum[w->n - 1] = 1.0;
	compute_mean(w);
	return 0;
}

int homa_workload_load(struct homa_workload *w, const char *spec, const char *dir,
		       char *err, size_t errlen)
{
	char path[4096];
	FILE *f;
	int ret;

	memset(w, 0, sizeof(*w));
	if (!spec || !*spec)
		return fail(err, errlen, "empty workload name%s", "");
	if (spec[0] >= '0' && spec[0] <= '9')
		return load_fixed(w, spec, err, errlen);
	if (strlen(spec) >= sizeof(w->name) || strchr(spec, '/'))
		return fail(err, errlen, "workload '%s': bad name", spec);
	if (!dir)
		dir = getenv("HOMA_WORKLOAD_DIR");
	if (!dir)
		dir = HOMA_DATA_DIR;
	snprintf(path, sizeof(path), "%s/%s_capped.csv", dir, spec);
	f = fopen(path, "r");
	if (!f)
		return fail(err, errlen, "cannot open workload file %s", path);
	ret = parse_csv(w, f, path, err, errlen);
	fclose(f);
	if (ret < 0) {
		homa_workload_free(w);
		return ret;
	}
	snprintf(w->name, sizeof(w->name), "%s", spec);
	return 0;
}

void homa_workload_free(struct homa_workload *w)
{
	free(w->lengths);
	free(w->cum);
	w->lengths = NULL;
	w->cum = NULL;
	w->n = 0;
}

uint32_t homa_workload_sample(const struct homa_workload *w, double u)
{
	uint32_t lo = 0, hi = w->n - 1;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (w->cum[mid] >= u)
			hi = mid;
		else
			lo = mid + 1;
	}
	return w->lengths[lo];
}

double homa_workload_cdf(const struct homa_workload *w, uint32_t len)
{
	double c = 0;

	for (uint32_t i = 0; i < w->n && w->lengths[i] <= len; i++)
		c = w->cum[i];
	return c;
}

void homa_rng_seed(struct homa_rng *r, uint64_t seed)
{
	r->state = seed;
}

uint64_t homa_rng_next(struct homa_rng *r)
{
	uint64_t z = (r->state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

double homa_rng_uniform(struct homa_rng *r)
{
	return (double)(homa_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

double homa_rng_exponential(struct homa_rng *r, double mean)
{
	return -mean * log(1.0 - homa_rng_uniform(r));
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double homa_percentile(double *values, size_t n, double p)
{
	size_t rank;

	if (n == 0)
		return 0;
	qsort(values, n, sizeof(*values), cmp_double);
	rank = (size_t)ceil(p / 100.0 * (double)n);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return values[rank - 1];
}
