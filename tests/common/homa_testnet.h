/*
 * homa_testnet.h - a tiny back-to-back network for engine tests ("htn").
 *
 * N engines (hosts 10.0.0.1 ...) joined by one ideal switch: every packet
 * arrives latency_ns after its sender's uplink finished serialising it at
 * rate_mbps (0 = infinitely fast). Time is a plain integer: htn_run*() jump
 * the clock to the next packet delivery or engine timeout, so tests never
 * sleep. A hook sees every packet (decoded) and may drop, duplicate or delay
 * it. Sockets made with htn_sock() get a receive region and are freed at
 * htn_free(), which returns how many bytes the engines still held after
 * their sockets were gone (a test asserts 0).
 */
#ifndef HOMA_TESTNET_H
#define HOMA_TESTNET_H

#include <stddef.h>
#include <stdint.h>

#include "homa/homa_core.h"

#define HTN_MAX_HOSTS 8
#define HTN_MAX_SOCKS 8

/* Hook verdicts. */
enum htn_verdict {
	HTN_PASS = 0,
	HTN_DROP = 1,
	HTN_DUP = 2,   /* deliver twice, the copy *delay_ns later */
	HTN_DELAY = 3, /* deliver *delay_ns later than normal */
};

struct htn;

/*
 * Called for every packet sent. from/to are host indexes (to = -1: no such
 * host). The hook may set *delay_ns when it returns HTN_DELAY.
 */
typedef enum htn_verdict (*htn_hook_fn)(void *ctx, struct htn *net, int from, int to,
					const struct homa_packet *pkt,
					uint64_t *delay_ns);

struct htn_pkt {
	struct htn_pkt *next;
	uint64_t deliver_at;
	uint64_t seq;
	int from, to;
	int priority;
	size_t len;
	uint8_t bytes[];
};

struct htn_sock {
	struct homa_sock *sock;
	void *region;
	size_t region_len;
	uint64_t ready_calls;	/* callbacks.ready with id 0 */
	uint64_t private_ready; /* callbacks.ready with id != 0 */
	uint64_t last_private_id;
	uint64_t writable_calls;
};

struct htn_host {
	struct htn *net;
	int index;
	struct homa_engine *engine;
	struct homa_addr addr;
	uint64_t uplink_free_at;
	int dead; /* packets to and from a dead host vanish */
	struct htn_sock socks[HTN_MAX_SOCKS];
	int num_socks;
	uint64_t sent_by_type[HOMA_PKT_TYPE_COUNT];
	int last_priority[HOMA_PKT_TYPE_COUNT];
};

struct htn {
	uint64_t now;
	uint64_t latency_ns;
	uint32_t rate_mbps;
	int num_hosts;
	struct htn_host hosts[HTN_MAX_HOSTS];
	struct htn_pkt *queue; /* sorted by (deliver_at, seq) */
	uint64_t next_seq;
	htn_hook_fn hook;
	void *hook_ctx;
	uint64_t delivered, dropped;
};

/*
 * Makes a network of n hosts whose engines use settings (NULL: defaults).
 * latency_ns per hop; rate_mbps of every uplink (0 = no serialisation).
 */
struct htn *htn_new(int n, const struct homa_settings *settings, uint64_t latency_ns,
		    uint32_t rate_mbps);

/* Same, with every engine allocating through alloc (NULL: malloc). */
struct htn *htn_new_with(int n, const struct homa_settings *settings, uint64_t latency_ns,
			 uint32_t rate_mbps, const struct homa_allocator *alloc);

/* Frees everything; returns bytes the engines held after all sockets closed. */
size_t htn_free(struct htn *net);

/* A socket on host h (port 0: client only) with a receive region of bpages. */
struct htn_sock *htn_sock(struct htn *net, int h, uint16_t port, uint32_t bpages);

/* Endpoint of socket s on host h. */
struct homa_endpoint htn_endpoint(const struct htn *net, int h, const struct htn_sock *s);

/* Index of the host with address a, or -1. */
int htn_host_of(const struct htn *net, const struct homa_addr *a);

/* Runs one event (delivery or timeout); returns 0 when nothing is left or the
 * next event lies beyond `until`. */
int htn_step(struct htn *net, uint64_t until);

/* Runs until done(ctx) is true or the clock passes until; returns done's value. */
int htn_run_until(struct htn *net, int (*done)(void *ctx), void *ctx, uint64_t until);

/* Runs every event up to now + ns. */
void htn_run_for(struct htn *net, uint64_t ns);

/* Sends a crafted packet (bytes) from host `from` (address only) to host `to`. */
void htn_inject(struct htn *net, int from, int to, const uint8_t *bytes, size_t len);

/* Receives on s (id as homa_sock_recv); on success releases the bpages after
 * copying up to cap message bytes into out (if not NULL). */
int htn_recv(struct htn *net, struct htn_sock *s, uint64_t id, struct homa_recv_msg *msg,
	     void *out, size_t cap);

/* Number of packets of type in flight. */
size_t htn_queued(const struct htn *net, uint8_t type);

#endif
