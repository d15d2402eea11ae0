/* perf_load.c - open- and closed-loop load over any perf transport. */
#define _GNU_SOURCE
#include "perf_load.h"

#include "perf_frame.h"
#include "perf_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOT_BITS     24 /* request ids are (sequence << SLOT_BITS) | slot */
#define MAX_BURST     64 /* sends per loop turn, so completions keep flowing */
#define MAX_WAIT_NS   10000000ull
#define SCAN_EVERY_NS 10000000ull

struct slot {
	uint64_t id; /* 0: free */
	uint64_t start;
	uint32_t len;	 /* drawn length */
	uint32_t wire;	 /* request bytes on the wire */
	uint8_t counted; /* by-issue counting: issued inside the window */
};

/* A drawn request that the transport could not take yet (-EAGAIN). */
struct draw {
	int valid;
	uint32_t len;
	int server;
};

struct load {
	const struct perf_load_cfg *cfg;
	struct perf_client *c;
	struct perf_load_result *r;
	struct slot *slots;
	uint32_t *free_list, nfree, nslots;
	uint32_t outstanding;
	uint64_t seq;
	struct homa_rng rng;
	struct draw pending;
	uint64_t t0, mstart, mend, last_progress, next_scan, cpu_start;
	uint64_t stop; /* mend, plus the cool-down in by-issue counting */
	int by_issue;  /* cfg->cooldown_ns > 0: count RPCs by when they started */
	int finished;  /* the run is over: late completions are ignored */
	int cpu_done;  /* r->cpu_ns holds the window's CPU time */
	double gap_ns;
	uint64_t next_arrival;
	int blocked; /* the current arrival already counted as a cap hit */
	int full;    /* the transport refused the last send (-EAGAIN) */
	/* progress window */
	uint64_t next_report, win_done, win_bytes, win_rtt;
};

void perf_load_cfg_default(struct perf_load_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->nservers = 1;
	cfg->closed = 1;
	cfg->resp_len = PERF_RESP_ECHO;
	cfg->duration_ns = PERF_NS_PER_SEC;
	cfg->max_outstanding = 10000;
	cfg->seed = 1;
	cfg->stall_ns = 5 * PERF_NS_PER_SEC;
	cfg->max_samples = 20000000;
}

static uint32_t resp_wire(const struct perf_load_cfg *cfg, uint32_t req_wire)
{
	return cfg->resp_len == PERF_RESP_ECHO ? req_wire : perf_wire_len(cfg->resp_len);
}

static void record(struct load *l, struct slot *s, uint64_t now)
{
	uint64_t rtt = now - s->start;

	l->win_done++;
	l->win_bytes += s->wire;
	l->win_rtt += rtt;
	if (l->by_issue ? !s->counted : now < l->mstart || now > l->mend)
		return;
	if (l->by_issue) {
		uint64_t k = now <= l->mend ? 0
					    : (now - l->mend + PERF_NS_PER_SEC - 1) /
						  PERF_NS_PER_SEC;

		if (k < PERF_DONE_BY_MAX)
			l->r->done_by_s[k] += s->wire;
	}
	perf_samples_add(&l->r->samples, s->len, rtt);
	l->r->completed++;
	l->r->req_bytes += s->wire;
	l->r->resp_bytes += resp_wire(l->cfg, s->wire);
}

static void release(struct load *l, struct slot *s)
{
	s->id = 0;
	l->free_list[l->nfree++] = (uint32_t)(s - l->slots);
	l->outstanding--;
}

static int on_done(void *arg, uint64_t id, int err)
{
	struct load *l = arg;
	uint32_t idx = (uint32_t)(id & ((1u << SLOT_BITS) - 1));
	uint64_t now = perf_now_ns();
	struct slot *s;

	if (idx >= l->nslots || l->slots[idx].id != id)
		return l->outstanding != 0; /* timed out earlier, or not ours */
	s = &l->slots[idx];
	l->last_progress = now;
	if (l->finished) {
		/* After the run (serving only): neither measured nor failed. */
	} else if (err && l->by_issue && !s->counted) {
		l->r->other_errors++;
	} else if (err) {
		if (!l->r->errors++)
			l->r->first_rpc_error = err;
	} else {
		record(l, s, now);
	}
	release(l, s);
	return l->outstanding != 0;
}

static void draw(struct load *l)
{
	if (l->pending.valid)
		return;
	l->pending.len = homa_workload_sample(l->cfg->wl, homa_rng_uniform(&l->rng));
	l->pending.server =
	    l->cfg->nservers > 1
		? (int)(homa_rng_next(&l->rng) % (uint64_t)l->cfg->nservers)
		: 0;
	l->pending.valid = 1;
}

