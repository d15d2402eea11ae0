/*
 * perf_demo.c - `homa-perf demo`: the headline numbers in one run on
 * loopback, with baselines measured in the same run.
 *
 * Every measurement gets a fresh server process serving only the protocol
 * under test, so no protocol pays for polling another's socket and the
 * server's CPU time can be charged to that protocol alone. Each phase is
 * bounded in time (and failures are bounded by the stall timeout), so the
 * whole demo stays well under a minute even when Homa does not work; Homa's
 * failure is then reported and the exit status is non-zero.
 */
#define _GNU_SOURCE
#include "perf_frame.h"
#include "perf_load.h"
#include "perf_modes.h"
#include "perf_spawn.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define RTT_LEN	  100
#define RTT_COUNT 50000
#define TPUT_LEN  1000000
#define TPUT_OUT  4
#define RATE_LEN  100
#define RATE_OUT  32
#define STALL_NS  (3 * PERF_NS_PER_SEC)

enum phase { RTT, TPUT, RATE, NPHASE };

struct cell {
	int ok;
	double a, b; /* rtt: p50, p99 (us); tput: Gbit/s; rate: kops, CPU us/RPC */
};

struct demo {
	const struct perf_opts *o;
	const char *self;
	int port;
	struct perf_child child;
	uint64_t child_cpu; /* server CPU: at window open, then its delta */
	struct cell cells[NPHASE][PERF_NPROTO];
	char homa_err[200];
};

static void window(void *arg, int open)
{
	struct demo *d = arg;
	uint64_t now = perf_child_cpu_ns(&d->child);

	d->child_cpu = open ? now : now - d->child_cpu;
}

static void phase_cfg(enum phase ph, const struct homa_workload *wl, struct demo *d,
		      struct perf_load_cfg *cfg, enum perf_proto p)
{
	perf_load_cfg_default(cfg);
	cfg->wl = wl;
	cfg->stall_ns = STALL_NS;
	cfg->window = window;
	cfg->window_arg = d;
	cfg->rpc_timeout_ns = p == PERF_UDP ? PERF_NS_PER_SEC : 0;
	cfg->seed = d->o->seed;
	cfg->duration_ns = ph == RTT ? 2 * PERF_NS_PER_SEC : 3 * PERF_NS_PER_SEC;
	cfg->warmup_ns = ph == RTT ? PERF_NS_PER_SEC / 5 : PERF_NS_PER_SEC * 3 / 10;
	cfg->max_rpcs = ph == RTT ? RTT_COUNT : 0;
	cfg->closed = ph == RTT ? 1 : ph == TPUT ? TPUT_OUT : RATE_OUT;
	cfg->resp_len = ph == TPUT ? PERF_ONE_WAY_RESP : PERF_RESP_ECHO;
}

static void fill_cell(enum phase ph, struct cell *c, const struct perf_load_result *r,
		      uint64_t server_cpu)
{
	struct perf_pct p;

	c->ok = r->completed > 0;
	if (ph == RTT) {
		perf_pct_compute(&r->samples, 0, UINT32_MAX, &p);
		c->a = perf_us(p.p50);
		c->b = perf_us(p.p99);
	} else if (ph == TPUT) {
		c->a = perf_load_gbps(r->req_bytes, r);
	} else {
		c->a = perf_load_kops(r);
		c->b =
		    r->completed
			? perf_us((double)(r->cpu_ns + server_cpu) / (double)r->completed)
			: 0;
	}
}

/* Keeps Homa's first error, made safe to print inside a JSON string. */
static void keep_error(struct demo *d, const char *err)
{
	size_t i;

	for (i = 0; err[i] && i + 1 < sizeof(d->homa_err); i++)
		d->homa_err[i] =
		    (err[i] == '"' || err[i] == '\\' || err[i] < ' ') ? '\'' : err[i];
	d->homa_err[i] = '\0';
}

