/* perf_modes.h - the homa-perf modes, one entry point each. */
#ifndef PERF_MODES_H
#define PERF_MODES_H

#include "perf_opts.h"

/* Each returns the process exit status. */
int perf_server_main(const struct perf_opts *o);
int perf_client_main(const struct perf_opts *o);
/* Serves protocol p on port in background threads of this process (blocking
 * or polling as o says); 0 or -1. perf_server_bg_stop() ends them. */
int perf_server_bg_start(const struct perf_opts *o, int port, enum perf_proto p);
void perf_server_bg_stop(void);
int perf_rtt_main(const struct perf_opts *o);
int perf_tput_main(const struct perf_opts *o);
int perf_demo_main(const struct perf_opts *o, const char *self);

/*
 * Opens a client of protocol p to o's servers, runs cfg through it and closes
 * it. Returns 0, or -1 with the reason in err (r is valid whenever the run
 * started: see r->error and r->stalled).
 */
struct perf_load_cfg;
struct perf_load_result;
int perf_run(const struct perf_opts *o, enum perf_proto p,
	     const struct perf_load_cfg *cfg, struct perf_load_result *r, char *err,
	     size_t errlen);

/* Response length of one-way traffic: a token reply, as in the reference. */
#define PERF_ONE_WAY_RESP 100u

/* Owned by the cluster engineer (tools/perf_cluster.c). */
int perf_cluster_main(int argc, char **argv);

#endif