/* Starts one RPC. Returns 1 if sent, 0 if the transport is full, -errno. */
static int issue(struct load *l)
{
	uint32_t idx = l->free_list[--l->nfree];
	struct slot *s = &l->slots[idx];
	int rc;

	draw(l);
	s->len = l->pending.len;
	s->wire = perf_wire_len(s->len);
	s->id = (++l->seq << SLOT_BITS) | idx;
	l->outstanding++;
	if (l->outstanding == 1)
		l->last_progress = perf_now_ns();
	s->start = perf_now_ns();
	s->counted = l->by_issue && s->start >= l->mstart && s->start < l->mend;
	rc = l->c->ops->send(l->c->impl, l->pending.server, s->id, s->wire,
			     l->cfg->resp_len);
	l->full = rc == -EAGAIN;
	if (rc != 0) {
		release(l, s);
		return l->full ? 0 : rc;
	}
	l->pending.valid = 0;
	l->r->sent++;
	if (s->counted) {
		l->r->window_rpcs++;
		l->r->window_bytes += s->wire;
	}
	return 1;
}

static int send_open(struct load *l, uint64_t now)
{
	for (int burst = 0; burst < MAX_BURST && l->next_arrival <= now; burst++) {
		if (l->outstanding >= l->nslots) {
			l->r->cap_hits += !l->blocked;
			l->blocked = 1;
			return 0;
		}
		int rc = issue(l);

		if (rc <= 0)
			return rc;
		l->blocked = 0;
		l->next_arrival += (uint64_t)homa_rng_exponential(&l->rng, l->gap_ns);
	}
	return 0;
}

static int send_closed(struct load *l)
{
	for (int burst = 0; burst < MAX_BURST && l->outstanding < l->cfg->closed;
	     burst++) {
		int rc = issue(l);

		if (rc <= 0)
			return rc;
	}
	return 0;
}

/* How long the transport may block: until the next arrival, at most 10 ms. */
static uint64_t wait_ns(const struct load *l, uint64_t now)
{
	uint64_t w = MAX_WAIT_NS;

	if (l->full)
		w = MAX_WAIT_NS / 10; /* until a completion frees memory, or 1 ms */
	else if (l->cfg->gbps > 0 && !l->blocked)
		w = l->next_arrival > now ? l->next_arrival - now : 0;
	else if (l->cfg->gbps <= 0 && l->outstanding < l->cfg->closed)
		w = 0;
	if (w > MAX_WAIT_NS)
		w = MAX_WAIT_NS;
	if (w == 0 && l->outstanding == 0)
		w = 1; /* nothing to collect; don't report "forever" */
	return w;
}

static void scan_timeouts(struct load *l, uint64_t now)
{
	for (uint32_t i = 0; i < l->nslots; i++) {
		struct slot *s = &l->slots[i];

		if (s->id && now - s->start > l->cfg->rpc_timeout_ns) {
			l->r->timeouts++;
			release(l, s);
		}
	}
}

static void report(struct load *l, uint64_t now)
{
	double secs = (double)(now - l->t0) / 1e9;
	double mean_us = l->win_done ? (double)l->win_rtt / (double)l->win_done / 1e3 : 0;

	fprintf(
	    stderr,
	    "  [%5.1fs]%s %8.1f kops  %7.3f Gbps  mean rtt %9.1f us  outstanding %u\n",
	    secs, now < l->mstart ? " warmup" : "", (double)l->win_done / 1e3,
	    (double)l->win_bytes * 8 / 1e9, mean_us, l->outstanding);
	l->win_done = l->win_bytes = l->win_rtt = 0;
	l->next_report += PERF_NS_PER_SEC;
}

/* The measured window ends: its CPU time, and the demo's callback. */
static void close_window(struct load *l)
{
	l->r->cpu_ns = perf_cpu_ns() + 1 - l->cpu_start;
	l->cpu_done = 1;
	if (l->cfg->window)
		l->cfg->window(l->cfg->window_arg, 0);
}

/* Per-turn bookkeeping; returns -1 when the run must stop (stall). */
static int housekeeping(struct load *l, uint64_t now)
{
	if (!l->cpu_start && now >= l->mstart) {
		l->cpu_start = perf_cpu_ns() + 1;
		if (l->cfg->window)
			l->cfg->window(l->cfg->window_arg, 1);
	}
	/* The CPU window is the measured one, not the cool-down after it. */
	if (l->cpu_start && !l->cpu_done && now >= l->mend)
		close_window(l);
	if (l->cfg->progress && now >= l->next_report)
		report(l, now);
	if (l->cfg->rpc_timeout_ns && now >= l->next_scan) {
		scan_timeouts(l, now);
		l->next_scan = now + SCAN_EVERY_NS;
	}
	if (l->outstanding == 0)
		l->last_progress = now;
	if (l->cfg->stall_ns && now - l->last_progress > l->cfg->stall_ns) {
		l->r->stalled = 1;
		return -1;
	}
	return 0;
}

