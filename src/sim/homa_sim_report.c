/*
 * homa_sim_report.c - slowdown, size buckets, whole experiments and output.
 *
 * Slowdown follows the Homa papers: an RPC's completion time divided by the
 * completion time of an RPC with the same request length alone on an idle
 * network of the same topology. The denominators are measured, not
 * computed: a second, fault-free two-host simulation with the same links and
 * engine settings runs one RPC per distinct request length, one at a time
 * with a quiet gap between them, and the results are cached for the run. A
 * formula would miss what the engine adds (grant round trips, pacing, the
 * store-and-forward switch), and then slowdowns would not start at 1.
 *
 * Buckets group the workload's lengths into about ten classes of equal
 * message count (by the workload's CDF, so bucket 0 holds the shortest ~10%
 * of messages); a length with a large point mass may make its bucket bigger
 * and the number of buckets smaller.
 *
 * The JSON output is a pure function of the configuration and the results:
 * no wall clock, no addresses, fixed float formats, so equal seeds give equal
 * bytes.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "homa_sim_internal.h"

#define BASELINE_GAP_NS	  50000
#define BASELINE_LIMIT_NS 10000000000ull

struct baseline {
	uint32_t *lengths; /* ascending, distinct */
	double *ns;	   /* 0: the baseline RPC failed */
	size_t n;
};

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The distinct request lengths of completed RPCs, ascending. */
static int distinct_lengths(const struct homa_sim *sim, struct baseline *b)
{
	size_t n = 0;

	b->lengths = malloc((sim->nrpcs + 1) * sizeof(*b->lengths));
	if (!b->lengths)
		return -ENOMEM;
	for (uint64_t i = 0; i < sim->nrpcs; i++)
		if (sim->rpcs[i].state == HOMA_SIM_RPC_DONE)
			b->lengths[n++] = sim->rpcs[i].length;
	qsort(b->lengths, n, sizeof(*b->lengths), cmp_u32);
	b->n = 0;
	for (size_t i = 0; i < n; i++)
		if (b->n == 0 || b->lengths[b->n - 1] != b->lengths[i])
			b->lengths[b->n++] = b->lengths[i];
	b->ns = calloc(b->n + 1, sizeof(*b->ns));
	return b->ns ? 0 : -ENOMEM;
}

/* One RPC of each length on an idle copy of the network. */
static int baseline_measure(const struct homa_sim_config *c, struct baseline *b)
{
	struct homa_sim_config bc = *c;
	struct homa_sim *sim;
	int err;

	bc.hosts = 2;
	bc.loss = bc.dup = bc.reorder = 0;
	bc.workload = NULL;
	bc.rpcs = 0;
	bc.fail_allocs = 0;
	err = homa_sim_new(&bc, &sim);
	if (err)
		return err;
	for (size_t i = 0; i < b->n; i++) {
		int64_t k = homa_sim_send_rpc(sim, 0, 1, b->lengths[i]);
		const struct homa_sim_rpc *r;

		if (k < 0)
			continue;
		homa_sim_run_to_completion(sim, sim->now + BASELINE_LIMIT_NS);
		r = homa_sim_rpc(sim, (uint64_t)k);
		if (r->state == HOMA_SIM_RPC_DONE)
			b->ns[i] = (double)(r->end_ns - r->start_ns);
		homa_sim_run_until(sim, sim->now + BASELINE_GAP_NS);
	}
	homa_sim_free(sim);
	return 0;
}

static double baseline_of(const struct baseline *b, uint32_t len)
{
	size_t lo = 0, hi = b->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (b->lengths[mid] < len)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < b->n && b->lengths[lo] == len ? b->ns[lo] : 0;
}

