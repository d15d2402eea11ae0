/*
 * perf_opts.h - command-line options of homa-perf. All modes share one
 * option table, so an option means the same thing everywhere; each mode then
 * checks that what it needs is present.
 */
#ifndef PERF_OPTS_H
#define PERF_OPTS_H

#include "perf_util.h"

#include <stddef.h>
#include <stdint.h>

#define PERF_MAX_SERVERS 64

enum perf_proto { PERF_HOMA, PERF_TCP, PERF_UDP, PERF_NPROTO };

struct perf_opts {
	int poll;    /* busy-poll (default); --no-poll or HOMA_POLL_USECS=0 clear it */
	int cpu;     /* --cpu: pin to this CPU (-1: no pinning) */
	int json;    /* --json */
	int port;    /* server: --port */
	int threads; /* server: --threads */
	unsigned protos; /* server: --protocols, bit per enum perf_proto */
	int ready_fd;	 /* server: --ready-fd, written once serving (demo) */
	struct perf_addr servers[PERF_MAX_SERVERS];
	int nservers;
	enum perf_proto proto;	  /* --protocol */
	const char *workload;	  /* --workload */
	double gbps;		  /* --gbps (open loop) */
	uint32_t client_max;	  /* --client-max (closed loop) */
	double seconds;		  /* --seconds */
	double warmup;		  /* --warmup seconds; < 0: the mode's default */
	double cooldown;	  /* --cooldown seconds: by-issue counting if > 0 */
	int one_way;		  /* --one-way */
	int64_t response_bytes;	  /* --response-bytes; -1: echo */
	uint64_t seed;		  /* --seed */
	const char *samples;	  /* --samples FILE */
	int tcp_conns;		  /* --tcp-conns, per server */
	uint32_t length;	  /* --length (rtt, tput) */
	uint64_t count;		  /* --count (rtt) */
	uint32_t outstanding;	  /* --outstanding (tput) */
	uint32_t max_outstanding; /* --max-outstanding (open-loop cap) */
	int progress;		  /* per-second lines; --quiet clears */
	int stats;		  /* --stats: print Homa counters at the end */
	int serve_port;		  /* client: --serve-port, also serve --protocol here */
	double start_delay;	  /* client: --start-delay seconds before the load */
};

/* Defaults for every field (see docs/perf.md). Reads HOMA_POLL_USECS. */
void perf_opts_default(struct perf_opts *o);

/*
 * Parses argv[1..argc) (argv[0] is the mode). Returns 0, 1 for --help, or -1
 * with a message in err.
 */
int perf_opts_parse(struct perf_opts *o, int argc, char **argv, char *err, size_t errlen);

const char *perf_proto_name(enum perf_proto p);
int perf_proto_parse(const char *s, enum perf_proto *p);

/* Applies --no-poll to the Homa runtime too (HOMA_POLL_USECS=0). */
void perf_opts_apply_env(const struct perf_opts *o);

#endif
