/*
 * homa-perf - the benchmark tool: Homa next to TCP and raw UDP on real
 * sockets. See docs/perf.md.
 */
#define _GNU_SOURCE
#include "perf_modes.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char usage_text[] =
    "usage: homa-perf MODE [options]\n"
    "  server --port P [--threads N] [--protocols homa,tcp,udp]\n"
    "      Homa and TCP echo on P, raw UDP echo on P+1\n"
    "  client --server HOST:PORT[,HOST:PORT...] --protocol homa|tcp\n"
    "         --workload w1..w5|starve|BYTES (--gbps G | --client-max N) --seconds S\n"
    "         [--one-way] [--response-bytes B] [--seed S] [--samples FILE] [--json]\n"
    "         [--tcp-conns N] [--max-outstanding N] [--warmup S] [--cooldown S]\n"
    "         [--serve-port P [--start-delay S]]  (also serve --protocol on P,\n"
    "         in this process: one Homa engine per host; Homa: on the load socket)\n"
    "  rtt    --server HOST:PORT --length B --count N --protocol homa|tcp|udp\n"
    "         [--samples FILE]\n"
    "  tput   --server HOST:PORT --length B --seconds S --protocol homa|tcp\n"
    "         [--outstanding N]\n"
    "  demo   [--json]    own loopback server; the issue's headline table\n"
    "  cluster ...        emulated cluster (see homa-perf cluster --help)\n"
    "common: --no-poll (block instead of busy-polling; also HOMA_POLL_USECS=0),\n"
    "        --cpu N (pin), --quiet (no per-second lines), --json,\n"
    "        --stats (Homa engine and runtime counters at the end)\n";

/* This binary's path, for the demo to start its server with. */
static void self_path(char *buf, size_t len, const char *argv0)
{
	ssize_t n = readlink("/proc/self/exe", buf, len - 1);

	if (n > 0)
		buf[n] = '\0';
	else
		snprintf(buf, len, "%s", argv0);
}

static int dispatch(const char *mode, const struct perf_opts *o, const char *argv0)
{
	char self[PATH_MAX];

	if (strcmp(mode, "server") == 0)
		return perf_server_main(o);
	if (strcmp(mode, "client") == 0)
		return perf_client_main(o);
	if (strcmp(mode, "rtt") == 0)
		return perf_rtt_main(o);
	if (strcmp(mode, "tput") == 0)
		return perf_tput_main(o);
	if (strcmp(mode, "demo") == 0) {
		self_path(self, sizeof(self), argv0);
		return perf_demo_main(o, self);
	}
	fprintf(stderr, "homa-perf: unknown mode '%s'\n%s", mode, usage_text);
	return 2;
}

int main(int argc, char **argv)
{
	struct perf_opts o;
	char err[256];
	int rc;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(usage_text, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "cluster") == 0)
		return perf_cluster_main(argc - 1, argv + 1);
	perf_opts_default(&o);
	rc = perf_opts_parse(&o, argc - 1, argv + 1, err, sizeof(err));
	if (rc == 1) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (rc < 0) {
		fprintf(stderr, "homa-perf %s: %s\n%s", argv[1], err, usage_text);
		return 2;
	}
	return dispatch(argv[1], &o, argv[0]);
}
