/*
 * perf_transport.h - what the load generator and the server need from a
 * protocol. Each protocol (Homa, TCP, UDP) implements a client and a server
 * endpoint behind these tables, so every mode measures all protocols with the
 * same loop, the same clock reads and the same bookkeeping.
 */
#ifndef PERF_TRANSPORT_H
#define PERF_TRANSPORT_H

#include "perf_util.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * Called once per completed RPC; err is 0 or a positive errno. Returns 0 when
 * no further completion can come (nothing is outstanding any more): poll()
 * then returns at once instead of reading its sockets again (a ping-pong
 * would pay for one empty read per round trip), nonzero otherwise.
 */
typedef int (*perf_done_fn)(void *arg, uint64_t id, int err);

struct perf_client_ops {
	/*
	 * Starts request id: len bytes (len >= PERF_HDR_LEN) to server index
	 * `server`, asking for resp_len bytes back (PERF_RESP_ECHO: same). Returns
	 * 0, -EAGAIN when the transport cannot take it now (retry later), or
	 * another -errno.
	 */
	int (*send)(void *impl, int server, uint64_t id, uint32_t len, uint32_t resp_len);
	/*
	 * Reports completions through done(), until done() returns 0 or
	 * nothing more is ready. When nothing is ready, waits up
	 * to timeout_ns for one (0: return at once): spinning when the client
	 * was opened with poll set, sleeping in the kernel otherwise. Returns
	 * the number of completions or -errno (fatal for the transport).
	 */
	int (*poll)(void *impl, uint64_t timeout_ns, perf_done_fn done, void *arg);
	void (*close)(void *impl);
};

struct perf_client {
	const struct perf_client_ops *ops;
	void *impl;
};

struct perf_client_cfg {
	const struct perf_addr *servers;
	int nservers;
	int tcp_conns; /* TCP connections per server */
	int poll;      /* 1: waits spin (lowest latency); 0: they sleep */
	/* Homa only, > 0: the load socket is also bound to this server port and
	 * answers the requests it receives (one socket per process, like a
	 * kernel-Homa application that is both client and server). */
	int serve_port;
};

/* Each returns 0, or -1 with a reason in err. */
int perf_tcp_client_open(struct perf_client *c, const struct perf_client_cfg *cfg,
			 char *err, size_t errlen);
/* UDP talks to each server's port + 1 (the server's raw-socket floor). */
int perf_udp_client_open(struct perf_client *c, const struct perf_client_cfg *cfg,
			 char *err, size_t errlen);
int perf_homa_client_open(struct perf_client *c, const struct perf_client_cfg *cfg,
			  char *err, size_t errlen);

/* 1 when this binary was built with the Homa runtime. */
int perf_homa_available(void);

/*
 * --stats: prints the process's Homa counters (engine and runtime) that are
 * not zero, each also divided by rpcs when rpcs > 0 (where the time goes:
 * packets, system calls, background wake-ups per RPC). No-op without Homa.
 */
void perf_homa_print_stats(FILE *f, uint64_t rpcs);

/*
 * Server side. A protocol's listening state (sockets) is opened once; each
 * server thread then makes its own endpoint on it, which answers whatever
 * requests it can find.
 */
struct perf_endpoint_ops {
	/*
	 * Answers pending requests; waits up to timeout_ns when there are none
	 * (0: return at once), spinning or sleeping as the endpoint was made.
	 * Returns requests answered, or -errno (fatal).
	 */
	int (*serve)(void *impl, uint64_t timeout_ns);
	void (*close)(void *impl);
};

struct perf_endpoint {
	const struct perf_endpoint_ops *ops;
	void *impl;
};

struct perf_listener {
	const char *name;
	/* Makes a per-thread endpoint (poll: waits spin); returns 0 or -1. */
	int (*endpoint)(struct perf_listener *l, int poll, struct perf_endpoint *ep);
	void (*close)(struct perf_listener *l);
	int fd;	    /* the protocol's shared socket, if it has one */
	void *impl; /* protocol's shared state */
};

/*
 * Each opens the protocol's server socket on port (TCP and Homa on port, UDP
 * on port + 1); 0, or -1 with err.
 */
int perf_tcp_listen(struct perf_listener *l, int port, char *err, size_t errlen);
int perf_udp_listen(struct perf_listener *l, int port, char *err, size_t errlen);
int perf_homa_listen(struct perf_listener *l, int port, int poll, char *err,
		     size_t errlen);

#endif
