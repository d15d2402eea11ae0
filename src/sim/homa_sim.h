/*
 * homa_sim.h - a deterministic discrete-event network that runs the real
 * Homa engine (homa_core.h) on every host.
 *
 * Topology: N hosts, each with one full-duplex link (rate, propagation delay)
 * to one output-queued switch. Every output port has 8 strict-priority queues
 * (Homa level 7 first) and all ports share one finite buffer. Faults (loss,
 * duplication, reordering) are drawn per packet at the switch ingress from a
 * seeded generator; tests can also filter packets, crash and restart hosts and
 * make allocations fail.
 *
 * Every host runs one engine with a server socket (bound to server_port) and
 * a client socket, and a small application: the server answers every request
 * at once with response_bytes; the client issues requests either one by one
 * (homa_sim_send_rpc) or as open-loop Poisson load (homa_sim_start_load).
 * Payloads carry a pattern that the receiving application verifies.
 *
 * Time is virtual (nanoseconds) and jumps from event to event; events at the
 * same time run in the order they were scheduled, so a run depends only on its
 * configuration and seed. docs/simulator.md describes the model and its
 * defaults.
 */
#ifndef HOMA_SIM_H
#define HOMA_SIM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "homa/homa_core.h"
#include "homa_workload.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes a packet occupies on a link beyond its Homa bytes: IPv4 + Ethernet
 * header, FCS, preamble and inter-packet gap. */
#define HOMA_SIM_IP_BYTES    20
#define HOMA_SIM_FRAME_BYTES 42
#define HOMA_SIM_MTU	     1500
#define HOMA_SIM_MAX_ERRNO   256
#define HOMA_SIM_MAX_BUCKETS 16

struct homa_sim;

struct homa_sim_config {
	uint32_t hosts;		      /* 2 */
	double link_gbps;	      /* 10 */
	uint64_t prop_ns;	      /* 1000: one-way propagation, host <-> switch */
	uint64_t switch_buffer_bytes; /* 16 MiB, shared by all ports */
	double loss;		      /* 0: drop probability per packet */
	double dup;		      /* 0: duplication probability per packet */
	double reorder;		      /* 0: probability of an extra random delay */
	uint64_t reorder_max_ns;      /* 10000: the extra delay is uniform below this */
	uint64_t seed;		      /* 1 */
	uint16_t server_port;	      /* 1000 */
	size_t rcvbuf_bytes;	      /* 64 MiB per socket, mapped lazily */
	uint32_t response_bytes;      /* 100 */
	int verify_payload;	      /* 1: fill and check message patterns */
	uint64_t fail_allocs;	      /* 0; n: host h fails every (n + h)-th allocation */
	/* Engine settings; homa_sim_config_default() sets link_mbps and
	 * max_packet_bytes from the link (homa_sim_new() redoes link_mbps). */
	struct homa_settings settings;
	/* Open-loop load (homa_sim_start_load). */
	const struct homa_workload *workload; /* not owned */
	double load;			      /* 0.5: fraction of each uplink offered */
	uint64_t rpcs;			      /* total requests to issue */
	FILE *rpc_log; /* homa_sim_experiment: per-RPC CSV here if set (not owned) */
};

/* What happens to a packet (filter callback). */
struct homa_sim_pkt {
	uint32_t src, dst; /* host indexes */
	int priority;	   /* Homa level 0..7 */
	uint32_t len;	   /* Homa bytes (header + payload) */
	const uint8_t *bytes;
};

#define HOMA_SIM_PASS 0
#define HOMA_SIM_DROP 1

/*
 * Called for every packet at the switch ingress, before the random faults.
 * Returns HOMA_SIM_PASS or HOMA_SIM_DROP; may add *delay_ns of extra delay.
 */
typedef int (*homa_sim_filter_fn)(void *ctx, const struct homa_sim_pkt *p, uint64_t now,
				  uint64_t *delay_ns);

/* Per-RPC record kept by the client application. */
enum homa_sim_rpc_state {
	HOMA_SIM_RPC_PENDING = 0,
	HOMA_SIM_RPC_DONE = 1,
	HOMA_SIM_RPC_FAILED = 2, /* the engine reported an error */
	HOMA_SIM_RPC_LOST = 3,	 /* the client host crashed first */
};

struct homa_sim_rpc {
	uint32_t client, server;
	uint32_t length; /* request bytes */
	int state;	 /* enum homa_sim_rpc_state */
	int error;	 /* positive errno when FAILED */
	uint64_t id;	 /* the client engine's RPC id */
	uint64_t start_ns, end_ns;
};

struct homa_sim_bucket {
	uint32_t max_length;
	uint64_t count;
	double p50, p99;
};

struct homa_sim_results {
	uint64_t rpcs_requested, rpcs_completed, rpcs_failed, rpcs_lost;
	uint64_t send_errors; /* homa_sock_send_request refused */
	uint64_t errors[HOMA_SIM_MAX_ERRNO];
	uint64_t duplicate_executions;
	uint64_t corrupted_messages;
	uint64_t reply_errors; /* homa_sock_reply refused */
	uint64_t unexpected_messages;
	/* Network. */
	uint64_t pkts_sent, pkts_delivered, wire_bytes;
	uint64_t drops_loss, drops_buffer, drops_filter, drops_down, dups, reorders;
	uint64_t switch_peak_queue_bytes; /* whole shared buffer */
	uint64_t port_peak_max_bytes;	  /* the fullest output port */
	uint32_t port_peak_max_host;
	/* Grant bound (homa_engine_grant_state), sampled after every input. */
	uint64_t grant_samples, grant_violations, grant_max_incoming;
	double grant_max_ratio;
	/* Engines' counters, summed (crashed engines included). */
	struct homa_stats stats;
	/* Memory. */
	uint64_t alloc_failures_injected;
	uint64_t peak_engine_bytes; /* largest single engine footprint seen */
	/* End state (homa_sim_finish). */
	uint64_t rpcs_leaked, state_bytes_at_end, bytes_leaked;
	/* Time. */
	uint64_t sim_ns, events;
	/* Slowdown (homa_sim_compute_slowdown). */
	double slowdown_p50, slowdown_p99, slowdown_mean;
	uint64_t slowdown_count;
	struct homa_sim_bucket buckets[HOMA_SIM_MAX_BUCKETS];
	uint32_t num_buckets;
};