/* Bucket upper bounds from the workload's CDF (about ten equal-count classes). */
static uint32_t buckets_from_workload(const struct homa_workload *w, uint32_t *max_len)
{
	uint32_t nb = 0;

	for (uint32_t i = 0; i < w->n && nb < HOMA_SIM_MAX_BUCKETS; i++) {
		double goal = (double)(nb + 1) / 10.0 - 1e-9;

		if (w->cum[i] <= 0)
			continue;
		if (w->cum[i] >= goal || i + 1 == w->n)
			max_len[nb++] = w->lengths[i];
	}
	if (nb == 0 || max_len[nb - 1] != w->lengths[w->n - 1]) {
		if (nb == HOMA_SIM_MAX_BUCKETS)
			nb--;
		max_len[nb++] = w->lengths[w->n - 1];
	}
	return nb;
}

/* Without a workload: equal-count classes of the lengths seen. */
static uint32_t buckets_from_rpcs(const struct homa_sim *sim, uint32_t *max_len)
{
	uint32_t *all = malloc((sim->nrpcs + 1) * sizeof(*all));
	uint32_t nb = 0;
	size_t n = 0;

	if (!all)
		return 0;
	for (uint64_t i = 0; i < sim->nrpcs; i++)
		if (sim->rpcs[i].state == HOMA_SIM_RPC_DONE)
			all[n++] = sim->rpcs[i].length;
	qsort(all, n, sizeof(*all), cmp_u32);
	for (uint32_t k = 1; k <= 10 && n; k++) {
		uint32_t v = all[(n * k + 9) / 10 - 1];

		if (nb == 0 || max_len[nb - 1] < v)
			max_len[nb++] = v;
	}
	free(all);
	return nb;
}

static uint32_t bucket_of(const uint32_t *max_len, uint32_t nb, uint32_t len)
{
	for (uint32_t i = 0; i < nb; i++)
		if (len <= max_len[i])
			return i;
	return nb - 1;
}

/* Percentiles over the slowdowns of RPCs whose bucket is b (b < 0: all). */
static void collect(struct homa_sim *sim, const uint32_t *max_len, uint32_t nb, int b,
		    double *tmp, double *p50, double *p99, uint64_t *count)
{
	size_t n = 0;

	for (uint64_t i = 0; i < sim->nrpcs; i++) {
		if (sim->slowdowns[i] < 0)
			continue;
		if (b >= 0 && bucket_of(max_len, nb, sim->rpcs[i].length) != (uint32_t)b)
			continue;
		tmp[n++] = sim->slowdowns[i];
	}
	*count = n;
	*p50 = homa_percentile(tmp, n, 50);
	*p99 = homa_percentile(tmp, n, 99);
}

static void fill_slowdowns(struct homa_sim *sim, const struct baseline *b)
{
	double sum = 0;
	uint64_t n = 0;

	for (uint64_t i = 0; i < sim->nrpcs; i++) {
		const struct homa_sim_rpc *r = &sim->rpcs[i];
		double base =
		    r->state == HOMA_SIM_RPC_DONE ? baseline_of(b, r->length) : 0;

		sim->slowdowns[i] =
		    base > 0 ? (double)(r->end_ns - r->start_ns) / base : -1;
		if (base > 0) {
			sum += sim->slowdowns[i];
			n++;
		}
	}
	sim->res.slowdown_mean = n ? sum / (double)n : 0;
}

int homa_sim_compute_slowdown(struct homa_sim *sim, const struct homa_workload *w)
{
	struct baseline b = {0};
	uint32_t max_len[HOMA_SIM_MAX_BUCKETS];
	uint32_t nb;
	double *tmp;
	int err = distinct_lengths(sim, &b);

	if (!err)
		err = baseline_measure(&sim->cfg, &b);
	free(sim->slowdowns);
	sim->slowdowns = malloc((sim->nrpcs + 1) * sizeof(double));
	tmp = malloc((sim->nrpcs + 1) * sizeof(double));
	if (!err && (!sim->slowdowns || !tmp))
		err = -ENOMEM;
	if (!err) {
		fill_slowdowns(sim, &b);
		collect(sim, NULL, 0, -1, tmp, &sim->res.slowdown_p50,
			&sim->res.slowdown_p99, &sim->res.slowdown_count);
		nb = w ? buckets_from_workload(w, max_len)
		       : buckets_from_rpcs(sim, max_len);
		sim->res.num_buckets = nb;
		for (uint32_t i = 0; i < nb; i++) {
			struct homa_sim_bucket *bk = &sim->res.buckets[i];

			bk->max_length = max_len[i];
			collect(sim, max_len, nb, (int)i, tmp, &bk->p50, &bk->p99,
				&bk->count);
		}
	}
	free(tmp);
	free(b.lengths);
	free(b.ns);
	return err;
}