static int done_yet(const struct load *l, uint64_t now)
{
	if (now >= l->stop)
		return 1;
	return l->cfg->max_rpcs && l->r->completed >= l->cfg->max_rpcs;
}

static int run_loop(struct load *l)
{
	uint64_t now;
	int rc = 0;

	while (!done_yet(l, now = perf_now_ns())) {
		rc = l->cfg->gbps > 0 ? send_open(l, now) : send_closed(l);
		if (rc < 0)
			break;
		rc = l->c->ops->poll(l->c->impl, wait_ns(l, now), on_done, l);
		if (rc < 0)
			break;
		rc = housekeeping(l, perf_now_ns());
		if (rc < 0)
			break;
	}
	l->r->elapsed_ns = (now < l->mend ? now : l->mend) - l->mstart;
	if (now < l->mstart)
		l->r->elapsed_ns = 0;
	if (l->cpu_start && !l->cpu_done)
		close_window(l);
	if (l->by_issue) {
		uint64_t n =
		    (l->cfg->cooldown_ns + PERF_NS_PER_SEC - 1) / PERF_NS_PER_SEC;

		l->r->done_by_n =
		    (uint32_t)(n < PERF_DONE_BY_MAX ? n + 1 : PERF_DONE_BY_MAX);
		for (uint32_t k = 1; k < PERF_DONE_BY_MAX; k++)
			l->r->done_by_s[k] += l->r->done_by_s[k - 1];
	}
	for (uint32_t i = 0; l->by_issue && i < l->nslots; i++) {
		if (l->slots[i].id && l->slots[i].counted) {
			l->r->unfinished++;
			l->r->unfinished_bytes += l->slots[i].wire;
		}
	}
	if (rc < 0 && !l->r->stalled)
		l->r->error = rc;
	return rc < 0 ? -1 : 0;
}

static int setup(struct load *l, const struct perf_load_cfg *cfg)
{
	uint32_t cap = cfg->gbps > 0 ? cfg->max_outstanding : cfg->closed;

	if (cap == 0 || cap >= (1u << SLOT_BITS))
		return -1;
	l->nslots = cap;
	l->slots = calloc(cap, sizeof(*l->slots));
	l->free_list = malloc(cap * sizeof(*l->free_list));
	if (!l->slots || !l->free_list)
		return -1;
	for (uint32_t i = 0; i < cap; i++)
		l->free_list[i] = cap - 1 - i;
	l->nfree = cap;
	homa_rng_seed(&l->rng, cfg->seed);
	if (cfg->gbps > 0)
		l->gap_ns = 1e9 / (cfg->gbps * 1e9 / 8 / cfg->wl->mean);
	return 0;
}

/* Polls (answering requests, if the transport does) until `until`. */
static int idle_until(struct load *l, uint64_t until)
{
	uint64_t now;

	while ((now = perf_now_ns()) < until) {
		uint64_t w = until - now < MAX_WAIT_NS ? until - now : MAX_WAIT_NS;
		int rc = l->c->ops->poll(l->c->impl, w, on_done, l);

		if (rc < 0)
			return rc;
	}
	return 0;
}

int perf_load_run(struct perf_client *c, const struct perf_load_cfg *cfg,
		  struct perf_load_result *r)
{
	struct load l = {.cfg = cfg, .c = c, .r = r};
	int rc;

	memset(r, 0, sizeof(*r));
	perf_samples_init(&r->samples, cfg->max_samples);
	if (setup(&l, cfg) != 0) {
		r->error = -EINVAL;
		free(l.slots);
		free(l.free_list);
		return -1;
	}
	if (cfg->idle_before_ns &&
	    idle_until(&l, perf_now_ns() + cfg->idle_before_ns) < 0) {
		r->error = -EIO;
		free(l.slots);
		free(l.free_list);
		return -1;
	}
	l.t0 = l.last_progress = perf_now_ns();
	l.mstart = l.t0 + cfg->warmup_ns;
	l.mend = l.mstart + cfg->duration_ns;
	l.by_issue = cfg->cooldown_ns > 0;
	l.stop = l.mend + cfg->cooldown_ns;
	l.next_report = l.t0 + PERF_NS_PER_SEC;
	l.next_arrival = l.t0;
	rc = run_loop(&l);
	/* Late responses of our own RPCs (slots still allocated) are ignored. */
	l.finished = 1;
	if (cfg->idle_after_ns)
		idle_until(&l, perf_now_ns() + cfg->idle_after_ns);
	free(l.slots);
	free(l.free_list);
	return rc;
}

double perf_load_kops(const struct perf_load_result *r)
{
	return r->elapsed_ns ? (double)r->completed / ((double)r->elapsed_ns / 1e9) / 1e3
			     : 0;
}

double perf_load_gbps(uint64_t bytes, const struct perf_load_result *r)
{
	return r->elapsed_ns ? (double)bytes * 8 / (double)r->elapsed_ns : 0;
}
