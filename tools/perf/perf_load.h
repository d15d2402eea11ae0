/*
 * perf_load.h - the load generator every client-side mode runs.
 *
 * Open loop (gbps > 0): requests arrive as a Poisson process whose rate makes
 * the mean request bytes per second equal the offered load; arrivals are
 * never delayed by completions, only by the outstanding-RPC cap that keeps
 * memory bounded (each arrival that finds the cap full is counted). Closed
 * loop (closed > 0): exactly that many RPCs are kept outstanding.
 *
 * One thread does everything: it draws, sends, and polls the transport. With
 * busy-polling it never sleeps; otherwise it blocks in the transport until
 * the next arrival is due.
 */
#ifndef PERF_LOAD_H
#define PERF_LOAD_H

#include "homa_workload.h"
#include "perf_stats.h"
#include "perf_transport.h"

struct perf_load_cfg {
	const struct homa_workload *wl;
	int nservers;
	double gbps;	      /* > 0: open loop at this rate of request bytes */
	uint32_t closed;      /* otherwise: RPCs kept outstanding */
	uint32_t resp_len;    /* PERF_RESP_ECHO or response bytes */
	uint64_t duration_ns; /* measured time, after the warm-up */
	uint64_t warmup_ns;   /* completions before this are not measured */
	/*
	 * > 0: by-issue counting. The load goes on this long after the window,
	 * and the RPCs measured are exactly those started inside the window,
	 * whenever they complete (up to the end of the cool-down). Otherwise the
	 * RPCs measured are those that complete inside the window.
	 */
	uint64_t cooldown_ns;
	uint64_t max_rpcs;	  /* stop after this many measured RPCs (0: none) */
	uint32_t max_outstanding; /* open-loop memory cap */
	uint64_t seed;
	int progress;		 /* one line per second on stderr */
	uint64_t rpc_timeout_ns; /* abandon an RPC after this (0: never) */
	uint64_t stall_ns;	 /* give up when nothing completes this long */
	/* Serving only (no requests sent) this long before the run starts and
	 * after it ends: a transport that also answers requests (homa-perf
	 * client --serve-port) keeps answering while the other hosts' runs start
	 * and end. */
	uint64_t idle_before_ns;
	uint64_t idle_after_ns;
	size_t max_samples;
	/*
	 * Optional: called with 1 when the measured window opens and with 0
	 * when it closes (the demo samples the server's CPU time there).
	 */
	void (*window)(void *arg, int open);
	void *window_arg;
};

/* Fills cfg with defaults: closed loop of 1, echo, 1 s, no warm-up, polling. */
void perf_load_cfg_default(struct perf_load_cfg *cfg);

#define PERF_DONE_BY_MAX 61

struct perf_load_result {
	struct perf_samples samples; /* measured completions */
	uint64_t sent;		     /* requests started */
	uint64_t completed;	     /* measured completions */
	uint64_t errors;	     /* RPCs that failed (by-start counting:
					of those started in the window) */
	uint64_t other_errors;	     /* by-start counting: failed RPCs started
					outside the window (not measured) */
	int first_rpc_error;	     /* errno of the first failed RPC */
	uint64_t timeouts;	     /* RPCs abandoned after rpc_timeout_ns */
	uint64_t cap_hits;	     /* arrivals delayed by max_outstanding */
	uint64_t req_bytes;	     /* wire bytes of measured requests */
	uint64_t resp_bytes;	     /* wire bytes of measured responses */
	uint64_t elapsed_ns;	     /* measured time actually run */
	/* By-issue counting only (cooldown_ns > 0): */
	uint64_t window_rpcs;	   /* requests started inside the window */
	uint64_t window_bytes;	   /* their wire bytes */
	uint64_t unfinished;	   /* of those, still outstanding at the end */
	uint64_t unfinished_bytes; /* their wire bytes */
	/*
	 * done_by_s[k]: wire bytes of window RPCs that completed by the end of
	 * the window plus k seconds (cumulative; k up to the cool-down, at most
	 * PERF_DONE_BY_MAX - 1); done_by_n entries are valid.
	 */
	uint64_t done_by_s[PERF_DONE_BY_MAX];
	uint32_t done_by_n;
	uint64_t cpu_ns; /* this process's CPU time in that window */
	int stalled;	 /* stopped because nothing completed */
	int error;	 /* first fatal error (-errno), 0 if none */
};

/*
 * Runs the load through client c. Returns 0 when the run completed (possibly
 * with failed RPCs, counted in r), -1 when it stopped early: a fatal
 * transport error or a stall (r says which). r->samples must be freed with
 * perf_samples_free().
 */
int perf_load_run(struct perf_client *c, const struct perf_load_cfg *cfg,
		  struct perf_load_result *r);

/* Request and response rates of a result. */
double perf_load_kops(const struct perf_load_result *r);
double perf_load_gbps(uint64_t bytes, const struct perf_load_result *r);

#endif
