/*
 * homa_rt.h - internals of the Linux runtime (libhoma) shared by src/rt.
 *
 * The runtime wraps the sans-I/O engine (homa_core.h) with real sockets:
 * homa_rt.c owns the process-wide state (engine, lock, background thread,
 * engine callbacks), homa_rt_carrier.c the UDP and raw-IP sockets and their
 * batched I/O, homa_rt_socket.c and homa_rt_recv.c the public calls.
 *
 * Locking: rt->lock guards the engine, every core socket and every field
 * marked "lock" below. Fields marked "atomic" are read without it by the
 * polling loops, which must not take the lock unless there is work.
 */
#ifndef HOMA_RT_H
#define HOMA_RT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "homa/homa.h"

/* Packets read by one recvmmsg() call. */
#define HOMA_RT_RX_BATCH 16
/* Size of each receive buffer: the largest datagram (or GRO batch). */
#define HOMA_RT_RX_BUF 65536
/* homa_rt_rx_read(): a large DATA datagram waits; homa_rt_rx_input() receives
 * it (and the ones behind it) straight into the receive region. */
#define HOMA_RT_RX_PLACE (HOMA_RT_RX_BATCH + 1)
/* Datagrams at least this long are received in place when possible. */
#define HOMA_RT_PLACE_MIN 16384
/* A UDP datagram this large, or a read batch grown this far (datagrams
 * queueing up: two full reads of 1, then two of 2), turns UDP_GRO on for
 * its socket (rx_gro). A ping-pong's occasional pair of packets does not. */
#define HOMA_RT_GRO_ON_BYTES 1024
#define HOMA_RT_GRO_ON_BATCH 4
/* How long after the last receiver left a socket the bg thread takes over. */
#define HOMA_RT_IDLE_NS 2000000ull
/*
 * How often the background thread looks at sockets while receivers spin on
 * them (to cover a descheduled spinner, and to take a socket back when its
 * spinner leaves). Each look can cost a spinner a context switch on a busy
 * core, so a round trip that meets one is several times slower; at every
 * 2 ms that hit about 1% of 100-byte round trips (their P99).
 */
#define HOMA_RT_SPIN_LOOK_NS 10000000ull

/* A counter the kernel bumps for each datagram reaching a socket, mapped
 * into our memory (homa_rt_doorbell.c). counter is NULL when there is none. */
struct homa_rt_doorbell {
	int map_fd;
	int prog_fd;
	const _Atomic uint64_t *counter;
};

struct homa_socket {
	struct homa_sock *core; /* lock */
	int family;		/* AF_INET or AF_INET6 */
	int carrier;		/* enum homa_carrier */
	int fd;			/* the UDP or raw socket; the number never changes
				   (homa_bind swaps the file under it, dup3) */
	uint16_t port;		/* lock: current Homa port (mirrors the core) */
	int cur_tos;		/* lock: TOS/TCLASS last set on fd, -1 = unset */
	uint64_t serial;	/* identifies the socket in the bg epoll set */

	/* Waiting. */
	int wake_efd;			/* semaphore eventfd: "recheck" for sleepers */
	int ready_efd;			/* homa_fd(): readable iff a message is ready */
	int ready_state;		/* lock: ready_efd currently signalled */
	int fd_exported;		/* lock: homa_fd() was called; keep ready_efd */
	int errq_pending;		/* lock: ICMP error queue to read at unlock */
	atomic_int waiters;		/* threads inside homa_recv's wait loop */
	atomic_uint_fast64_t spin_beat; /* bumped on every turn of a spinning receiver */
	uint64_t bg_seen_beat;		/* lock: spin_beat at the bg thread's last look */
	int sleepers;			/* lock: of which sleeping in epoll_wait */
	atomic_uint_fast64_t ready_gen; /* bumped by the ready callback */
	atomic_uint_fast64_t last_wait_ns; /* when a receiver last left its loop */
	atomic_int bg_armed;		   /* lock (writes): fd is in the bg epoll set */
	atomic_int shut;		   /* homa_shutdown() was called */
	atomic_int rx_bulk; /* the last datagram read was large: peek before reading */
	/* recvmmsg() batch size, adapted to the traffic (homa_rt_carrier.c
	 * read_batch); rx_streak counts reads in a row that filled it. */
	atomic_int rx_vlen;
	atomic_int rx_streak;
	/*
	 * UDP_GRO is on for fd, so reads need recvmsg() for its control
	 * message. Until then a lone datagram is read with recvfrom(), ~0.3 us
	 * less per read. The first large datagram, or datagrams queueing up
	 * (the read batch grows), turns it on for good:
	 * turning it off again cannot be made safe (a coalesced datagram
	 * queued just before would be read as one packet).
	 */
	atomic_int rx_gro;
	/* Readers inside a recvfrom() that saw rx_gro down: GRO is turned on
	 * only once they are out (homa_rt_carrier.c enable_gro). */
	atomic_int rx_plain;

