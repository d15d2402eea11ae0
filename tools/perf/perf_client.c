/*
 * perf_client.c - the client-side modes: `client` (workload load, open or
 * closed loop), `rtt` (ping-pong latency) and `tput` (one-way throughput).
 * All three are the same load loop with different settings, so their numbers
 * are directly comparable.
 */
#define _GNU_SOURCE
#include "perf_frame.h"
#include "perf_load.h"
#include "perf_modes.h"
#include "perf_report.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define STALL_NS       (5 * PERF_NS_PER_SEC)
#define UDP_TIMEOUT_NS PERF_NS_PER_SEC /* a lost datagram is a lost RPC */

static int open_client(const struct perf_opts *o, enum perf_proto p,
		       struct perf_client *c, char *err, size_t errlen)
{
	struct perf_client_cfg cc = {.servers = o->servers,
				     .nservers = o->nservers,
				     .tcp_conns = o->tcp_conns,
				     .poll = o->poll,
				     .serve_port = p == PERF_HOMA ? o->serve_port : 0};

	if (p == PERF_TCP)
		return perf_tcp_client_open(c, &cc, err, errlen);
	if (p == PERF_UDP)
		return perf_udp_client_open(c, &cc, err, errlen);
	return perf_homa_client_open(c, &cc, err, errlen);
}

int perf_run(const struct perf_opts *o, enum perf_proto p,
	     const struct perf_load_cfg *cfg, struct perf_load_result *r, char *err,
	     size_t errlen)
{
	struct perf_client c;
	int rc;

	memset(r, 0, sizeof(*r));
	signal(SIGPIPE, SIG_IGN);
	perf_opts_apply_env(o);
	if (open_client(o, p, &c, err, errlen) != 0)
		return -1;
	/* Pinned only now: threads the transport started keep every CPU. */
	perf_pin_cpu(o->cpu);
	rc = perf_load_run(&c, cfg, r);
	perf_unpin();
	c.ops->close(c.impl);
	if (o->stats && p == PERF_HOMA)
		perf_homa_print_stats(stderr, r->sent);
	if (rc != 0)
		snprintf(err, errlen, "%s: %s", perf_proto_name(p),
			 perf_report_failure(r));
	return rc;
}

/* Settings every client-side mode shares. */
static void base_cfg(const struct perf_opts *o, struct perf_load_cfg *cfg,
		     const struct homa_workload *wl, double default_warmup)
{
	perf_load_cfg_default(cfg);
	cfg->wl = wl;
	cfg->nservers = o->nservers;
	cfg->duration_ns = (uint64_t)(o->seconds * 1e9);
	cfg->warmup_ns = (uint64_t)((o->warmup >= 0 ? o->warmup : default_warmup) * 1e9);
	cfg->cooldown_ns = (uint64_t)(o->cooldown * 1e9);
	cfg->seed = o->seed;
	cfg->progress = o->progress;
	cfg->max_outstanding = o->max_outstanding;
	cfg->stall_ns = STALL_NS;
	cfg->rpc_timeout_ns = o->proto == PERF_UDP ? UDP_TIMEOUT_NS : 0;
}

static int need_servers(const struct perf_opts *o, const char *mode, int max)
{
	if (o->nservers == 0 || o->nservers > max) {
		fprintf(stderr, "homa-perf %s: --server HOST:PORT%s required\n", mode,
			max > 1 ? "[,HOST:PORT...]" : " (one)");
		return -1;
	}
	if (o->proto == PERF_UDP && o->length > PERF_MAX_UDP) {
		fprintf(stderr, "homa-perf %s: udp messages are limited to %u bytes\n",
			mode, PERF_MAX_UDP);
		return -1;
	}
	return 0;
}

static int load_workload(const char *spec, struct homa_workload *wl)
{
	char err[256];

	if (homa_workload_load(wl, spec, NULL, err, sizeof(err)) == 0)
		return 0;
	fprintf(stderr, "homa-perf: %s\n", err);
	return -1;
}

