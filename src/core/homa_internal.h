/*
 * homa_internal.h - the engine's private state: engine, socket, peer and RPC
 * structures, shared by the engine's .c files and never seen by embedders.
 *
 * Ownership in one paragraph: the engine owns its sockets and peers; a socket
 * owns its RPCs (indexed in one growing hash table and linked in one list);
 * an RPC holds a reference on its peer, its outgoing message copy (charged to
 * the socket's send memory) and, until the application takes the message,
 * the bpages of its incoming message. Tombstones of completed server RPCs
 * also hold a peer reference. Everything is freed the moment it ends: the
 * engine runs on one thread at a time, so there is nothing to defer.
 */
#ifndef HOMA_INTERNAL_H
#define HOMA_INTERNAL_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "homa/homa_core.h"
#include "homa_mem.h"
#include "homa_pool.h"
#include "homa_prio.h"
#include "homa_msgin.h"
#include "homa_grant.h"

#define homa_container_of(ptr, type, member)                                             \
	((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* ------------------------------------------------------ intrusive lists */

/* A circular doubly linked list node; a list head is a node too. */
struct homa_link {
	struct homa_link *prev;
	struct homa_link *next;
};

static inline void homa_list_init(struct homa_link *l)
{
	l->prev = l;
	l->next = l;
}

static inline int homa_list_empty(const struct homa_link *l)
{
	return l->next == l;
}

/* A node that is on no list points to itself (after init or remove). */
static inline int homa_list_linked(const struct homa_link *n)
{
	return n->next != n && n->next != NULL;
}

/* Inserts n just before pos (at the tail when pos is the head). */
static inline void homa_list_insert_before(struct homa_link *pos, struct homa_link *n)
{
	n->prev = pos->prev;
	n->next = pos;
	pos->prev->next = n;
	pos->prev = n;
}

static inline void homa_list_remove(struct homa_link *n)
{
	if (!homa_list_linked(n))
		return;
	n->prev->next = n->next;
	n->next->prev = n->prev;
	homa_list_init(n);
}

/* -------------------------------------------------------------- peers */

/* A tombstone: a server RPC whose request ran, remembered until `expires`. */
struct homa_tomb {
	struct homa_tomb *hnext;      /* engine tombstone hash chain */
	struct homa_tomb **hpprev;    /* what points at us in that chain */
	struct homa_link engine_link; /* engine FIFO, oldest first (expiry) */
	struct homa_link peer_link;   /* peer FIFO, oldest first (per-peer bound) */
	struct homa_peer *peer;
	uint64_t id; /* the server's (odd) id */
	uint16_t server_port;
	uint64_t expires;
};

/*
 * Acks a peer caches (new; the reference keeps one packet's worth, 5). Each
 * DATA packet to the peer carries one, so under a steady closed loop the
 * cache holds at most about one poll's worth of completed RPCs; with only
 * 5, a client with 32 RPCs outstanding sent an ACK packet every ~6 RPCs.
 */
#define HOMA_PEER_ACKS 32

struct homa_peer {
	struct homa_addr addr;
	struct homa_peer *hnext;  /* engine peer hash chain */
	struct homa_link link;	  /* engine list of peers */
	uint32_t refs;		  /* RPCs and tombstones naming this peer */
	uint32_t num_server_rpcs; /* its server RPCs, all sockets (limit pre-check) */
	uint32_t scan_count;	  /* scratch for homa_rpc.c's socket-cap scan */
	/* The peer's cutoffs for messages we send it (entry 0 = INT_MAX). */
	uint32_t cutoffs[HOMA_MAX_PRIORITIES];
	uint16_t cutoff_version;    /* echoed in our DATA; 0 = none received */
	uint64_t cutoffs_sent_tick; /* tick number + 1 when we last sent CUTOFFS */
	/* Acks for server RPCs of this peer that our clients consumed: a ring
	 * of num_acks entries from acks[ack_head], oldest first. */
	struct homa_ack acks[HOMA_PEER_ACKS];
	uint32_t ack_ticks[HOMA_PEER_ACKS]; /* tick count (low 32 bits) at each push */
	uint32_t ack_head;
	uint32_t num_acks;
	uint16_t ack_sport;	   /* port of the socket that pushed the last ack */
	struct homa_link ack_link; /* engine list of peers holding acks */
	uint64_t need_ack_tick;	   /* tick count + 1 of our last NEED_ACK to it */
	uint64_t heard_tick;	   /* tick count when a packet of one of its RPCs came */
	uint64_t resend_tick;	   /* tick count + 1 of resend_count */
	uint32_t resend_count;	   /* RPCs that sent RESEND/BUSY probes to it this tick */
	struct homa_link tombs;
	uint32_t num_tombs;
	/* The highest id ever tombstoned for this peer: a request with a higher
	 * id (the usual case: a client's ids grow) needs no table lookup. */
	uint64_t max_tomb_id;
};

/* --------------------------------------------------------------- RPCs */

enum homa_rpc_state {
	HOMA_RPC_OUTGOING = 5,
	HOMA_RPC_INCOMING = 6,
	HOMA_RPC_IN_SERVICE = 8,
	HOMA_RPC_DEAD = 9,
};

/* RPC flags (internal; info flags are derived from them). */
#define RPC_PRIVATE	      0x01
#define RPC_READY	      0x02 /* on the ready list, or a private RPC waiting for recv */
#define RPC_BUF_STALL	      0x04 /* waiting on the socket's bufwait list */
#define RPC_BUFS_OWNED_BY_APP 0x08
#define RPC_PARKED	      0x10 /* waits only for the application: needs no ticks */
#define RPC_OUT_BORROWED      0x20 /* out.buf is the caller's (HOMA_SENDMSG_BORROW) */

struct homa_msgout {
	int32_t length; /* -1: no message yet */
	uint8_t *buf;
	uint32_t unscheduled;
	uint32_t granted;
	uint32_t next_xmit; /* first byte never transmitted */
	uint8_t sched_prio; /* priority from the last GRANT */
	uint64_t seq;	    /* order in which messages were queued (pacer FIFO) */
};

/*
 * The incoming message. Its length, bytes received and granted offset live
 * in `grant` (the scheduler's view, which the scheduler raises); the byte
 * ranges received live in `gaps`.
 */
struct homa_msgin_state {
	int32_t length;	     /* -1: no DATA yet */
	uint32_t num_bpages; /* 0 until buffers are allocated */
	uint32_t bpage_offsets[HOMA_MAX_BPAGES];
	struct homa_msgin gaps;
	struct homa_grant_rpc grant;
	uint8_t grant_prio; /* priority of the last GRANT we sent for it */
};

struct homa_rpc {
	struct homa_sock *sock;
	struct homa_peer *peer;
	struct homa_rpc *hnext;		/* socket hash chain */
	struct homa_link sock_link;	/* socket's list of all RPCs */
	struct homa_link ready_link;	/* socket's ready list */
	struct homa_link bufwait_link;	/* socket's buffer-wait list */
	struct homa_link throttle_link; /* pacer's throttled list */
	uint64_t id;			/* local id: even client, odd server */
	uint16_t dport;			/* the other end's port */
	int state;			/* enum homa_rpc_state */
	uint32_t flags;
	int error; /* positive errno once failed */
	uint64_t cookie;
	uint32_t silent_ticks;
	int resend_pending;	 /* a RESEND was due but the peer's budget was spent */
	uint32_t restarts;	 /* client: times RPC_UNKNOWN restarted the request */
	uint32_t ack_wait_ticks; /* server: ticks since the response was all sent */
	uint32_t need_ack_due;	 /* server: ack_wait_ticks at which NEED_ACK is due */
	struct homa_msgout out;
	struct homa_msgin_state in;
};

/* Local ids: even for the client's end of an RPC, odd for the server's. */
static inline int homa_rpc_is_client_id(uint64_t id)
{
	return (id & 1) == 0;
}

static inline int homa_rpc_is_client(const struct homa_rpc *rpc)
{
	return homa_rpc_is_client_id(rpc->id);
}

/* ------------------------------------------------------------ sockets */

struct homa_sock {
	struct homa_engine *e;
	struct homa_sock *port_next; /* engine port hash chain */
	struct homa_link link;	     /* engine list of sockets */
	uint16_t port;
	int is_server;
	int shutdown;
	void *user;
	uint8_t *region;
	size_t region_len;
	int has_pool;
	struct homa_pool pool;
	struct homa_rpc **buckets; /* power-of-two hash table of RPCs */
	size_t nbuckets;
	size_t num_rpcs;
	struct homa_link rpcs;
	struct homa_link ready;	  /* shared messages and errors, FIFO */
	struct homa_link bufwait; /* stalled RPCs, shortest message first */
	uint64_t wmem;		  /* bytes of outgoing messages held */
	int want_writable;
	char error_msg[104];
};

/* -------------------------------------------------------------- engine */

#define HOMA_PORT_BUCKETS 256

struct homa_pacer {
	/* When everything handed out so far has left the NIC, plus the fraction
	 * of a nanosecond in picoseconds, so per-packet rounding does not add up
	 * (a 1542-byte packet takes 493.44 ns at 25 Gb/s). */
	uint64_t link_idle_ns;
	uint32_t link_idle_frac_ps;
	struct homa_link throttled; /* sorted by bytes left (SRPT) */
	int32_t fifo_credit;
	uint32_t num_throttled;
};

struct homa_engine {
	struct homa_settings s;
	struct homa_callbacks cb;
	void *user;
	struct homa_mem mem;
	struct homa_stats stats;
	uint64_t prng;
	uint64_t next_id;
	uint64_t now; /* latest time seen in any call */
	/* Sockets. */
	struct homa_link socks;
	struct homa_sock *ports[HOMA_PORT_BUCKETS];
	size_t num_socks;
	/* Peers. */
	struct homa_peer **peer_buckets;
	size_t peer_nbuckets;
	size_t num_peers;
	struct homa_link peers;
	struct homa_link ack_peers; /* peers whose ack cache is not empty */
	/* Tombstones. */
	struct homa_tomb **tomb_buckets;
	size_t tomb_nbuckets;
	size_t num_tombs;
	struct homa_link tombs;
	size_t num_rpcs;
	size_t num_parked; /* RPCs with RPC_PARKED */
	/* Acks held back by homa_engine_defer_acks(), oldest first. */
	int defer_acks;
	unsigned int num_deferred;
	struct {
		struct homa_addr src;
		struct homa_ack ack;
	} deferred[HOMA_DEFERRED_ACKS];
	int freeing;	  /* homa_engine_free() is running: send nothing */
	uint64_t msg_seq; /* outgoing messages queued so far */
	/* Timer. */
	uint64_t next_tick;
	uint64_t tick_count;
	/* Pacer. */
	struct homa_pacer pacer;
	/* Grants. */
	struct homa_grant grant;
	/* Priorities. */
	uint32_t cutoffs[HOMA_MAX_PRIORITIES];
	uint16_t cutoff_version;
	int max_sched_prio;
	struct homa_prio_hist hist;
	uint64_t next_prio_ns;
};

/* ---------------------------------------------------- engine helpers */

uint64_t homa_engine_random(struct homa_engine *e);
/* Processes the deferred acks (homa_engine_run_deferred) at e->now. */
void homa_incoming_run_deferred(struct homa_engine *e);
/* Copies counters other modules keep (allocator, grants) into e->stats. */
void homa_engine_sync_stats(struct homa_engine *e);
/* Records msg as s's last error and returns err (negative errno). */
int homa_sock_fail(struct homa_sock *s, int err, const char *msg);
struct homa_sock *homa_sock_find(const struct homa_engine *e, uint16_t port);
int homa_engine_alive(const struct homa_engine *e);
/* Restarts the tick clock if the engine was idle. */
void homa_timer_wake(struct homa_engine *e, uint64_t now);
void homa_timer_tick(struct homa_engine *e, uint64_t now);
/*
 * Ticks a cached ack may wait for a DATA packet to carry it before it goes
 * out in an ACK packet: half of request_ack_ticks, at least 1.
 */
uint32_t homa_timer_ack_hold_ticks(const struct homa_settings *s);
/* Installs new cutoffs from the size mix if prio_interval_ns has passed. */
void homa_timer_recompute_cutoffs(struct homa_engine *e, uint64_t now);
/* When the next recomputation is worth a wakeup (UINT64_MAX: not yet). */
uint64_t homa_timer_next_recompute(const struct homa_engine *e);
/* Unscheduled priority level to use toward peer for a message of length. */
int homa_unsched_prio(const struct homa_engine *e, const struct homa_peer *peer,
		      uint32_t length);
/* Lowest priority of a DATA packet to peer that may carry a cached ack. */
int homa_ack_carrier_prio(const struct homa_engine *e, const struct homa_peer *peer);
uint32_t homa_addr_hash(const struct homa_addr *a);
uint64_t homa_hash64(uint64_t x);

/* ---------------------------------------------------------- incoming */

/* placed: the packet's payload already sits in these spans (NULL: in pkt). */
void homa_incoming_dispatch(struct homa_engine *e, const struct homa_addr *src,
			    const struct homa_packet *pkt,
			    const struct homa_place *placed, uint64_t now);
/* Where a decoded DATA packet's payload would go (homa_engine_rx_place). */
int homa_incoming_place(const struct homa_engine *e, const struct homa_addr *src,
			const struct homa_packet *pkt, struct homa_place *out);
/* Retries stalled RPCs of s now that bpages may have been freed. */
void homa_incoming_retry_stalled(struct homa_sock *s, uint64_t now);
/* Sends the RESENDs for what rpc is missing (section 7 rules). */
void homa_incoming_request_resend(struct homa_rpc *rpc, int priority, uint64_t now);
/* Removes rpc from the grant scheduler (safe if it is not there). */
void homa_incoming_ungrant(struct homa_rpc *rpc, uint64_t now);
/* The grant scheduler's send callback: one GRANT packet for g's RPC. */
void homa_incoming_grant_send(void *ctx, struct homa_grant_rpc *g, uint32_t offset,
			      int priority, uint64_t now);

/* ---------------------------------------------------------- outgoing */

/* Copies the message into engine memory (charged to send memory); -ENOMEM. */
int homa_outgoing_copy(struct homa_rpc *rpc, const struct homa_iov *iov, size_t iovcnt);
/* Sends what is granted (or queues the RPC with the pacer). */
void homa_outgoing_xmit(struct homa_rpc *rpc, uint64_t now);
/* Sends one DATA packet of [offset, offset+len) (no pacing). */
void homa_outgoing_send_data(struct homa_rpc *rpc, uint32_t offset, uint32_t len,
			     int priority, int retransmit, uint32_t incoming,
			     uint64_t now);
/* Length of the packet starting at offset (boundary at unscheduled). */
uint32_t homa_outgoing_seg_len(const struct homa_rpc *rpc, uint32_t offset);
/* Encodes and sends the control packet pkt to dst at the control priority. */
void homa_outgoing_control(struct homa_engine *e, struct homa_sock *s,
			   const struct homa_endpoint *dst, struct homa_packet *pkt);
/* A header-only control packet (BUSY, NEED_ACK, ...) for rpc. */
void homa_outgoing_simple(struct homa_rpc *rpc, uint8_t type);
/*
 * RESEND handling at the message sender (4.4): retransmits what was sent in
 * the range and treats a range beyond granted as a lost GRANT. Returns 1 when
 * none of the range had been sent, so the caller answers BUSY.
 */
int homa_outgoing_handle_resend(struct homa_rpc *rpc, uint32_t offset, uint32_t length,
				int prio, uint64_t now);
/* Asks rpc's peer to resend [offset, offset + length) (or HOMA_RESEND_ALL). */
void homa_outgoing_resend(struct homa_rpc *rpc, uint32_t offset, uint32_t length,
			  int priority);
/*
 * Sends an ACK to peer naming client id `id` (server port dport) in its
 * header, or the oldest cached ack when id is 0, plus up to 5 cached acks.
 */
void homa_outgoing_ack(struct homa_engine *e, struct homa_sock *s, struct homa_peer *peer,
		       uint16_t sport, uint16_t dport, uint64_t id);
/* Control packets go at the highest level in use. */
int homa_control_prio(const struct homa_engine *e);

#endif /* HOMA_INTERNAL_H */
