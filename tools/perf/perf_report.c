/* perf_report.c - text and JSON output of load results. */
#define _GNU_SOURCE
#include "perf_report.h"

#include <string.h>

static void pct_line(FILE *f, const char *label, const struct perf_pct *p)
{
	fprintf(f, "  %-12s %10zu %10.1f %10.1f %10.1f %10.1f %10.1f\n", label, p->count,
		perf_us(p->min), perf_us(p->p50), perf_us(p->p99), perf_us(p->p999),
		perf_us(p->mean));
}

void perf_report_text(FILE *f, const char *title, const struct perf_load_result *r,
		      int buckets)
{
	struct perf_pct p;
	char label[32];

	fprintf(f,
		"%s: %llu RPCs in %.2f s: %.1f kops/s, requests %.3f Gbit/s, "
		"responses %.3f Gbit/s, CPU %.2f us/RPC\n",
		title, (unsigned long long)r->completed, (double)r->elapsed_ns / 1e9,
		perf_load_kops(r), perf_load_gbps(r->req_bytes, r),
		perf_load_gbps(r->resp_bytes, r),
		r->completed ? perf_us((double)r->cpu_ns / (double)r->completed) : 0.0);
	if (r->window_rpcs)
		fprintf(
		    f,
		    "  counted by start: %llu RPCs started in the window (%.3f Gbit/s), "
		    "%llu (%llu bytes) unfinished at the end of the cool-down\n",
		    (unsigned long long)r->window_rpcs,
		    perf_load_gbps(r->window_bytes, r), (unsigned long long)r->unfinished,
		    (unsigned long long)r->unfinished_bytes);
	if (r->errors || r->timeouts || r->cap_hits || r->samples.dropped)
		fprintf(f,
			"  errors %llu (first: %s), timeouts %llu, outstanding-cap hits "
			"%llu, "
			"samples not kept %llu\n",
			(unsigned long long)r->errors,
			r->errors ? strerror(r->first_rpc_error) : "-",
			(unsigned long long)r->timeouts, (unsigned long long)r->cap_hits,
			(unsigned long long)r->samples.dropped);
	fprintf(f, "  %-12s %10s %10s %10s %10s %10s %10s\n", "length", "count", "min us",
		"P50 us", "P99 us", "P99.9 us", "mean us");
	for (int b = 0; buckets && b < PERF_NBUCKETS; b++) {
		perf_pct_compute(&r->samples, b ? perf_bucket_max[b - 1] : 0,
				 perf_bucket_max[b], &p);
		snprintf(label, sizeof(label), "<= %u", perf_bucket_max[b]);
		if (p.count)
			pct_line(f, label, &p);
	}
	perf_pct_compute(&r->samples, 0, UINT32_MAX, &p);
	pct_line(f, "all", &p);
}

static void pct_json(FILE *f, const struct perf_pct *p)
{
	fprintf(f,
		"{\"count\":%zu,\"p50\":%.3f,\"p99\":%.3f,\"p999\":%.3f,\"min\":%.3f,"
		"\"mean\":%.3f}",
		p->count, perf_us(p->p50), perf_us(p->p99), perf_us(p->p999),
		perf_us(p->min), perf_us(p->mean));
}

static void buckets_json(FILE *f, const struct perf_load_result *r)
{
	struct perf_pct p;
	int first = 1;

	fprintf(f, ",\"buckets\":[");
	for (int b = 0; b < PERF_NBUCKETS; b++) {
		perf_pct_compute(&r->samples, b ? perf_bucket_max[b - 1] : 0,
				 perf_bucket_max[b], &p);
		if (!p.count)
			continue;
		fprintf(f, "%s{\"max_length\":%u,\"rtt_us\":", first ? "" : ",",
			perf_bucket_max[b]);
		pct_json(f, &p);
		fprintf(f, "}");
		first = 0;
	}
	fprintf(f, "]");
}

void perf_report_json(FILE *f, const struct perf_load_result *r, int buckets)
{
	struct perf_pct p;

	fprintf(f,
		"\"rpcs\":%llu,\"seconds\":%.3f,\"kops\":%.3f,\"req_gbps\":%.4f,"
		"\"resp_gbps\":%.4f,\"cpu_us_per_rpc\":%.3f,\"errors\":%llu,\"timeouts\":"
		"%llu,"
		"\"cap_hits\":%llu,\"sent\":%llu,\"stalled\":%s,",
		(unsigned long long)r->completed, (double)r->elapsed_ns / 1e9,
		perf_load_kops(r), perf_load_gbps(r->req_bytes, r),
		perf_load_gbps(r->resp_bytes, r),
		r->completed ? perf_us((double)r->cpu_ns / (double)r->completed) : 0.0,
		(unsigned long long)r->errors, (unsigned long long)r->timeouts,
		(unsigned long long)r->cap_hits, (unsigned long long)r->sent,
		r->stalled ? "true" : "false");
	if (r->window_rpcs)
		fprintf(f,
			"\"window_rpcs\":%llu,\"window_gbps\":%.4f,\"unfinished\":%llu,"
			"\"unfinished_bytes\":%llu,",
			(unsigned long long)r->window_rpcs,
			perf_load_gbps(r->window_bytes, r),
			(unsigned long long)r->unfinished,
			(unsigned long long)r->unfinished_bytes);
	if (r->window_rpcs) {
		fprintf(
		    f,
		    "\"other_errors\":%llu,\"window_bytes\":%llu,\"done_bytes_by_s\":[",
		    (unsigned long long)r->other_errors,
		    (unsigned long long)r->window_bytes);
		for (uint32_t k = 0; k < r->done_by_n; k++)
			fprintf(f, "%s%llu", k ? "," : "",
				(unsigned long long)r->done_by_s[k]);
		fprintf(f, "],");
	}
	fprintf(f, "\"rtt_us\":");
	perf_pct_compute(&r->samples, 0, UINT32_MAX, &p);
	pct_json(f, &p);
	if (buckets)
		buckets_json(f, r);
	if (r->errors)
		fprintf(f, ",\"first_error\":\"%s\"", strerror(r->first_rpc_error));
}

const char *perf_report_failure(const struct perf_load_result *r)
{
	if (r->stalled)
		return "stalled: no RPC completed for too long";
	if (r->error)
		return strerror(-r->error);
	return "no RPC completed";
}