/* ------------------------------------------------------------------ client */

static int client_check(const struct perf_opts *o)
{
	if (need_servers(o, "client", PERF_MAX_SERVERS) != 0)
		return -1;
	if ((o->gbps > 0) == (o->client_max > 0)) {
		fprintf(stderr,
			"homa-perf client: give exactly one of --gbps G (open loop) "
			"and --client-max N (closed loop)\n");
		return -1;
	}
	if (o->proto == PERF_UDP) {
		fprintf(stderr,
			"homa-perf client: udp is only a floor for rtt; use homa or "
			"tcp\n");
		return -1;
	}
	return 0;
}

static void client_print(const struct perf_opts *o, const struct homa_workload *wl,
			 const struct perf_load_result *r)
{
	char title[160];

	if (!o->json) {
		snprintf(title, sizeof(title), "%s %s", perf_proto_name(o->proto),
			 wl->name);
		perf_report_text(stdout, title, r, 1);
		return;
	}
	printf("{\"mode\":\"client\",\"protocol\":\"%s\",\"workload\":\"%s\","
	       "\"mean_length\":%.1f,\"servers\":%d,\"offered_gbps\":%.4f,\"client_max\":"
	       "%u,",
	       perf_proto_name(o->proto), wl->name, wl->mean, o->nservers, o->gbps,
	       o->client_max);
	perf_report_json(stdout, r, 1);
	printf("}\n");
}

int perf_client_main(const struct perf_opts *o)
{
	struct timespec delay;
	struct homa_workload wl;
	struct perf_load_cfg cfg;
	struct perf_load_result r;
	char err[256];
	int rc;

	if (client_check(o) != 0 || load_workload(o->workload, &wl) != 0)
		return 2;
	base_cfg(o, &cfg, &wl, 0);
	cfg.gbps = o->gbps;
	cfg.closed = o->client_max;
	cfg.resp_len = o->response_bytes > 0 ? (uint32_t)o->response_bytes
		       : o->one_way	     ? PERF_ONE_WAY_RESP
					     : PERF_RESP_ECHO;
	if (o->progress)
		fprintf(stderr, "homa-perf client: %s, workload %s (mean %.0f B), %s\n",
			perf_proto_name(o->proto), wl.name, wl.mean,
			o->gbps > 0 ? "open loop" : "closed loop");
	delay.tv_sec = (time_t)o->start_delay;
	delay.tv_nsec = (long)((o->start_delay - (double)delay.tv_sec) * 1e9);
	if (o->serve_port && o->proto == PERF_HOMA) {
		/* The load socket itself serves (open_client binds it): one
		 * socket and one thread per process, as a Homa application
		 * would have; it answers while waiting for the others too. */
		cfg.idle_before_ns = cfg.idle_after_ns =
		    (uint64_t)delay.tv_sec * PERF_NS_PER_SEC + (uint64_t)delay.tv_nsec;
	} else if (o->serve_port) {
		if (o->proto == PERF_UDP ||
		    perf_server_bg_start(o, o->serve_port, o->proto) != 0) {
			fprintf(stderr, "homa-perf client: cannot serve %s on port %d\n",
				perf_proto_name(o->proto), o->serve_port);
			homa_workload_free(&wl);
			return 1;
		}
		/* Let the other hosts' processes start serving too. */
		nanosleep(&delay, NULL);
	}
	rc = perf_run(o, o->proto, &cfg, &r, err, sizeof(err));
	if (o->serve_port && o->proto != PERF_HOMA) {
		/* Keep serving while the other hosts' runs end too. */
		nanosleep(&delay, NULL);
		perf_server_bg_stop();
	}
	if (rc != 0)
		fprintf(stderr, "homa-perf client: %s\n", err);
	if (r.samples.n || rc == 0)
		client_print(o, &wl, &r);
	if (o->samples && perf_samples_write(&r.samples, o->samples) != 0) {
		fprintf(stderr, "homa-perf client: %s: %s\n", o->samples,
			strerror(errno));
		rc = -1;
	}
	perf_samples_free(&r.samples);
	homa_workload_free(&wl);
	return rc ? 1 : 0;
}

