/*
 * perf_demo.c - `homa-perf demo`: the headline numbers in one run on
 * loopback, with baselines measured in the same run.
 *
 * Every measurement gets a fresh server process serving only the protocol
 * under test, so no protocol pays for polling another's socket and the
 * server's CPU time can be charged to that protocol alone. On a shared
 * 2-core machine the background load drifts from second to second, so each
 * figure is the sum of several short rounds interleaved across protocols
 * (UDP, TCP, Homa, UDP, TCP, Homa, ...): drift hits every protocol alike
 * instead of whichever happened to run during a busy moment.
 *
 * Each round is bounded in time and gives up after 3 s without progress;
 * a protocol that fails skips its remaining rounds. The whole demo stays
 * under a minute even when Homa does not work; Homa's failure is then
 * reported and the exit status is non-zero.
 */
#define _GNU_SOURCE
#include "perf_demo.h"

#include "perf_frame.h"
#include "perf_load.h"
#include "perf_modes.h"
#include "perf_spawn.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define ROUNDS 5
/* Round trips take 10 rounds of 10,000: a round lasts ~0.15 s, so machine
 * drift is averaged over twice as many slices of the run as with 5 rounds. */
#define RTT_ROUNDS 10
#define RTT_LEN	   100
#define RTT_COUNT  10000
#define TPUT_LEN   1000000
#define TPUT_OUT   4
#define RATE_LEN   100
#define RATE_OUT   32
#define STALL_NS   (3 * PERF_NS_PER_SEC)

struct demo {
	const struct perf_opts *o;
	const char *self;
	int port;
	struct perf_child child;
	uint64_t child_cpu; /* server CPU: at window open, then its delta */
	int server_cpu;	    /* the server's core; the client takes another */
	int client_cpu;
	struct perf_demo_result res;
};

static void window(void *arg, int open)
{
	struct demo *d = arg;
	uint64_t now = perf_child_cpu_ns(&d->child);

	d->child_cpu = open ? now : now - d->child_cpu;
}

static void phase_cfg(enum perf_phase ph, const struct homa_workload *wl, struct demo *d,
		      struct perf_load_cfg *cfg, enum perf_proto p)
{
	perf_load_cfg_default(cfg);
	cfg->wl = wl;
	cfg->stall_ns = STALL_NS;
	cfg->window = window;
	cfg->window_arg = d;
	cfg->rpc_timeout_ns = p == PERF_UDP ? PERF_NS_PER_SEC : 0;
	cfg->seed = d->o->seed;
	cfg->duration_ns = ph == PERF_RTT ? PERF_NS_PER_SEC * 6 / 10 : PERF_NS_PER_SEC;
	cfg->warmup_ns = ph == PERF_RTT ? PERF_NS_PER_SEC / 10 : PERF_NS_PER_SEC / 5;
	cfg->max_rpcs = ph == PERF_RTT ? RTT_COUNT : 0;
	cfg->closed = ph == PERF_RTT ? 1 : ph == PERF_TPUT ? TPUT_OUT : RATE_OUT;
	cfg->resp_len = ph == PERF_TPUT ? PERF_ONE_WAY_RESP : PERF_RESP_ECHO;
}

/* Adds one round's measurements to its cell. */
static void add_round(struct perf_cell *c, const struct perf_load_result *r,
		      uint64_t server_cpu)
{
	for (size_t i = 0; i < r->samples.n; i++)
		perf_samples_add(&c->samples, r->samples.len[i], r->samples.rtt[i]);
	c->rpcs += r->completed;
	c->bytes += r->req_bytes;
	c->ns += r->elapsed_ns;
	c->cpu_ns += r->cpu_ns + server_cpu;
}

/* Keeps Homa's first error, made safe to print inside a JSON string. */
static void keep_error(struct demo *d, const char *err)
{
	char *out = d->res.homa_err;
	size_t i;

	for (i = 0; err[i] && i + 1 < sizeof(d->res.homa_err); i++)
		out[i] =
		    (err[i] == '"' || err[i] == '\\' || err[i] < ' ') ? '\'' : err[i];
	out[i] = '\0';
}

/* Starts a server for p and points o at it; 0 or -1 (err set). */
static int start_server(struct demo *d, enum perf_proto p, struct perf_opts *o, char *err,
			size_t errlen)
{
	char addr[32];

	if (p == PERF_HOMA && !perf_homa_available()) {
		snprintf(err, errlen,
			 "this homa-perf was built without the Homa runtime");
		return -1;
	}
	if (perf_spawn_server(&d->child, d->self, perf_proto_name(p), d->port, o->poll,
			      d->server_cpu) != 0) {
		snprintf(err, errlen, "%s server did not start", perf_proto_name(p));
		return -1;
	}
	d->port = d->child.port; /* this one works: start there next time */
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", d->child.port);
	perf_addr_parse(&o->servers[0], addr);
	o->nservers = 1;
	return 0;
}

