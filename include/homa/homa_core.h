/*
 * homa_core.h - the sans-I/O Homa protocol engine.
 *
 * The engine is all of Homa and nothing else: it makes no system calls, reads
 * no clock, starts no threads, keeps no global state and allocates only
 * through the allocator it is given. One engine is one host (the grant
 * scheduler, the pacer and the peer table are per host); it serves any number
 * of sockets.
 *
 * The embedder (the Linux runtime, the simulator, a test) drives it:
 *   - time comes in as `now`, nanoseconds on any monotonic clock, on every call;
 *   - packets come in through homa_engine_input() as byte buffers;
 *   - packets go out through callbacks.send, during the call that caused them;
 *   - homa_engine_next_timeout() says when homa_engine_handle_timeout() must
 *     be called next (timers, pacer);
 *   - callbacks.ready says a socket (or a private RPC) has something to receive.
 *
 * The engine is not thread-safe: the embedder serialises all calls on one
 * engine and its sockets. Callbacks run inside engine calls and must not call
 * back into the engine.
 *
 * Errors are negative errno values (EINVAL, ENOMEM, ...). Every function
 * lists the ones it returns.
 */
#ifndef HOMA_CORE_H
#define HOMA_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "homa_stats.h"
#include "homa_wire.h"

#ifdef __cplusplus
extern "C" {
#endif

struct homa_engine;
struct homa_sock;

/* An IPv6 address; IPv4 addresses are v4-mapped (::ffff:a.b.c.d). */
struct homa_addr {
	uint8_t bytes[16];
};

/* A Homa endpoint: address and Homa port. */
struct homa_endpoint {
	struct homa_addr addr;
	uint16_t port;
};

/* Builds a v4-mapped address from an IPv4 address in host byte order. */
void homa_addr_from_ipv4(struct homa_addr *a, uint32_t ipv4_host_order);
/* 1 if a is v4-mapped (then *ipv4 gets it in host byte order, if not NULL). */
int homa_addr_is_ipv4(const struct homa_addr *a, uint32_t *ipv4_host_order);
int homa_addr_equal(const struct homa_addr *a, const struct homa_addr *b);

/*
 * Memory. alloc returns NULL on failure (the engine then reports ENOMEM or
 * drops and counts the packet, and leaks nothing). free gets the size given to
 * alloc. A NULL allocator in homa_engine_new() means malloc/free.
 */
struct homa_allocator {
	void *(*alloc)(void *ctx, size_t size);
	void (*free)(void *ctx, void *ptr, size_t size);
	void *ctx;
};

/* What the engine tells its embedder. Copied at homa_engine_new(). */
struct homa_callbacks {
	/*
	 * Transmit one Homa packet to dst: the bytes are hdr[0..hdr_len)
	 * followed by payload[0..payload_len) (payload_len may be 0). Both
	 * pointers are valid only during the call. priority is the Homa level
	 * 0..7 (7 highest); the embedder maps it to DSCP / traffic class or a
	 * switch queue. sock is the sending socket, or NULL for packets that
	 * belong to no socket (e.g. RPC_UNKNOWN to an unknown port). Required.
	 */
	void (*send)(void *user, struct homa_sock *sock, const struct homa_endpoint *dst,
		     int priority, const uint8_t *hdr, size_t hdr_len,
		     const uint8_t *payload, size_t payload_len);
	/*
	 * sock has something for homa_sock_recv(): id 0 means a shared message
	 * or error became ready; id != 0 means that private client RPC
	 * completed or failed. Optional.
	 */
	void (*ready)(void *user, struct homa_sock *sock, uint64_t id);
	/* Send memory was freed on sock after a send returned -EAGAIN. Optional. */
	void (*writable)(void *user, struct homa_sock *sock);
};

/*
 * Every tunable, with the reference's defaults unless noted. Fill with
 * homa_settings_default(), then change fields. Times are nanoseconds.
 */
struct homa_settings {
	uint32_t link_mbps;	   /* 25000: uplink rate, for the pacer and FIFO grants */
	uint32_t max_packet_bytes; /* 1472: largest Homa packet (header included) the
				      carrier can send: MTU minus IP (and UDP) headers */
	uint32_t unsched_bytes;	   /* 40000: bytes sent before any grant */
	uint32_t max_incoming;	   /* 400000: cap on granted-but-unreceived bytes */
	uint32_t max_overcommit;   /* 8: messages granted at once (<= 8) */
	uint32_t window; /* 0: per-message window; 0 = max_incoming/(active+1) */
	uint32_t grant_fifo_fraction;  /* 50 permil of link_mbps granted oldest-first */
	uint32_t fifo_grant_increment; /* 50000: bytes per FIFO grant */
	uint32_t max_nic_backlog_ns;   /* 5000: pacer keeps the NIC queue below this */
	uint32_t
	    pacer_fifo_fraction;  /* 50 permil of pacer output to the oldest message */
	uint32_t defer_min_bytes; /* 1000: messages this short bypass the pacer */
	uint32_t num_priorities;  /* 8: levels used (1..8) */
	uint32_t
	    unsched_cutoffs[HOMA_MAX_PRIORITIES]; /* {0,0,0,0,1000000,15000,2800,200} */
	uint32_t prio_auto;	    /* 1: recompute cutoffs from the observed size mix */
	uint64_t prio_interval_ns;  /* 1 s: how often the size mix is examined */
	uint32_t prio_min_messages; /* 1000: messages needed before recomputing */
	uint64_t tick_ns;	    /* 1 ms: timer period */
	uint32_t resend_ticks;	    /* 5: silence before the first RESEND */
	uint32_t resend_interval;   /* 5: ticks between RESENDs */
	uint32_t timeout_ticks;	    /* 100: silence before an RPC is declared dead */
	uint32_t request_ack_ticks; /* 2: wait before the first NEED_ACK */
	uint32_t need_ack_timeout_ticks; /* 100 (new): unanswered NEED_ACKs before the
					    server reclaims the RPC */
	uint64_t tombstone_ns; /* 2 s (new): how long a server remembers acked RPC
				  ids so a delayed request cannot run twice */
	uint32_t max_tombstones_per_peer; /* 4096 (new) */
	uint64_t wmem_max;		  /* 64 MiB: send memory per socket */
	/*
	 * Limits on what a peer can make us hold (new). When a request would
	 * create a server RPC past max_server_rpcs_per_peer (that peer, this
	 * socket) or max_rpcs_per_socket, a server RPC is reclaimed: one of
	 * that peer (past max_rpcs_per_socket: of the peer holding the most
	 * reclaimable RPCs on the socket), the oldest still receiving its
	 * request, else the oldest waiting for the ack of its response (it
	 * leaves a tombstone); only if every such RPC is with the application
	 * is the new request dropped (drop_peer_limit / drop_socket_limit). Reclaims
	 * count in rpcs_reclaimed_limit. Client sends past max_rpcs_per_socket fail with
	 * -EAGAIN.
	 */
	uint32_t max_server_rpcs_per_peer; /* 1024 */
	uint32_t max_rpcs_per_socket;	   /* 65536 */
	uint32_t max_peers; /* 65536 (new): past this an idle peer is reclaimed,
			       else the oldest whose only state is unfinished
			       incoming requests (they are ended); if none, a
			       send needing a new peer fails with -ENOMEM and a
			       request is dropped */
};

/* Fills *s with the documented defaults. */
void homa_settings_default(struct homa_settings *s);

/* Checks settings; returns 0 or -EINVAL (and a reason in *why if not NULL). */
int homa_settings_check(const struct homa_settings *s, const char **why);

/*
 * Creates an engine. settings, callbacks and allocator are copied. seed
 * initialises the engine's random generator (client ports, id bases): the
 * embedder supplies entropy, the simulator a fixed seed. user is passed to
 * every callback. Returns 0, -EINVAL (bad settings or callbacks) or -ENOMEM.
 */
int homa_engine_new(const struct homa_settings *settings, const struct homa_callbacks *cb,
		    void *user, const struct homa_allocator *allocator, uint64_t seed,
		    uint64_t now, struct homa_engine **out);

/* Frees the engine and every socket, RPC, peer and buffer it still holds. */
void homa_engine_free(struct homa_engine *e);

/*
 * Hands a received packet (the Homa header onward) from src to the engine.
 * Malformed or unwanted packets are dropped and counted; nothing here fails.
 */
void homa_engine_input(struct homa_engine *e, const struct homa_addr *src,
		       const uint8_t *pkt, size_t len, uint64_t now);

/*
 * Receive placement: lets the embedder receive a large DATA payload straight
 * into the socket's receive region instead of into a packet buffer.
 *
 * homa_engine_rx_place() tells where the payload of a DATA packet would be
 * stored. hdr[0..hdr_avail) are the first bytes of the packet (at least its
 * 56-byte header), pkt_len its full length. It decodes and validates the
 * header and finds the RPC as homa_engine_input() would; it succeeds only if
 * the RPC's receive buffers are allocated, the message is still being
 * received (not complete, not handed to the application) and no byte of the
 * packet's range has been received yet. Then *out gets the header length
 * and the payload's place: up to HOMA_PLACE_MAX_SPANS spans in the receive
 * region (a payload may straddle bpages), in payload order, whose lengths
 * sum to out->payload_len. Returns the number of spans, or 0 if the packet
 * cannot be placed (then *out is unspecified; the packet takes the normal
 * path). Changes nothing in the engine: bytes written into the spans land
 * where nothing has been received, and are overwritten by the real data if
 * this packet never reaches the engine.
 *
 * homa_engine_input_placed() then hands the packet over: its header at
 * hdr[0..hdr_len), its payload already received into the spans of *pl as
 * homa_engine_rx_place() returned them, with no engine call in between. It
 * is homa_engine_input() for that packet (same validation, gap accounting,
 * grants and counters), except that payload bytes already in place are not
 * copied again.
 */
#define HOMA_PLACE_MAX_SPANS 3
struct homa_place {
	size_t hdr_len;	    /* bytes of header before the payload */
	size_t payload_len; /* pkt_len - hdr_len */
	unsigned int num_spans;
	struct {
		uint8_t *base;
		size_t len;
	} spans[HOMA_PLACE_MAX_SPANS];
};

int homa_engine_rx_place(const struct homa_engine *e, const struct homa_addr *src,
			 const uint8_t *hdr, size_t hdr_avail, size_t pkt_len,
			 struct homa_place *out);

void homa_engine_input_placed(struct homa_engine *e, const struct homa_addr *src,
			      const uint8_t *hdr, size_t hdr_len,
			      const struct homa_place *pl, uint64_t now);

/*
 * The network reports dst unreachable (e.g. ICMP). port 0 means every port
 * of the address. error is a positive errno (ENOTCONN, EHOSTUNREACH,
 * EPROTONOSUPPORT): client RPCs to it fail with it, server RPCs are ended.
 */
void homa_engine_unreachable(struct homa_engine *e, const struct homa_addr *addr,
			     uint16_t port, int error, uint64_t now);

/*
 * Deferred acks. A DATA packet may carry an ack that ends an earlier server
 * RPC (its tombstone, its memory): work that a server would otherwise do
 * between a request's arrival and its reply. With deferral on (off by
 * default), such acks are kept (at most HOMA_DEFERRED_ACKS, the oldest
 * processed when more come) until homa_engine_run_deferred(), which the
 * embedder calls once its replies have left; homa_engine_handle_timeout()
 * and freeing a socket or the engine process them too, so an ack waits at
 * most until the next timer tick (the acked RPC keeps the engine ticking).
 * homa_engine_run_deferred() returns how many it processed (then the engine
 * may have packets to send and a new next timeout).
 */
#define HOMA_DEFERRED_ACKS 8
void homa_engine_defer_acks(struct homa_engine *e, int enable);
int homa_engine_run_deferred(struct homa_engine *e);

/* Absolute time at which homa_engine_handle_timeout() is next due. */
uint64_t homa_engine_next_timeout(const struct homa_engine *e);

/* Runs whatever is due at now: timers (resends, timeouts, NEED_ACK), pacer. */
void homa_engine_handle_timeout(struct homa_engine *e, uint64_t now);

const struct homa_stats *homa_engine_stats(const struct homa_engine *e);
const struct homa_settings *homa_engine_settings(const struct homa_engine *e);

/*
 * Changes settings on a live engine (e.g. cutoffs, num_priorities). Returns
 * 0 or -EINVAL (then nothing changed): bad settings, or max_incoming or
 * fifo_grant_increment lowered while granted bytes are still outstanding.
 */
int homa_engine_set_settings(struct homa_engine *e, const struct homa_settings *s);

/* Bytes currently allocated through the engine's allocator (0 after all frees). */
size_t homa_engine_mem_in_use(const struct homa_engine *e);

/* Live RPCs (client and server, all sockets) and known peers. */
size_t homa_engine_num_rpcs(const struct homa_engine *e);
size_t homa_engine_num_peers(const struct homa_engine *e);

/*
 * Receiver-side grant state: *incoming = bytes granted (or sent unscheduled
 * and counted by the scheduler) but not yet received, over all messages;
 * *bound = the documented ceiling it never exceeds (max_incoming plus the
 * FIFO-grant allowance; see homa_grant.h).
 */
void homa_engine_grant_state(const struct homa_engine *e, uint64_t *incoming,
			     uint64_t *bound);

/* Current unscheduled cutoffs and their version (as sent in CUTOFFS). */
void homa_engine_cutoffs(const struct homa_engine *e,
			 uint32_t cutoffs[HOMA_MAX_PRIORITIES], uint16_t *version);

/* ---------------------------------------------------------------- sockets */

/*
 * Opens a socket with a random free client port >= 32768. It accepts no
 * requests until bound or homa_sock_set_server(). Returns 0, -ENOMEM or
 * -EADDRNOTAVAIL (no free port).
 */
int homa_sock_new(struct homa_engine *e, struct homa_sock **out);

/*
 * Binds a server port (1..32767): the socket leaves its client port and
 * accepts requests. port 0 is a no-op. Returns 0, -EINVAL (port >= 32768),
 * -EADDRINUSE or -ESHUTDOWN.
 */
int homa_sock_bind(struct homa_sock *s, uint16_t port);

/* Enables (1) or disables (0) incoming requests. Returns 0 or -ESHUTDOWN. */
int homa_sock_set_server(struct homa_sock *s, int enable);
int homa_sock_is_server(const struct homa_sock *s);
uint16_t homa_sock_port(const struct homa_sock *s);

/* Opaque pointer for the embedder. */
void homa_sock_set_user(struct homa_sock *s, void *user);
void *homa_sock_get_user(const struct homa_sock *s);

/*
 * Gives the socket its receive region: length bytes at region, owned by the
 * caller, which must keep it alive until homa_sock_free(). Split into 64 KiB
 * bpages; messages are written there and located by bpage offsets. Needs at
 * least HOMA_MAX_BPAGES + 1 bpages and at most 4 GiB. Set once.
 * Returns 0, -EINVAL (too small/large, misaligned, already set), -ENOMEM.
 */
int homa_sock_set_rcvbuf(struct homa_sock *s, void *region, size_t length);

/*
 * Shuts the socket down: its port is released, every RPC ended, later calls
 * return -ESHUTDOWN. Idempotent.
 */
void homa_sock_shutdown(struct homa_sock *s, uint64_t now);

/* Shuts down (if needed) and frees the socket. */
void homa_sock_free(struct homa_sock *s, uint64_t now);

/* A piece of an outgoing message. */
struct homa_iov {
	const void *base;
	size_t len;
};

#define HOMA_SENDMSG_PRIVATE 0x01
/*
 * The engine sends (and retransmits) straight from iov[0] instead of a copy
 * of it; iovcnt must be 1. The caller keeps those bytes valid and unchanged
 * until the RPC ends: homa_sock_recv() returned its response or error, or it
 * was aborted, or the socket was shut down or freed.
 */
#define HOMA_SENDMSG_BORROW 0x02

/*
 * Sends a request of the total length of iov[0..iovcnt) to dst; the bytes are
 * copied (unless HOMA_SENDMSG_BORROW), so the caller may reuse them at once.
 * On success *id gets the new RPC's id (even) and the unscheduled packets may
 * already have been sent. cookie comes back with the response. flags:
 * HOMA_SENDMSG_PRIVATE, HOMA_SENDMSG_BORROW.
 * Returns 0, -EINVAL (length 0 or > HOMA_MAX_MESSAGE_LENGTH, bad flags,
 * port 0, HOMA_SENDMSG_BORROW with iovcnt != 1), -EAGAIN (send memory full;
 * callbacks.writable fires later), -ENOMEM, -ESHUTDOWN.
 */
int homa_sock_send_request(struct homa_sock *s, const struct homa_endpoint *dst,
			   const struct homa_iov *iov, size_t iovcnt, uint64_t cookie,
			   uint32_t flags, uint64_t now, uint64_t *id);

/*
 * Replies to the request id (odd, as homa_sock_recv returned it) from client.
 * Returns 0, -EINVAL (length bad, RPC not in service), -ENOENT (no such RPC:
 * unknown id, already answered, or ended), the RPC's own error if it failed
 * meanwhile (the RPC is then ended), -EAGAIN, -ENOMEM, -ESHUTDOWN.
 */
int homa_sock_reply(struct homa_sock *s, uint64_t id, const struct homa_endpoint *client,
		    const struct homa_iov *iov, size_t iovcnt, uint64_t now);

/* A received message or a failed RPC. */
struct homa_recv_msg {
	uint64_t id;		    /* odd: a request to answer; even: a response */
	uint64_t completion_cookie; /* responses: the request's cookie */
	struct homa_endpoint peer;  /* requests: reply here */
	int error;		    /* 0, or the RPC's error (positive errno) */
	uint32_t length;	    /* message bytes; 0 when error != 0 */
	uint32_t num_bpages;
	uint32_t bpage_offsets[HOMA_MAX_BPAGES]; /* offsets into the region */
};

/*
 * Takes the next ready message. id 0: any request or non-private response
 * (oldest first); id != 0: that private client RPC only. A response or a
 * failure ends its RPC; a request moves to "in service" and must be answered
 * (or it stays until the socket closes). The caller owns the returned bpages
 * until it passes them to homa_sock_release_bpages().
 * Returns 0 (*msg filled), -EAGAIN (nothing ready), -EINVAL (id names no
 * private RPC of this socket; no receive region), -ESHUTDOWN.
 */
int homa_sock_recv(struct homa_sock *s, uint64_t id, uint64_t now,
		   struct homa_recv_msg *msg);

/* Returns bpages to the pool. Returns 0 or -EINVAL (offset not owned by app). */
int homa_sock_release_bpages(struct homa_sock *s, const uint32_t *offsets,
			     uint32_t count);

/*
 * Aborts client RPC id (0 = all client RPCs of the socket). error 0: the
 * RPCs vanish silently; otherwise each completes with that error (positive
 * errno). Returns 0, -EINVAL (id names no client RPC), -ESHUTDOWN.
 */
int homa_sock_abort(struct homa_sock *s, uint64_t id, int error, uint64_t now);

/* 1 if homa_sock_recv(s, 0, ...) would return a message now. */
int homa_sock_readable(const struct homa_sock *s);
/* 1 if send memory is below wmem_max. */
int homa_sock_writable(const struct homa_sock *s);

/* Per-RPC information, as HOMAIOCINFO gives it. */
#define HOMA_RPC_BUF_STALL 1
#define HOMA_RPC_PRIVATE   2
#define HOMA_RPC_RX_READY  4
struct homa_rpc_info {
	uint64_t id;
	struct homa_endpoint peer;
	uint64_t completion_cookie;
	int32_t tx_length; /* -1: nothing to send yet */
	uint32_t tx_sent;
	uint32_t tx_granted;
	uint32_t tx_prio;
	int32_t rx_length; /* -1: nothing received yet */
	uint32_t rx_remaining;
	uint32_t rx_gaps;
	uint32_t rx_gap_bytes;
	uint32_t rx_granted;
	uint32_t flags;
};

struct homa_sock_info {
	uint64_t bpool_avail_bytes;
	uint16_t port;
	uint32_t num_rpcs;
	uint64_t send_memory; /* bytes of outgoing messages held */
	char error_msg[104];  /* last error on this socket, "" if none */
};

/*
 * Fills *info and up to max entries of rpcs (may be NULL when max is 0);
 * *count gets the number of live RPCs (may exceed max). Returns 0.
 */
int homa_sock_get_info(const struct homa_sock *s, struct homa_sock_info *info,
		       struct homa_rpc_info *rpcs, size_t max, size_t *count);

/* Text of the last error a call on this socket returned, "" if none. */
const char *homa_sock_error_msg(const struct homa_sock *s);

#ifdef __cplusplus
}
#endif
#endif /* HOMA_CORE_H */