	/* Set at open, read-only after: lets spinners skip empty reads.
	 * bell_off: a later fd (homa_bind) could not get the filter, so the
	 * counter no longer sees every datagram; spinners read every turn. */
	struct homa_rt_doorbell bell;
	atomic_int bell_off;
	atomic_uint_fast64_t empty_reads; /* waiters' reads that found nothing */
	atomic_uint_fast64_t bell_late;	  /* datagrams found by safety reads */

	/* Settings. */
	atomic_int nonblock;
	atomic_uint_fast64_t rcvtimeo_us;

	/* Receive region. */
	uint8_t *region;   /* lock */
	size_t region_len; /* lock */
	int region_owned;  /* lock: mmap'ed by us, munmap at close */

	pthread_mutex_t errlock;  /* guards errmsg (error paths only) */
	char errmsg[128];	  /* errlock: last error text */
	struct homa_socket *next; /* lock: rt->socks list */
};

/* The process-wide runtime. */
struct homa_rt {
	pthread_mutex_t lock;
	struct homa_engine *engine;	   /* lock */
	struct homa_config cfg;		   /* read-only after init */
	struct homa_socket *socks;	   /* lock */
	int nsocks;			   /* lock */
	uint64_t next_serial;		   /* lock */
	atomic_uint_fast64_t next_timeout; /* cached homa_engine_next_timeout() */
	uint64_t timer_armed_at;	   /* lock: deadline programmed in timerfd */
	uint64_t timer_slack; /* lock: HOMA_RT_IDLE_NS while receivers poll, else
				 half the pacer's NIC backlog */

	pthread_t bg;
	int bg_epfd;
	int bg_timerfd;
	int bg_stop_efd;
	atomic_int bg_stop;
	pthread_cond_t writable_cv; /* broadcast by callbacks.writable, shutdown */

	struct homa_rt_txq *txq;    /* lock: queued small UDP packets; NULL: no GSO */
	int errq_pending;	    /* lock: some socket has errq_pending */
	uint64_t rng;		    /* lock: loss-injection generator */
	struct homa_rt_stats stats; /* lock */
	/* Sockets switched to UDP_GRO (folded into stats by homa_get_stats). */
	atomic_uint_fast64_t rx_gro_on;
};

/* The runtime, or NULL before homa_init(). */
extern struct homa_rt *homa_rt_global;

/* homa_rt.c */
uint64_t homa_rt_now(void);
struct homa_rt *homa_rt_get(int *err);
void homa_rt_after_engine(struct homa_rt *rt);
void homa_rt_sync_ready(struct homa_socket *s);
void homa_rt_bg_watch(struct homa_rt *rt, struct homa_socket *s, int arm);
void homa_rt_bg_unwatch(struct homa_rt *rt, struct homa_socket *s);
void homa_rt_bg_kick(struct homa_rt *rt);
void homa_rt_bg_look_by(struct homa_rt *rt, uint64_t at);
int homa_rt_drop(struct homa_rt *rt, double fraction);
int homa_rt_mtu_default(void);

