/* perf_demo_print.c - the demo's table, ratios, verdicts and JSON. */
#define _GNU_SOURCE
#include "perf_demo.h"

#include "perf_util.h"

#include <stdio.h>
#include <unistd.h>

int perf_cell_ok(const struct perf_cell *c)
{
	return c->rpcs > 0 && !c->failed;
}

void perf_demo_finish(struct perf_demo_result *d)
{
	struct perf_pct p;

	for (int i = 0; i < PERF_NPROTO; i++) {
		struct perf_cell *rt = &d->cells[PERF_RTT][i];
		struct perf_cell *tp = &d->cells[PERF_TPUT][i];
		struct perf_cell *ra = &d->cells[PERF_RATE][i];

		perf_pct_compute(&rt->samples, 0, UINT32_MAX, &p);
		rt->a = perf_us(p.p50);
		rt->b = perf_us(p.p99);
		tp->a = tp->ns ? (double)tp->bytes * 8 / (double)tp->ns : 0;
		ra->a = ra->ns ? (double)ra->rpcs / ((double)ra->ns / 1e9) / 1e3 : 0;
		ra->b = ra->rpcs ? perf_us((double)ra->cpu_ns / (double)ra->rpcs) : 0;
	}
}

/* x / y of the first (b: second) figures, or 0 when either failed. */
static double ratio(const struct perf_cell *x, const struct perf_cell *y, int b)
{
	double u = b ? x->b : x->a, v = b ? y->b : y->a;

	return perf_cell_ok(x) && perf_cell_ok(y) && v > 0 ? u / v : 0;
}

static void num(char *buf, size_t n, int ok, double v, const char *fmt)
{
	if (ok)
		snprintf(buf, n, fmt, v);
	else
		snprintf(buf, n, "%s", "-");
}

static void row(const char *label, const struct perf_cell *c, int b, int nprotos,
		const char *fmt, double r_udp, double r_tcp)
{
	char v[PERF_NPROTO][16], q1[16], q2[16];

	for (int p = 0; p < PERF_NPROTO; p++)
		num(v[p], sizeof(v[p]), p < nprotos && perf_cell_ok(&c[p]),
		    b ? c[p].b : c[p].a, fmt);
	num(q1, sizeof(q1), r_udp > 0, r_udp, "%.2f");
	num(q2, sizeof(q2), r_tcp > 0, r_tcp, "%.2f");
	printf("%-38s %9s %9s %9s %9s %9s\n", label, v[PERF_HOMA], v[PERF_TCP],
	       v[PERF_UDP], q1, q2);
}

static const char *verdict(double r, double limit, int at_most)
{
	if (r <= 0)
		return "n/a";
	return (at_most ? r <= limit : r >= limit) ? "met" : "MISSED";
}

void perf_demo_print_table(const struct perf_demo_result *d)
{
	const struct perf_cell *rt = d->cells[PERF_RTT], *tp = d->cells[PERF_TPUT];
	const struct perf_cell *ra = d->cells[PERF_RATE];
	const int H = PERF_HOMA, T = PERF_TCP, U = PERF_UDP;

	printf("\nhoma-perf demo: loopback, %ld CPUs, %s, interleaved rounds: %d per "
	       "round-trip figure, %d per other figure\n",
	       sysconf(_SC_NPROCESSORS_ONLN),
	       d->poll ? "busy-polling" : "blocking (--no-poll)", d->rtt_rounds,
	       d->rounds);
	printf("%-38s %9s %9s %9s %9s %9s\n", "", "Homa", "TCP", "UDP", "Homa/UDP",
	       "Homa/TCP");
	row("100 B round trip P50 (us)", rt, 0, 3, "%.2f", ratio(&rt[H], &rt[U], 0),
	    ratio(&rt[H], &rt[T], 0));
	row("100 B round trip P99 (us)", rt, 1, 3, "%.2f", ratio(&rt[H], &rt[U], 1),
	    ratio(&rt[H], &rt[T], 1));
	row("1 MB one-way, 4 outstanding (Gbit/s)", tp, 0, 2, "%.2f", 0,
	    ratio(&tp[H], &tp[T], 0));
	row("100 B RPCs, 32 outstanding (kops/s)", ra, 0, 2, "%.1f", 0,
	    ratio(&ra[H], &ra[T], 0));
	row("CPU per RPC, client+server (us)", ra, 1, 2, "%.2f", 0,
	    ratio(&ra[H], &ra[T], 1));
	printf("targets: Homa P50 <= 1.3x UDP %s; P50 <= TCP %s; 1 MB throughput >= 0.8x "
	       "TCP %s; "
	       "rate >= TCP %s\n",
	       verdict(ratio(&rt[H], &rt[U], 0), 1.3, 1),
	       verdict(ratio(&rt[H], &rt[T], 0), 1, 1),
	       verdict(ratio(&tp[H], &tp[T], 0), 0.8, 0),
	       verdict(ratio(&ra[H], &ra[T], 0), 1, 0));
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

static void json_rtt(const struct perf_cell *c, const char *name, int last)
{
	if (!perf_cell_ok(c))
		printf("\"%s\":null%s", name, last ? "" : ",");
	else
		printf("\"%s\":{\"p50\":%.3f,\"p99\":%.3f}%s", name, c->a, c->b,
		       last ? "" : ",");
}

/* "homa":x,"tcp":y of one phase's first (b: second) figure. */
static void json_pair(const struct perf_cell *c, int b)
{
	json_num("homa", perf_cell_ok(&c[PERF_HOMA]), b ? c[PERF_HOMA].b : c[PERF_HOMA].a,
		 0);
	json_num("tcp", perf_cell_ok(&c[PERF_TCP]), b ? c[PERF_TCP].b : c[PERF_TCP].a, 1);
}

void perf_demo_print_json(const struct perf_demo_result *d)
{
	const struct perf_cell *rt = d->cells[PERF_RTT], *tp = d->cells[PERF_TPUT];
	const struct perf_cell *ra = d->cells[PERF_RATE];
	double r[4] = {ratio(&rt[PERF_HOMA], &rt[PERF_UDP], 0),
		       ratio(&rt[PERF_HOMA], &rt[PERF_TCP], 0),
		       ratio(&tp[PERF_HOMA], &tp[PERF_TCP], 0),
		       ratio(&ra[PERF_HOMA], &ra[PERF_TCP], 0)};

	printf("{\"rtt_us\":{");
	json_rtt(&rt[PERF_HOMA], "homa", 0);
	json_rtt(&rt[PERF_TCP], "tcp", 0);
	json_rtt(&rt[PERF_UDP], "udp", 1);
	printf("},\"tput_gbps\":{");
	json_pair(tp, 0);
	printf("},\"rpc_kops\":{");
	json_pair(ra, 0);
	printf("},\"cpu_us_per_rpc\":{");
	json_pair(ra, 1);
	printf("},\"ratios\":{");
	json_num("homa_udp_rtt_p50", r[0] > 0, r[0], 0);
	json_num("homa_tcp_rtt_p50", r[1] > 0, r[1], 0);
	json_num("homa_tcp_tput", r[2] > 0, r[2], 0);
	json_num("homa_tcp_rate", r[3] > 0, r[3], 1);
	printf("},\"rounds\":%d,\"rtt_rounds\":%d,\"poll\":%s,\"homa_ok\":%s", d->rounds,
	       d->rtt_rounds, d->poll ? "true" : "false",
	       d->homa_err[0] ? "false" : "true");
	if (d->homa_err[0])
		printf(",\"homa_error\":\"%s\"", d->homa_err);
	printf("}\n");
}