/* Runs one phase for one protocol against a fresh server. */
static void run_phase(struct demo *d, enum phase ph, enum perf_proto p)
{
	static const uint32_t lens[NPHASE] = {RTT_LEN, TPUT_LEN, RATE_LEN};
	static const char *const names[NPHASE] = {"100 B round trips", "1 MB one-way",
						  "100 B RPC rate"};
	struct perf_opts o = *d->o;
	struct homa_workload wl;
	struct perf_load_cfg cfg;
	struct perf_load_result r = {0};
	char spec[16], err[256] = "", addr[32];

	fprintf(stderr, "homa-perf demo: %-18s %-4s ... ", names[ph], perf_proto_name(p));
	snprintf(spec, sizeof(spec), "%u", lens[ph]);
	if (homa_workload_load(&wl, spec, NULL, err, sizeof(err)) != 0)
		goto out;
	if (perf_spawn_server(&d->child, d->self, perf_proto_name(p), d->port, o.poll) !=
	    0) {
		snprintf(err, sizeof(err), "%s server did not start", perf_proto_name(p));
		goto out_wl;
	}
	d->port = d->child.port; /* this one works: start there next time */
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", d->child.port);
	perf_addr_parse(&o.servers[0], addr);
	o.nservers = 1;
	phase_cfg(ph, &wl, d, &cfg, p);
	perf_run(&o, p, &cfg, &r, err, sizeof(err));
	perf_stop_server(&d->child);
	fill_cell(ph, &d->cells[ph][p], &r, d->child_cpu);
	perf_samples_free(&r.samples);
out_wl:
	homa_workload_free(&wl);
out:
	if (d->cells[ph][p].ok)
		fprintf(stderr, "ok\n");
	else
		fprintf(stderr, "FAILED (%s)\n", err[0] ? err : "no RPC completed");
	if (!d->cells[ph][p].ok && p == PERF_HOMA && !d->homa_err[0])
		keep_error(d, err[0] ? err : "no RPC completed");
}

/* a / b, or 0 when either side failed (printed as "-" / null). */
static double ratio(const struct cell *a, const struct cell *b, int second)
{
	double x = second ? a->b : a->a, y = second ? b->b : b->a;

	return a->ok && b->ok && y > 0 ? x / y : 0;
}

static void num(char *buf, size_t n, int ok, double v, const char *fmt)
{
	if (ok)
		snprintf(buf, n, fmt, v);
	else
		snprintf(buf, n, "%s", "-");
}

static void row(const char *label, const struct cell *c, int second, int nprotos,
		const char *fmt, double r1, double r2)
{
	char v[PERF_NPROTO][16], q1[16], q2[16];

	for (int p = 0; p < PERF_NPROTO; p++)
		num(v[p], sizeof(v[p]), p < nprotos && c[p].ok, second ? c[p].b : c[p].a,
		    fmt);
	num(q1, sizeof(q1), r1 > 0, r1, "%.2f");
	num(q2, sizeof(q2), r2 > 0, r2, "%.2f");
	printf("%-36s %9s %9s %9s %9s %9s\n", label, v[PERF_HOMA], v[PERF_TCP],
	       v[PERF_UDP], q1, q2);
}

static const char *verdict(double r, double limit, int at_most)
{
	if (r <= 0)
		return "n/a";
	return (at_most ? r <= limit : r >= limit) ? "met" : "MISSED";
}

static void print_table(const struct demo *d)
{
	const struct cell *rt = d->cells[RTT], *tp = d->cells[TPUT], *ra = d->cells[RATE];

	printf("\nhoma-perf demo: loopback, %ld CPUs, %s\n",
	       sysconf(_SC_NPROCESSORS_ONLN),
	       d->o->poll ? "busy-polling" : "blocking (--no-poll)");
	printf("%-36s %9s %9s %9s %9s %9s\n", "", "Homa", "TCP", "UDP", "Homa/UDP",
	       "Homa/TCP");
	row("100 B round trip P50 (us)", rt, 0, 3, "%.2f", ratio(&rt[0], &rt[2], 0),
	    ratio(&rt[0], &rt[1], 0));
	row("100 B round trip P99 (us)", rt, 1, 3, "%.2f", ratio(&rt[0], &rt[2], 1),
	    ratio(&rt[0], &rt[1], 1));
	row("1 MB one-way, 4 outstanding (Gbit/s)", tp, 0, 2, "%.2f", 0,
	    ratio(&tp[0], &tp[1], 0));
	row("100 B RPCs, 32 outstanding (kops/s)", ra, 0, 2, "%.1f", 0,
	    ratio(&ra[0], &ra[1], 0));
	row("CPU per RPC, client+server (us)", ra, 1, 2, "%.2f", 0,
	    ratio(&ra[0], &ra[1], 1));
	printf("targets: P50 <= 1.3x UDP %s; P50 <= TCP %s; throughput >= 0.8x TCP %s; "
	       "rate >= TCP %s\n",
	       verdict(ratio(&rt[0], &rt[2], 0), 1.3, 1),
	       verdict(ratio(&rt[0], &rt[1], 0), 1, 1),
	       verdict(ratio(&tp[0], &tp[1], 0), 0.8, 0),
	       verdict(ratio(&ra[0], &ra[1], 0), 1, 0));
	if (d->homa_err[0])
		printf("Homa FAILED: %s\n", d->homa_err);
}