/* homa_rt_carrier.c */
int homa_rt_carrier_open(int family, int carrier, uint16_t port);
/* Turns UDP_GRO on for a UDP socket (see rx_gro). */
void homa_rt_carrier_gro_on(int fd);
int homa_rt_carrier_set_port(struct homa_socket *s, uint16_t port);
void homa_rt_carrier_send(struct homa_rt *rt, struct homa_socket *s,
			  const struct homa_endpoint *dst, int priority,
			  const uint8_t *hdr, size_t hdr_len, const uint8_t *payload,
			  size_t payload_len);
/* A batch of received packets, read without the lock, input with it. */
struct homa_rt_rxbatch;
struct homa_rt_rxbatch *homa_rt_rxbatch_get(void);
int homa_rt_rx_read(struct homa_socket *s, struct homa_rt_rxbatch *b);
void homa_rt_rx_input(struct homa_rt *rt, struct homa_socket *s,
		      struct homa_rt_rxbatch *b, int n, uint64_t now);
int homa_rt_rx_drain(struct homa_rt *rt, struct homa_socket *s, int max_batches);
void homa_rt_rx_errors(struct homa_rt *rt, struct homa_socket *s, uint64_t now);
int homa_rt_sendmsg(struct homa_rt *rt, struct homa_socket *s, struct msghdr *msg);
/* Sets the DSCP bits of s's packets to priority level (cached). */
void homa_rt_set_priority(struct homa_socket *s, int priority);
int homa_rt_icmp_errno(int err);
void homa_rt_addr_to_sockaddr(const struct homa_endpoint *ep, int family,
			      union homa_sockaddr *out, socklen_t *len);
int homa_rt_sockaddr_to_ep(const struct sockaddr *sa, socklen_t len, int family,
			   struct homa_endpoint *ep);

/* homa_rt_doorbell.c: open returns 0 or -errno (then d has no counter);
 * attach puts the filter on a UDP socket (0 or -errno). */
int homa_rt_doorbell_open(struct homa_rt_doorbell *d);
int homa_rt_doorbell_attach(const struct homa_rt_doorbell *d, int fd);
void homa_rt_doorbell_close(struct homa_rt_doorbell *d);

/* homa_rt_txq.c */
/* UDP packets below this size are queued and sent in batches; larger ones
 * go out directly (after the queue, to keep the order). */
#define HOMA_RT_TXQ_BELOW 16384
struct homa_rt_txq *homa_rt_txq_new(void);
void homa_rt_txq_free(struct homa_rt_txq *q);
int homa_rt_txq_add(struct homa_rt *rt, struct homa_socket *s,
		    const union homa_sockaddr *to, socklen_t tolen, int priority,
		    const uint8_t *hdr, size_t hdr_len, const uint8_t *payload,
		    size_t payload_len);
/* Sends what is queued; returns the number of messages (batches) sent. */
int homa_rt_txq_flush(struct homa_rt *rt);
/* The same, then (if something was sent) the engine's deferred acks. */
void homa_rt_txq_flush_then_acks(struct homa_rt *rt);
/* 1 if packets are queued (lock held). */
int homa_rt_txq_pending(const struct homa_rt *rt);
/* Flushes queued packets and releases rt->lock: every unlock goes here... */
void homa_rt_unlock(struct homa_rt *rt);
/* ...except after a HOMA_SEND_MORE send (and a homa_recv() that found a
 * message while packets were held): releases rt->lock, packets stay queued. */
void homa_rt_unlock_hold(struct homa_rt *rt);
/* An ICMP error was seen inside an engine call: read s's queue at unlock. */
void homa_rt_errq_pending(struct homa_rt *rt, struct homa_socket *s);

/* homa_rt_socket.c */
int homa_rt_set_err(struct homa_socket *s, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int homa_rt_core_err(struct homa_socket *s, int err, const char *what);
int homa_rt_ensure_rcvbuf(struct homa_rt *rt, struct homa_socket *s);

#endif /* HOMA_RT_H */
