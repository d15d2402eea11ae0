/* perf_report.h - printing load results as text tables or JSON. */
#ifndef PERF_REPORT_H
#define PERF_REPORT_H

#include "perf_load.h"

#include <stdio.h>

/* Overall and per-size-bucket percentiles (bucketed when buckets is set). */
void perf_report_text(FILE *f, const char *title, const struct perf_load_result *r,
		      int buckets);

/*
 * Writes the result's members (no braces) as JSON: counts, rates and
 * "rtt_us" {p50, p99, p999, min, mean}, plus "buckets" when set.
 */
void perf_report_json(FILE *f, const struct perf_load_result *r, int buckets);

/* Why a run stopped early, as text ("stalled", an errno string, ...). */
const char *perf_report_failure(const struct perf_load_result *r);

#endif