static void json_num(const char *key, int ok, double v, int last)
{
	if (ok)
		printf("\"%s\":%.3f%s", key, v, last ? "" : ",");
	else
		printf("\"%s\":null%s", key, last ? "" : ",");
}

static void json_rtt(const struct cell *c, const char *name, int last)
{
	if (!c->ok) {
		printf("\"%s\":null%s", name, last ? "" : ",");
		return;
	}
	printf("\"%s\":{\"p50\":%.3f,\"p99\":%.3f}%s", name, c->a, c->b, last ? "" : ",");
}

static void print_json(const struct demo *d)
{
	const struct cell *rt = d->cells[RTT], *tp = d->cells[TPUT], *ra = d->cells[RATE];
	double r[4] = {ratio(&rt[0], &rt[2], 0), ratio(&rt[0], &rt[1], 0),
		       ratio(&tp[0], &tp[1], 0), ratio(&ra[0], &ra[1], 0)};

	printf("{\"rtt_us\":{");
	json_rtt(&rt[PERF_HOMA], "homa", 0);
	json_rtt(&rt[PERF_TCP], "tcp", 0);
	json_rtt(&rt[PERF_UDP], "udp", 1);
	printf("},\"tput_gbps\":{");
	json_num("homa", tp[0].ok, tp[0].a, 0);
	json_num("tcp", tp[1].ok, tp[1].a, 1);
	printf("},\"rpc_kops\":{");
	json_num("homa", ra[0].ok, ra[0].a, 0);
	json_num("tcp", ra[1].ok, ra[1].a, 1);
	printf("},\"cpu_us_per_rpc\":{");
	json_num("homa", ra[0].ok, ra[0].b, 0);
	json_num("tcp", ra[1].ok, ra[1].b, 1);
	printf("},\"ratios\":{");
	json_num("homa_udp_rtt_p50", r[0] > 0, r[0], 0);
	json_num("homa_tcp_rtt_p50", r[1] > 0, r[1], 0);
	json_num("homa_tcp_tput", r[2] > 0, r[2], 0);
	json_num("homa_tcp_rate", r[3] > 0, r[3], 1);
	printf("},\"poll\":%s,\"homa_ok\":%s", d->o->poll ? "true" : "false",
	       d->homa_err[0] ? "false" : "true");
	if (d->homa_err[0])
		printf(",\"homa_error\":\"%s\"", d->homa_err);
	printf("}\n");
}

int perf_demo_main(const struct perf_opts *o, const char *self)
{
	static struct demo d;
	static const enum perf_proto order[NPHASE][PERF_NPROTO] = {
	    {PERF_UDP, PERF_TCP, PERF_HOMA},
	    {PERF_TCP, PERF_HOMA},
	    {PERF_TCP, PERF_HOMA}};
	static const int counts[NPHASE] = {3, 2, 2};

	d.o = o;
	d.self = self;
	d.port = 10000 + (int)(getpid() % 10000) * 2;
	for (int ph = 0; ph < NPHASE; ph++)
		for (int i = 0; i < counts[ph]; i++)
			run_phase(&d, (enum phase)ph, order[ph][i]);
	if (o->json)
		print_json(&d);
	else
		print_table(&d);
	/* Homa failing is the one failure the demo exists to show. */
	for (int ph = 0; ph < NPHASE; ph++)
		for (int i = 0; i < counts[ph]; i++)
			if (!d.cells[ph][order[ph][i]].ok)
				return 1;
	return 0;
}
