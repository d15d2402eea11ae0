/*
 * homa_sim_internal.h - the simulator's private state, shared by its .c
 * files: the event queue (homa_sim_queue.c), the network (homa_sim_net.c),
 * the hosts (homa_sim_host.c), the applications (homa_sim_app.c) and the
 * measurements (homa_sim_report.c).
 */
#ifndef HOMA_SIM_INTERNAL_H
#define HOMA_SIM_INTERNAL_H

#include "homa_sim.h"

/* ----------------------------------------------------------- events */

enum sim_event_type {
	SIM_EV_SWITCH_IN, /* a packet's last bit reaches the switch */
	SIM_EV_ENQUEUE,	  /* a (possibly delayed) packet joins its output queue */
	SIM_EV_PORT_DONE, /* an output port finished sending its packet */
	SIM_EV_HOST_RX,	  /* a packet's last bit reaches its host */
	SIM_EV_TIMER,	  /* an engine's next_timeout came due */
	SIM_EV_APP_SEND,  /* a host's load generator issues its next request */
	SIM_EV_APP_RETRY, /* a host's server retries replies refused for memory */
};

struct sim_pkt;

struct sim_event {
	uint64_t time;
	uint64_t seq; /* insertion order: ties run first-scheduled first */
	uint32_t type;
	uint32_t host;
	uint64_t gen;
	struct sim_pkt *pkt;
};

struct sim_queue {
	struct sim_event *heap;
	size_t n, cap;
	uint64_t next_seq;
};

int homa_sim_queue_push(struct sim_queue *q, const struct sim_event *ev);
int homa_sim_queue_pop(struct sim_queue *q, struct sim_event *ev);
const struct sim_event *homa_sim_queue_peek(const struct sim_queue *q);
void homa_sim_queue_destroy(struct sim_queue *q);

/* ----------------------------------------------------------- network */

struct sim_pkt {
	struct sim_pkt *next; /* output queue */
	uint32_t src, dst;
	uint32_t src_epoch; /* the sender's incarnation: a crash drops its packets */
	int priority;
	uint32_t len;  /* Homa bytes */
	uint32_t wire; /* bytes on a link */
	uint8_t bytes[];
};

struct sim_fifo {
	struct sim_pkt *head, *tail;
};

struct sim_port {
	struct sim_fifo q[HOMA_MAX_PRIORITIES];
	struct sim_pkt *busy; /* being serialised */
	uint64_t bytes;	      /* queued + being sent */
	uint64_t peak;
};

/* ------------------------------------------------------------ hosts */

struct sim_alloc {
	size_t in_use;
	size_t peak;
	uint64_t count;
	uint64_t fail_every;
	uint64_t injected;
};

/* A reply the engine refused with ENOMEM or EAGAIN, to try again. */
struct sim_reply {
	uint64_t id;
	struct homa_endpoint client;
	uint64_t tag;
};

struct sim_host {
	struct homa_sim *sim;
	uint32_t index;
	int up;
	uint32_t epoch;
	struct homa_addr addr;
	struct sim_alloc alloc;
	struct homa_engine *engine;
	struct homa_sock *server, *client;
	void *server_region, *client_region;
	uint64_t nic_free_ns; /* when the uplink finishes what it was given */
	uint64_t timer_at;    /* pending timer event time, UINT64_MAX if none */
	uint64_t timer_gen;
	uint32_t ready; /* bit 0: server socket, bit 1: client socket */
	struct homa_rng load_rng;
	uint8_t *scratch; /* outgoing message buffer */
	struct sim_reply *retry;
	size_t nretry, retry_cap;
	int retry_armed; /* a SIM_EV_APP_RETRY (gen = epoch) is pending */
};

/* ------------------------------------------------------ dedup set */

/* One execution: which server incarnation ran which client's RPC. A server
 * that crashes forgets what it ran, so at-most-once is per incarnation. */
struct sim_exec_key {
	uint32_t host; /* client */
	uint16_t port; /* client port */
	uint32_t server;
	uint32_t server_epoch;
	uint64_t id;
};

struct sim_exec_set {
	struct sim_exec_key *slots; /* host == UINT32_MAX: empty */
	size_t n, cap;
};

/* -------------------------------------------------------- simulator */

struct homa_sim {
	struct homa_sim_config cfg;
	uint64_t now;
	uint64_t link_bps;
	struct sim_queue queue;
	struct sim_host *hosts;
	struct sim_port *ports;
	uint64_t switch_bytes;
	struct homa_rng fault_rng;
	homa_sim_filter_fn filter;
	void *filter_ctx;
	struct homa_sim_rpc *rpcs;
	uint64_t nrpcs, rpcs_cap;
	uint64_t rpcs_open; /* issued, not yet done, failed or lost */
	int load_on;
	double load_mean_gap_ns;
	struct sim_exec_set execs;
	struct homa_stats dead_stats; /* counters of freed engines */
	int finished;
	struct homa_sim_results res;
	double *slowdowns; /* per RPC index, < 0 if none */
};

/* Network (homa_sim_net.c). */
uint64_t homa_sim_wire_ns(const struct homa_sim *sim, uint32_t wire_bytes);
void homa_sim_net_send(struct sim_host *h, uint32_t dst, int priority, const uint8_t *hdr,
		       size_t hdr_len, const uint8_t *payload, size_t payload_len);
void homa_sim_net_event(struct homa_sim *sim, const struct sim_event *ev);
void homa_sim_net_free(struct homa_sim *sim);
void homa_sim_schedule(struct homa_sim *sim, uint64_t time, uint32_t type, uint32_t host,
		       uint64_t gen, struct sim_pkt *pkt);

/* Hosts (homa_sim_host.c). */
int homa_sim_host_boot(struct sim_host *h, uint64_t seed);
void homa_sim_host_halt(struct sim_host *h);
void homa_sim_host_after_call(struct sim_host *h, int from_timer);
void homa_sim_host_event(struct homa_sim *sim, const struct sim_event *ev);
uint32_t homa_sim_host_of(const struct homa_sim *sim, const struct homa_addr *a);
void homa_sim_host_addr(uint32_t index, struct homa_addr *a);

/* Applications (homa_sim_app.c). */
void homa_sim_app_poll(struct sim_host *h);
void homa_sim_app_event(struct homa_sim *sim, const struct sim_event *ev);
void homa_sim_app_host_crashed(struct homa_sim *sim, uint32_t host);
void homa_sim_exec_set_free(struct sim_exec_set *s);

#endif