double homa_sim_slowdown_p99_upto(struct homa_sim *sim, uint32_t max_length)
{
	double *tmp, p99;
	size_t n = 0;

	if (!sim->slowdowns)
		return 0;
	tmp = malloc((sim->nrpcs + 1) * sizeof(double));
	if (!tmp)
		return 0;
	for (uint64_t i = 0; i < sim->nrpcs; i++)
		if (sim->slowdowns[i] >= 0 && sim->rpcs[i].length <= max_length)
			tmp[n++] = sim->slowdowns[i];
	p99 = homa_percentile(tmp, n, 99);
	free(tmp);
	return p99;
}

void homa_sim_write_rpcs(const struct homa_sim *sim, FILE *f)
{
	static const char *const states[] = {"pending", "done", "failed", "lost"};

	fprintf(f, "index,client,server,length,state,error,start_ns,end_ns,slowdown\n");
	for (uint64_t i = 0; i < sim->nrpcs; i++) {
		const struct homa_sim_rpc *r = &sim->rpcs[i];

		fprintf(f, "%" PRIu64 ",%u,%u,%u,%s,%d,%" PRIu64 ",%" PRIu64 ",%.4f\n", i,
			r->client, r->server, r->length, states[r->state & 3], r->error,
			r->start_ns, r->end_ns,
			sim->slowdowns ? sim->slowdowns[i] : -1.0);
	}
}

/* -------------------------------------------------------- experiment */

int homa_sim_experiment(const struct homa_sim_config *c, struct homa_sim_results *out)
{
	struct homa_sim *sim;
	uint64_t limit;
	int err = homa_sim_new(c, &sim);

	memset(out, 0, sizeof(*out));
	if (err)
		return err;
	err = homa_sim_start_load(sim);
	if (!err) {
		/* Issuing takes rpcs * gap / hosts; anything far beyond is a hang. */
		limit = (uint64_t)(sim->load_mean_gap_ns * (double)c->rpcs / c->hosts) +
			100000000000ull;
		err = homa_sim_run_to_completion(sim, limit);
		homa_sim_drain(sim, sim->now + 100000000000ull);
		homa_sim_finish(sim);
		homa_sim_compute_slowdown(sim, c->workload);
		if (c->rpc_log)
			homa_sim_write_rpcs(sim, c->rpc_log);
	}
	*out = sim->res;
	homa_sim_free(sim);
	return err;
}

/* ------------------------------------------------------------ output */

static const char *errno_name(int e)
{
	switch (e) {
	case ETIMEDOUT:
		return "ETIMEDOUT";
	case ENOMEM:
		return "ENOMEM";
	case ENOTCONN:
		return "ENOTCONN";
	case EHOSTUNREACH:
		return "EHOSTUNREACH";
	case ECONNRESET:
		return "ECONNRESET";
	case ESHUTDOWN:
		return "ESHUTDOWN";
	case EAGAIN:
		return "EAGAIN";
	case EINVAL:
		return "EINVAL";
	case ECANCELED:
		return "ECANCELED";
	default:
		return NULL;
	}
}

static void print_errors(const struct homa_sim_results *r, FILE *f)
{
	int first = 1;

	fprintf(f, "{");
	for (int e = 0; e < HOMA_SIM_MAX_ERRNO; e++) {
		if (!r->errors[e])
			continue;
		if (errno_name(e))
			fprintf(f, "%s\"%s\":%" PRIu64, first ? "" : ",", errno_name(e),
				r->errors[e]);
		else
			fprintf(f, "%s\"errno_%d\":%" PRIu64, first ? "" : ",", e,
				r->errors[e]);
		first = 0;
	}
	fprintf(f, "}");
}