static int rounds_of(enum perf_phase ph)
{
	return ph == PERF_RTT ? RTT_ROUNDS : ROUNDS;
}

/* One round of phase ph for protocol p against a fresh server. */
static void run_round(struct demo *d, enum perf_phase ph, enum perf_proto p,
		      const struct homa_workload *wl)
{
	struct perf_cell *c = &d->res.cells[ph][p];
	struct perf_opts o = *d->o;
	struct perf_load_cfg cfg;
	struct perf_load_result r = {0};
	char err[256] = "";

	if (c->failed)
		return;
	o.cpu = d->client_cpu;
	if (start_server(d, p, &o, err, sizeof(err)) == 0) {
		phase_cfg(ph, wl, d, &cfg, p);
		/* Rounds that completed nothing still count their time. */
		if (perf_run(&o, p, &cfg, &r, err, sizeof(err)) == 0)
			add_round(c, &r, d->child_cpu);
		perf_stop_server(&d->child);
		perf_samples_free(&r.samples);
	}
	if (err[0] || (!r.completed && ++c->empty == rounds_of(ph))) {
		c->failed = 1;
		fprintf(stderr, "homa-perf demo: %s failed: %s\n", perf_proto_name(p),
			err[0] ? err : "no RPC completed in any round");
		if (p == PERF_HOMA && !d->res.homa_err[0])
			keep_error(d, err[0] ? err : "no RPC completed");
	} else if (!r.completed) {
		/* A stall shorter than the stall limit, from scheduling: noted. */
		fprintf(stderr,
			"homa-perf demo: %s: a round saw no completion (sent %llu)\n",
			perf_proto_name(p), (unsigned long long)r.sent);
	}
}

static void run_phase(struct demo *d, enum perf_phase ph, const enum perf_proto *protos,
		      int n)
{
	static const uint32_t lens[PERF_NPHASE] = {RTT_LEN, TPUT_LEN, RATE_LEN};
	static const char *const names[PERF_NPHASE] = {"100 B round trips",
						       "1 MB one-way, 4 outstanding",
						       "100 B RPCs, 32 outstanding"};
	struct homa_workload wl;
	char spec[16], err[128];

	fprintf(stderr, "homa-perf demo: %s ...\n", names[ph]);
	snprintf(spec, sizeof(spec), "%u", lens[ph]);
	if (homa_workload_load(&wl, spec, NULL, err, sizeof(err)) != 0)
		return;
	for (int round = 0; round < rounds_of(ph); round++)
		for (int i = 0; i < n; i++)
			run_round(d, ph, protos[i], &wl);
	homa_workload_free(&wl);
}

int perf_demo_main(const struct perf_opts *o, const char *self)
{
	static struct demo d;
	static const enum perf_proto all[] = {PERF_UDP, PERF_TCP, PERF_HOMA};
	int rc = 0;

	d.o = o;
	d.self = self;
	d.port = 10000 + (int)(getpid() % 10000) * 2;
	d.res.rounds = ROUNDS;
	d.res.rtt_rounds = RTT_ROUNDS;
	/*
	 * Not pinned unless --cpu: pinning both sides (without yielding)
	 * made round trips take hundreds of ms on the loaded machine, and
	 * unpinned the scheduler can move a spinner off a busy core.
	 */
	d.client_cpu = o->cpu;
	d.server_cpu = -1;
	d.res.poll = o->poll;
	for (int ph = 0; ph < PERF_NPHASE; ph++)
		for (int p = 0; p < PERF_NPROTO; p++)
			perf_samples_init(&d.res.cells[ph][p].samples, 1u << 22);
	run_phase(&d, PERF_RTT, all, 3);
	run_phase(&d, PERF_TPUT, all + 1, 2);
	run_phase(&d, PERF_RATE, all + 1, 2);
	perf_demo_finish(&d.res);
	if (o->json)
		perf_demo_print_json(&d.res);
	else
		perf_demo_print_table(&d.res);
	for (int ph = 0; ph < PERF_NPHASE; ph++)
		for (int p = 0; p < PERF_NPROTO; p++) {
			/* UDP only takes part in the round trips. */
			if (ph == PERF_RTT || p != PERF_UDP)
				rc |= !perf_cell_ok(&d.res.cells[ph][p]);
			perf_samples_free(&d.res.cells[ph][p].samples);
		}
	return rc;
}