/* --------------------------------------------------------------------- rtt */

int perf_rtt_main(const struct perf_opts *o)
{
	struct homa_workload wl;
	struct perf_load_cfg cfg;
	struct perf_load_result r;
	struct perf_pct p;
	char spec[16], err[256];

	snprintf(spec, sizeof(spec), "%u", o->length);
	if (need_servers(o, "rtt", 1) != 0 || load_workload(spec, &wl) != 0)
		return 2;
	base_cfg(o, &cfg, &wl, 0.1);
	cfg.max_rpcs = o->count;
	if (perf_run(o, o->proto, &cfg, &r, err, sizeof(err)) != 0)
		fprintf(stderr, "homa-perf rtt: %s\n", err);
	perf_pct_compute(&r.samples, 0, UINT32_MAX, &p);
	if (o->samples && perf_samples_write(&r.samples, o->samples) != 0)
		fprintf(stderr, "homa-perf rtt: %s: %s\n", o->samples, strerror(errno));
	if (o->json)
		printf(
		    "{\"mode\":\"rtt\",\"protocol\":\"%s\",\"length\":%u,\"count\":%zu,"
		    "\"p50_us\":%.3f,\"p99_us\":%.3f,\"p999_us\":%.3f,\"min_us\":%.3f}\n",
		    perf_proto_name(o->proto), o->length, p.count, perf_us(p.p50),
		    perf_us(p.p99), perf_us(p.p999), perf_us(p.min));
	else
		printf(
		    "rtt %s %u B: P50 %.2f us  P99 %.2f us  P99.9 %.2f us  min %.2f us  "
		    "(%zu RPCs)\n",
		    perf_proto_name(o->proto), o->length, perf_us(p.p50), perf_us(p.p99),
		    perf_us(p.p999), perf_us(p.min), p.count);
	perf_samples_free(&r.samples);
	homa_workload_free(&wl);
	return p.count ? 0 : 1;
}

/* -------------------------------------------------------------------- tput */

int perf_tput_main(const struct perf_opts *o)
{
	struct homa_workload wl;
	struct perf_load_cfg cfg;
	struct perf_load_result r;
	char spec[16], err[256];
	int rc;

	snprintf(spec, sizeof(spec), "%u", o->length);
	if (need_servers(o, "tput", 1) != 0 || load_workload(spec, &wl) != 0)
		return 2;
	base_cfg(o, &cfg, &wl, 0.2);
	cfg.closed = o->outstanding;
	cfg.resp_len =
	    o->response_bytes > 0 ? (uint32_t)o->response_bytes : PERF_ONE_WAY_RESP;
	rc = perf_run(o, o->proto, &cfg, &r, err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "homa-perf tput: %s\n", err);
	if (o->json)
		printf("{\"mode\":\"tput\",\"protocol\":\"%s\",\"length\":%u,"
		       "\"outstanding\":%u,\"gbps\":%.4f,\"rpcs\":%llu}\n",
		       perf_proto_name(o->proto), o->length, o->outstanding,
		       perf_load_gbps(r.req_bytes, &r), (unsigned long long)r.completed);
	else
		printf("tput %s %u B x %u outstanding: %.3f Gbit/s (%llu messages in "
		       "%.2f s)\n",
		       perf_proto_name(o->proto), o->length, o->outstanding,
		       perf_load_gbps(r.req_bytes, &r), (unsigned long long)r.completed,
		       (double)r.elapsed_ns / 1e9);
	perf_samples_free(&r.samples);
	homa_workload_free(&wl);
	return rc == 0 && r.completed ? 0 : 1;
}