static void print_counters(const struct homa_stats *s, FILE *f)
{
	int first = 1;

	fprintf(f, "{");
	for (size_t i = 0; i < HOMA_STATS_COUNT; i++) {
		if (!homa_stats_get(s, i))
			continue;
		fprintf(f, "%s\"%s\":%" PRIu64, first ? "" : ",", homa_stats_names[i],
			homa_stats_get(s, i));
		first = 0;
	}
	fprintf(f, "}");
}

static void print_buckets(const struct homa_sim_results *r, FILE *f)
{
	fprintf(f, "[");
	for (uint32_t i = 0; i < r->num_buckets; i++) {
		const struct homa_sim_bucket *b = &r->buckets[i];

		fprintf(f,
			"%s{\"max_length\":%u,\"count\":%" PRIu64
			",\"p50\":%.3f,\"p99\":%.3f}",
			i ? "," : "", b->max_length, b->count, b->p50, b->p99);
	}
	fprintf(f, "]");
}

static void print_json_config(const struct homa_sim_config *c, FILE *f)
{
	fprintf(f,
		"\"config\":{\"hosts\":%u,\"link_gbps\":%.3f,\"prop_ns\":%" PRIu64
		",\"workload\":\"%s\",\"load\":%.3f,\"rpcs\":%" PRIu64
		",\"seed\":%" PRIu64
		",\"loss\":%.4f,\"dup\":%.4f,\"reorder\":%.4f,\"priorities\":%u"
		",\"response_bytes\":%u,\"switch_buffer_bytes\":%" PRIu64
		",\"unsched_bytes\":%u,\"max_incoming\":%u,\"fail_allocs\":%" PRIu64 "},",
		c->hosts, c->link_gbps, c->prop_ns, c->workload ? c->workload->name : "",
		c->load, c->rpcs, c->seed, c->loss, c->dup, c->reorder,
		c->settings.num_priorities, c->response_bytes, c->switch_buffer_bytes,
		c->settings.unsched_bytes, c->settings.max_incoming, c->fail_allocs);
}

void homa_sim_print_json(const struct homa_sim_config *c,
			 const struct homa_sim_results *r, FILE *f)
{
	fprintf(f, "{");
	print_json_config(c, f);
	fprintf(f,
		"\"rpcs_requested\":%" PRIu64 ",\"rpcs_completed\":%" PRIu64
		",\"rpcs_failed\":%" PRIu64 ",\"rpcs_lost\":%" PRIu64 ",\"errors\":",
		r->rpcs_requested, r->rpcs_completed, r->rpcs_failed, r->rpcs_lost);
	print_errors(r, f);
	fprintf(f,
		",\"duplicate_executions\":%" PRIu64 ",\"corrupted_messages\":%" PRIu64
		",\"send_errors\":%" PRIu64 ",\"reply_errors\":%" PRIu64
		",\"unexpected_messages\":%" PRIu64 ",\"rpcs_leaked\":%" PRIu64
		",\"state_bytes_at_end\":%" PRIu64 ",\"bytes_leaked\":%" PRIu64,
		r->duplicate_executions, r->corrupted_messages, r->send_errors,
		r->reply_errors, r->unexpected_messages, r->rpcs_leaked,
		r->state_bytes_at_end, r->bytes_leaked);
	fprintf(
	    f,
	    ",\"slowdown\":{\"p50\":%.3f,\"p99\":%.3f,\"mean\":%.3f,\"count\":%" PRIu64
	    "},\"buckets\":",
	    r->slowdown_p50, r->slowdown_p99, r->slowdown_mean, r->slowdown_count);
	print_buckets(r, f);
	fprintf(f,
		",\"switch_peak_queue_bytes\":%" PRIu64
		",\"port_peak_max_bytes\":%" PRIu64 ",\"packets\":{\"sent\":%" PRIu64
		",\"delivered\":%" PRIu64 ",\"wire_bytes\":%" PRIu64 ",\"lost\":%" PRIu64
		",\"duplicated\":%" PRIu64 ",\"reordered\":%" PRIu64
		",\"dropped_buffer\":%" PRIu64 ",\"dropped_filter\":%" PRIu64
		",\"dropped_down\":%" PRIu64 "}",
		r->switch_peak_queue_bytes, r->port_peak_max_bytes, r->pkts_sent,
		r->pkts_delivered, r->wire_bytes, r->drops_loss, r->dups, r->reorders,
		r->drops_buffer, r->drops_filter, r->drops_down);
	fprintf(f,
		",\"grant\":{\"samples\":%" PRIu64 ",\"violations\":%" PRIu64
		",\"max_incoming\":%" PRIu64 ",\"max_ratio\":%.4f}",
		r->grant_samples, r->grant_violations, r->grant_max_incoming,
		r->grant_max_ratio);
	fprintf(f,
		",\"alloc_failures_injected\":%" PRIu64 ",\"peak_engine_bytes\":%" PRIu64
		",\"sim_ns\":%" PRIu64 ",\"events\":%" PRIu64 ",\"counters\":",
		r->alloc_failures_injected, r->peak_engine_bytes, r->sim_ns, r->events);
	print_counters(&r->stats, f);
	fprintf(f, "}\n");
}

