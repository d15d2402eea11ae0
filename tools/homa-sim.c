/*
 * homa-sim - one open-loop experiment on the simulated network.
 *
 * Every host issues requests with Poisson arrivals (lengths from a workload,
 * destinations uniform among the other hosts) until --rpcs requests were
 * issued in total, then the run drains until every RPC finished and the
 * engines' leftover state expired. Prints a summary, or with --json exactly
 * one JSON object on stdout. The same options and seed print the same bytes;
 * the wall time goes to stderr for that reason.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "homa_sim.h"
#include "homa_workload.h"

struct options {
	struct homa_sim_config cfg;
	const char *workload;
	const char *workload_dir;
	const char *rpc_csv;
	int json;
};

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: homa-sim [options]\n"
	    "  --hosts N            hosts on the switch (16)\n"
	    "  --link-gbps G        link rate (10)\n"
	    "  --prop-ns NS         one-way propagation host<->switch (1000)\n"
	    "  --workload W         w1..w5, starve, or a fixed length in bytes (w4)\n"
	    "  --workload-dir DIR   where <W>_capped.csv live (data/workloads)\n"
	    "  --load F             offered load per uplink, 0..1 (0.5)\n"
	    "  --rpcs N             requests to issue in total (1000)\n"
	    "  --seed S             random seed (1)\n"
	    "  --loss P --dup P --reorder P   fault rates per packet (0)\n"
	    "  --reorder-max-ns NS  largest extra delay of a reordered packet (10000)\n"
	    "  --priorities K       priority levels the engines use, 1..8 (8)\n"
	    "  --response-bytes B   response length (100)\n"
	    "  --switch-buffer B    shared switch buffer in bytes (16 MiB)\n"
	    "  --unsched-bytes B    engine unsched_bytes (40000)\n"
	    "  --max-incoming B     engine max_incoming (400000)\n"
	    "  --rcvbuf-mb M        receive region per socket in MiB (64)\n"
	    "  --no-verify          do not fill and check payload patterns\n"
	    "  --rpc-csv FILE       write one CSV line per RPC (times, slowdown)\n"
	    "  --json               print one JSON object\n");
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || end == s || *end ? -1 : 0;
}

static int parse_double(const char *s, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	return errno || end == s || *end ? -1 : 0;
}

/* Options that take an integer. Returns 1 if name was one, -1 on a bad value. */
static int parse_int_opt(struct homa_sim_config *c, const char *name, const char *val)
{
	uint64_t v;

	if (parse_u64(val, &v))
		return -1;
	if (!strcmp(name, "--hosts"))
		c->hosts = (uint32_t)v;
	else if (!strcmp(name, "--prop-ns"))
		c->prop_ns = v;
	else if (!strcmp(name, "--rpcs"))
		c->rpcs = v;
	else if (!strcmp(name, "--seed"))
		c->seed = v;
	else if (!strcmp(name, "--reorder-max-ns"))
		c->reorder_max_ns = v;
	else if (!strcmp(name, "--priorities"))
		c->settings.num_priorities = (uint32_t)v;
	else if (!strcmp(name, "--response-bytes"))
		c->response_bytes = (uint32_t)v;
	else if (!strcmp(name, "--switch-buffer"))
		c->switch_buffer_bytes = v;
	else if (!strcmp(name, "--unsched-bytes"))
		c->settings.unsched_bytes = (uint32_t)v;
	else if (!strcmp(name, "--max-incoming"))
		c->settings.max_incoming = (uint32_t)v;
	else if (!strcmp(name, "--fail-allocs"))
		c->fail_allocs = v;
	else if (!strcmp(name, "--rcvbuf-mb"))
		c->rcvbuf_bytes = (size_t)v << 20;
	else
		return 0;
	return 1;
}

static int parse_double_opt(struct homa_sim_config *c, const char *name, const char *val)
{
	static const char *const names[] = {"--link-gbps", "--load", "--loss", "--dup",
					    "--reorder"};
	double v;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]) && strcmp(name, names[i]); i++)
		;
	if (i == sizeof(names) / sizeof(names[0]))
		return 0;
	if (parse_double(val, &v))
		return -1;
	if (!strcmp(name, "--link-gbps"))
		c->link_gbps = v;
	else if (!strcmp(name, "--load"))
		c->load = v;
	else if (!strcmp(name, "--loss"))
		c->loss = v;
	else if (!strcmp(name, "--dup"))
		c->dup = v;
	else if (!strcmp(name, "--reorder"))
		c->reorder = v;
	else
		return 0;
	return 1;
}

static int parse_args(int argc, char **argv, struct options *o)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		int r;

		if (!strcmp(a, "--json") || !strcmp(a, "--no-verify")) {
			o->json |= !strcmp(a, "--json");
			o->cfg.verify_payload &= strcmp(a, "--no-verify") != 0;
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			exit(0);
		}
		if (!val) {
			fprintf(stderr, "homa-sim: %s needs a value\n", a);
			return -1;
		}
		i++;
		if (!strcmp(a, "--workload")) {
			o->workload = val;
			continue;
		}
		if (!strcmp(a, "--workload-dir")) {
			o->workload_dir = val;
			continue;
		}
		if (!strcmp(a, "--rpc-csv")) {
			o->rpc_csv = val;
			continue;
		}
		/* Real-valued options first: "0.5" is a bad integer. */
		r = parse_double_opt(&o->cfg, a, val);
		if (r == 0)
			r = parse_int_opt(&o->cfg, a, val);
		if (r <= 0) {
			fprintf(stderr, "homa-sim: %s %s\n",
				r ? "bad value for" : "unknown option", a);
			return -1;
		}
	}
	return 0;
}

static double wall_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct options o = {.workload = "w4", .workload_dir = NULL};
	struct homa_sim_results res;
	struct homa_workload w;
	char err[256];
	double t0;
	int rc;

	homa_sim_config_default(&o.cfg);
	o.cfg.hosts = 16;
	o.cfg.rpcs = 1000;
	if (parse_args(argc, argv, &o)) {
		usage(stderr);
		return 2;
	}
	if (homa_workload_load(&w, o.workload, o.workload_dir, err, sizeof(err))) {
		fprintf(stderr, "homa-sim: %s\n", err);
		return 2;
	}
	o.cfg.workload = &w;
	if (o.rpc_csv && !(o.cfg.rpc_log = fopen(o.rpc_csv, "w"))) {
		fprintf(stderr, "homa-sim: cannot write %s\n", o.rpc_csv);
		homa_workload_free(&w);
		return 2;
	}
	t0 = wall_seconds();
	rc = homa_sim_experiment(&o.cfg, &res);
	if (rc && rc != -ETIME) {
		fprintf(stderr, "homa-sim: %s\n",
			rc == -EINVAL ? "invalid configuration"
				      : "cannot build the network");
		homa_workload_free(&w);
		return 2;
	}
	if (o.json)
		homa_sim_print_json(&o.cfg, &res, stdout);
	else
		homa_sim_print_text(&o.cfg, &res, stdout);
	fprintf(stderr, "homa-sim: wall time %.2f s%s\n", wall_seconds() - t0,
		rc ? " (run did not complete: time limit)" : "");
	if (o.cfg.rpc_log)
		fclose(o.cfg.rpc_log);
	homa_workload_free(&w);
	return rc ? 1 : 0;
}