/* Fills *c with the documented defaults (engine settings included). */
void homa_sim_config_default(struct homa_sim_config *c);

/* Creates the network and every host. Returns 0, -EINVAL or -ENOMEM. */
int homa_sim_new(const struct homa_sim_config *c, struct homa_sim **out);
/* Frees everything (calls homa_sim_finish first if needed). */
void homa_sim_free(struct homa_sim *sim);

uint64_t homa_sim_now(const struct homa_sim *sim);
const struct homa_sim_config *homa_sim_config(const struct homa_sim *sim);

/* Runs every event due at or before t, then sets the clock to t. */
void homa_sim_run_until(struct homa_sim *sim, uint64_t t);
/*
 * Runs until every issued RPC has completed or failed and the load (if
 * started) has issued all its requests, or until the clock passes limit_ns.
 * Returns 0, or -ETIME if the limit was hit.
 */
int homa_sim_run_to_completion(struct homa_sim *sim, uint64_t limit_ns);
/*
 * Keeps running while engines hold RPCs, then for as long as tombstones and
 * NEED_ACK state may live, at most until limit_ns (absolute). Returns 0, or
 * -ETIME if RPCs were still alive at the limit.
 */
int homa_sim_drain(struct homa_sim *sim, uint64_t limit_ns);
/*
 * Measures the end state (live RPCs, engine bytes), frees every socket and
 * engine and computes bytes_leaked. The simulation cannot run afterwards.
 */
void homa_sim_finish(struct homa_sim *sim);

/* Issues one request of length bytes now. Returns its index, or -errno. */
int64_t homa_sim_send_rpc(struct homa_sim *sim, uint32_t client, uint32_t server,
			  uint32_t length);
/* Starts open-loop Poisson load (config: workload, load, rpcs). */
int homa_sim_start_load(struct homa_sim *sim);

const struct homa_sim_rpc *homa_sim_rpc(const struct homa_sim *sim, uint64_t index);
uint64_t homa_sim_num_rpcs(const struct homa_sim *sim);

/* Faults and hooks. */
void homa_sim_set_filter(struct homa_sim *sim, homa_sim_filter_fn fn, void *ctx);
void homa_sim_crash(struct homa_sim *sim, uint32_t host);
/* Restarts a crashed host with a fresh engine. Returns 0 or -errno. */
int homa_sim_restart(struct homa_sim *sim, uint32_t host, uint64_t seed);
int homa_sim_host_up(const struct homa_sim *sim, uint32_t host);
/* Makes every n-th allocation of host fail (0: never). */
void homa_sim_fail_allocs(struct homa_sim *sim, uint32_t host, uint64_t every_n);

/* The live engine of a host (NULL while crashed). */
struct homa_engine *homa_sim_engine(struct homa_sim *sim, uint32_t host);
/* Peak bytes queued at the switch port toward host. */
uint64_t homa_sim_port_peak(const struct homa_sim *sim, uint32_t host);
/* Homa packet type of p (enum homa_pkt_type), 0 if too short. */
int homa_sim_pkt_type(const struct homa_sim_pkt *p);

/* Counters so far (engine counters include live engines). */
const struct homa_sim_results *homa_sim_results(struct homa_sim *sim);

/*
 * Slowdown of every completed RPC against the same request length alone on
 * an idle network of the same topology (one cached baseline run per distinct
 * length), and percentiles overall and per size bucket. Buckets group the
 * workload's lengths into about ten classes of equal message count (w NULL:
 * the lengths seen). Returns 0 or -errno.
 */
int homa_sim_compute_slowdown(struct homa_sim *sim, const struct homa_workload *w);
/*
 * One CSV line per RPC after a header: index, client, server, length, state
 * (done/failed/lost/pending), error, start_ns, end_ns, slowdown (-1 if none;
 * needs homa_sim_compute_slowdown first).
 */
void homa_sim_write_rpcs(const struct homa_sim *sim, FILE *f);
/* P99 slowdown of completed RPCs with request length <= max_length. */
double homa_sim_slowdown_p99_upto(struct homa_sim *sim, uint32_t max_length);

/*
 * Offered bytes on a host's uplink per request of the workload: request and
 * response payload plus per-packet headers and framing. Used to turn a load
 * fraction into a request rate.
 */
double homa_sim_wire_bytes_per_rpc(const struct homa_sim_config *c,
				   const struct homa_workload *w);

/* One complete open-loop experiment: new, load, run, drain, finish, slowdown. */
int homa_sim_experiment(const struct homa_sim_config *c, struct homa_sim_results *out);

/* Output: one JSON object (deterministic), or a human summary. */
void homa_sim_print_json(const struct homa_sim_config *c,
			 const struct homa_sim_results *r, FILE *f);
void homa_sim_print_text(const struct homa_sim_config *c,
			 const struct homa_sim_results *r, FILE *f);

#ifdef __cplusplus
}
#endif
#endif /* HOMA_SIM_H */