void homa_sim_print_text(const struct homa_sim_config *c,
			 const struct homa_sim_results *r, FILE *f)
{
	fprintf(f,
		"homa-sim: %u hosts, %.1f Gbit/s, workload %s, load %.2f, seed %" PRIu64
		"\n",
		c->hosts, c->link_gbps, c->workload ? c->workload->name : "-", c->load,
		c->seed);
	fprintf(f,
		"rpcs: requested %" PRIu64 ", completed %" PRIu64 ", failed %" PRIu64
		", lost %" PRIu64 "\n",
		r->rpcs_requested, r->rpcs_completed, r->rpcs_failed, r->rpcs_lost);
	fprintf(f, "duplicate executions %" PRIu64 ", corrupted messages %" PRIu64 "\n",
		r->duplicate_executions, r->corrupted_messages);
	fprintf(f, "slowdown: p50 %.2f, p99 %.2f, mean %.2f over %" PRIu64 " RPCs\n",
		r->slowdown_p50, r->slowdown_p99, r->slowdown_mean, r->slowdown_count);
	fprintf(f, "  %12s %8s %8s %8s\n", "max_length", "count", "p50", "p99");
	for (uint32_t i = 0; i < r->num_buckets; i++)
		fprintf(f, "  %12u %8" PRIu64 " %8.2f %8.2f\n", r->buckets[i].max_length,
			r->buckets[i].count, r->buckets[i].p50, r->buckets[i].p99);
	fprintf(f,
		"switch: peak queue %" PRIu64 " bytes (fullest port %" PRIu64
		"), drops: loss %" PRIu64 ", buffer %" PRIu64 "\n",
		r->switch_peak_queue_bytes, r->port_peak_max_bytes, r->drops_loss,
		r->drops_buffer);
	fprintf(f,
		"grants: max incoming %" PRIu64
		", max ratio to bound %.3f, violations %" PRIu64 "\n",
		r->grant_max_incoming, r->grant_max_ratio, r->grant_violations);
	fprintf(f,
		"end: rpcs_leaked %" PRIu64 ", state_bytes_at_end %" PRIu64
		", bytes_leaked %" PRIu64 "\n",
		r->rpcs_leaked, r->state_bytes_at_end, r->bytes_leaked);
	fprintf(f, "simulated %.3f ms, %" PRIu64 " events\n", (double)r->sim_ns / 1e6,
		r->events);
}
