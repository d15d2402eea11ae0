/*
 * homa.h - libhoma: the Homa transport protocol on ordinary Linux sockets.
 *
 * This is the public API. It reproduces the semantics of Linux kernel Homa
 * (socket(AF_INET*, SOCK_DGRAM, IPPROTO_HOMA) plus its sendmsg/recvmsg
 * argument structs, SO_HOMA_RCVBUF, SO_HOMA_SERVER, HOMAIOCABORT and
 * HOMAIOCINFO) as plain function calls, so a program written for kernel Homa
 * ports by renaming calls:
 *
 *     kernel Homa                          libhoma
 *     socket(AF_INET, SOCK_DGRAM, 146)     homa_socket(AF_INET, 0, &s)
 *     bind(fd, addr, len)                  homa_bind(s, addr, len)
 *     setsockopt(SO_HOMA_RCVBUF)           homa_set_rcvbuf(s, region, len) (optional)
 *     setsockopt(SO_HOMA_SERVER)           homa_set_server(s, 1)
 *     homa_send / homa_sendv               homa_send / homa_sendv
 *     homa_reply / homa_replyv             homa_reply / homa_replyv
 *     recvmsg + homa_recvmsg_args          homa_recv(s, &msg, flags)
 *     ioctl(HOMAIOCABORT)                  homa_abort(s, id, error)
 *     ioctl(HOMAIOCINFO)                   homa_info(s, ...)
 *     poll/epoll on the socket fd          epoll on homa_fd(s)
 *     shutdown / close                     homa_shutdown / homa_close
 *
 * ERROR CONVENTION. Every function that can fail returns a negative errno
 * value (-EINVAL, -EAGAIN, ...) and never sets errno; 0 or a non-negative
 * result means success. homa_error_msg(s) gives a sentence explaining the
 * last error returned on that socket (like HOMAIOCINFO's error_msg), and
 * homa_strerror(err) a generic text for any code. The codes each call can
 * return are listed with it; nothing fails silently or crashes on bad input.
 *
 * PROCESS MODEL. One protocol engine (see homa_core.h) per process serves
 * every socket: the grant scheduler and the pacer are per host. It is created
 * by homa_init() or, with defaults and environment overrides, by the first
 * homa_socket(). One lock guards it; all calls are safe from any number of
 * threads, on one socket or many.
 *
 * THREADING AND POLLING. There is no thread hand-off on the fast path. A
 * thread sending a message runs the protocol and the sendmsg() system calls
 * itself. A thread waiting in homa_recv() reads the socket's packets itself:
 * it busy-polls for up to poll_usecs (default 100, env HOMA_POLL_USECS, 0 =
 * never spin; after 2 us without news it yields the CPU between polls, so
 * spinners that share a core take turns), then sleeps in the kernel until
 * packets or a wake-up arrive.
 * A background thread runs timers (retransmission, timeouts, acks) and the
 * pacer, and reads packets for sockets that no application thread is
 * waiting on, so grants and acks keep flowing while the application is busy
 * elsewhere. It sleeps when there is nothing to do.
 *
 * CARRIERS. HOMA_CARRIER_UDP (default, no privileges): every Homa packet is
 * the payload of one UDP datagram (or one segment of a UDP GSO/GRO batch) and
 * the Homa port is the UDP port. HOMA_CARRIER_RAW (root or CAP_NET_RAW): the
 * same bytes directly over IP protocol 146, as the kernel module sends them,
 * so libhoma can talk to kernel Homa. Both carriers work over IPv4 and IPv6;
 * an AF_INET6 UDP socket also reaches IPv4 peers through v4-mapped addresses.
 */
#ifndef HOMA_H
#define HOMA_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>

#include "homa_core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------ configuration */

enum homa_carrier {
	HOMA_CARRIER_UDP = 0, /* Homa packets as UDP payloads (default) */
	HOMA_CARRIER_RAW = 1, /* IP protocol 146, wire-compatible with kernel Homa */
};

/*
 * Process-wide runtime configuration. Fill with homa_config_default() (which
 * applies the environment variables listed per field), change fields, pass
 * to homa_init().
 */
struct homa_config {
	/*
	 * Protocol settings for the engine. homa_config_default() starts from
	 * homa_settings_default() and then adapts them to the local machine:
	 *   max_packet_bytes: from the MTU (loopback's 65536 gives ~64 KB
	 *     packets); env HOMA_MTU=<bytes> overrides the MTU used.
	 *   link_mbps: 1000000 (1 Tbit/s) so the pacer does not throttle
	 *     loopback traffic, whose real capacity is memory bandwidth; set
	 *     the NIC's rate for real networks. Env HOMA_LINK_MBPS.
	 *   timeout_ticks etc.: env HOMA_TIMEOUT_TICKS, HOMA_RESEND_TICKS,
	 *     HOMA_REQUEST_ACK_TICKS.
	 *   max_nic_backlog_ns: env HOMA_NIC_BACKLOG_NS. The pacer is woken
	 *     once half of it has drained, so on a slow link a backlog of
	 *     several packets' time (e.g. 1 ms at 100 Mbit/s) sends a batch
	 *     per wake-up instead of one packet.
	 */
	struct homa_settings settings;
	/* Microseconds a waiting homa_recv() busy-polls before sleeping.
	 * Default 100 (more than a ~60 us cross-core wake-up, so two peers
	 * that fell asleep get back to polling); env HOMA_POLL_USECS; 0 =
	 * sleep at once. Only time actually spent polling counts. */
	uint32_t poll_usecs;
	/* Default receive region per socket, bytes (mmap'ed lazily when a
	 * socket first needs one and has none). Default 64 MiB (virtual;
	 * pages are touched only when used); env HOMA_RCVBUF_MB. */
	size_t default_rcvbuf_bytes;
	/*
	 * Loss injection, for robustness tests: the fraction (0.0 .. 1.0) of
	 * outgoing packets dropped just before sendmsg(), and of incoming
	 * packets dropped just before the engine sees them. Decisions come
	 * from a generator seeded with drop_seed, so a run is repeatable for
	 * a given packet order. Default 0; env HOMA_DROP_SEND, HOMA_DROP_RECV,
	 * HOMA_DROP_SEED. Dropped packets are counted in homa_rt_stats.
	 */
	double drop_send;
	double drop_recv;
	uint64_t drop_seed;
	/* Seed for the engine's random client ports and RPC ids; 0 (default)
	 * means fresh entropy from getrandom(). */
	uint64_t engine_seed;
	/* Queue UDP packets smaller than 16 KB (on any MTU) and send them in
	 * batches: one sendmmsg() per lock hold (or per HOMA_SEND_MORE run),
	 * equal-sized packets to one peer as one UDP GSO (UDP_SEGMENT)
	 * datagram; UDP GRO on receive. Default 1; env HOMA_GSO=0 disables
	 * (one sendmsg() per packet; HOMA_SEND_MORE then has no effect). */
	int use_gso;
	/* Receive large DATA payloads (UDP carrier) straight into the
	 * receive region instead of copying them out of a packet buffer
	 * (one more system call per packet; see docs/perf.md). Default 0;
	 * env HOMA_RX_PLACE=1 enables. */
	int rx_place;
	/* Give each UDP socket a doorbell: an eBPF socket filter that counts
	 * arriving datagrams in memory shared with the process, so that a
	 * busy-polling homa_recv() makes a system call only when something
	 * arrived (see docs/perf.md). Needs CAP_BPF or root where unprivileged
	 * BPF is off (Debian's default); without it sockets poll with
	 * recvfrom() as they would with 0. Default 1; env HOMA_DOORBELL=0
	 * disables. homa_rt_stats.rx_doorbells counts the sockets that got one. */
	int use_doorbell;
};

/* Fills *c with the defaults above, including environment overrides.
 * Returns 0, or -EINVAL if an environment variable does not parse (the
 * default is then kept for it). */
int homa_config_default(struct homa_config *c);

/*
 * Creates the process's engine and background thread with *c (NULL = the
 * defaults of homa_config_default()). Optional: the first homa_socket()
 * calls homa_init(NULL) if needed.
 * Returns 0, -EALREADY (already initialised), -EINVAL (bad settings; see
 * homa_last_error_msg()), -ENOMEM, or a system call's error.
 */
int homa_init(const struct homa_config *c);

/*
 * Destroys the engine and stops the background thread, so that homa_init()
 * may be called again (tests use this to change settings). Every socket
 * must be closed first. Returns 0, -EBUSY (sockets still open) or
 * -ENOENT (not initialised).
 */
int homa_fini(void);

/* Text for the last process-wide error (homa_init), "" if none. */
const char *homa_last_error_msg(void);

/* ------------------------------------------------------------------ sockets */

struct homa_socket;

/* homa_socket() flags. */
#define HOMA_SOCK_NONBLOCK 0x1 /* like O_NONBLOCK: homa_recv never waits */
#define HOMA_SOCK_RAW	   0x2 /* HOMA_CARRIER_RAW instead of UDP */

/*
 * Opens a socket on family AF_INET or AF_INET6 with a random free client
 * port >= 32768. It can send requests at once; it accepts requests only
 * after homa_bind() or homa_set_server(s, 1). flags: HOMA_SOCK_*.
 * Returns 0 (*out set), -EAFNOSUPPORT (family), -EINVAL (flags),
 * -EPERM (raw carrier without CAP_NET_RAW), -EADDRNOTAVAIL (no free port),
 * -ENOMEM, or a system call's error (e.g. -EMFILE).
 */
int homa_socket(int family, int flags, struct homa_socket **out);

/*
 * Binds server port (1..32767) given in a sockaddr_in / sockaddr_in6 of the
 * socket's family; the IP address is ignored (like kernel Homa: the socket
 * receives on every address). The socket leaves its client port and accepts
 * requests. Port 0 is a no-op.
 * Returns 0, -EAFNOSUPPORT (address family differs from the socket's),
 * -EINVAL (addrlen too short, port >= 32768), -EADDRINUSE (another Homa
 * socket, or with the UDP carrier any UDP socket, holds the port),
 * -ESHUTDOWN.
 */
int homa_bind(struct homa_socket *s, const struct sockaddr *addr, socklen_t addrlen);

/* SO_HOMA_SERVER: 1 accepts incoming requests, 0 refuses them (they are
 * dropped and the client eventually times out). Returns 0 or -ESHUTDOWN. */
int homa_set_server(struct homa_socket *s, int enable);

/*
 * SO_HOMA_RCVBUF: supplies the receive region, length bytes at region
 * (page-aligned; owned by the caller, who keeps it mapped until
 * homa_close()). Messages are placed there in 64 KiB bpages. Optional: a
 * socket that needs a region and has none gets an mmap'ed one of
 * default_rcvbuf_bytes (freed by homa_close()). Set once, before any
 * message is sent or received.
 * Returns 0, -EINVAL (misaligned, smaller than (HOMA_MAX_BPAGES + 1) bpages,
 * larger than 4 GiB, or a region is already set), -ESHUTDOWN.
 */
int homa_set_rcvbuf(struct homa_socket *s, void *region, size_t length);

/* O_NONBLOCK equivalent for homa_recv() (and blocked sends). Returns 0. */
int homa_set_nonblocking(struct homa_socket *s, int enable);

/*
 * SO_RCVTIMEO equivalent: a blocking homa_recv() gives up after usecs
 * microseconds with -ETIMEDOUT. 0 (default) waits forever. Returns 0.
 */
int homa_set_recv_timeout(struct homa_socket *s, uint64_t usecs);

/* The socket's Homa port (client port, or the bound server port). */
uint16_t homa_get_port(const struct homa_socket *s);
/* AF_INET or AF_INET6. */
int homa_get_family(const struct homa_socket *s);

/*
 * A file descriptor for epoll/poll/select: readable (EPOLLIN) while
 * homa_recv(s, id 0) would return a message (or an error) at once, and after
 * shutdown. Private responses never make it readable. Owned by the socket:
 * do not read or close it. While no thread waits in homa_recv(), packets
 * are processed by the background thread, so the fd becomes readable
 * without the application calling in.
 */
int homa_fd(struct homa_socket *s);

/*
 * Shuts the socket down: its port is released, every RPC ends, every thread
 * waiting in homa_recv() or a blocked send returns -ESHUTDOWN, and later
 * calls return -ESHUTDOWN. Idempotent. Returns 0.
 */
int homa_shutdown(struct homa_socket *s);

/*
 * Shuts down and frees the socket (and its default receive region). No
 * other thread may use s during or after this call. Returns 0.
 */
int homa_close(struct homa_socket *s);

/* ---------------------------------------------------------------- sending */

/* homa_send flags (the kernel's homa_sendmsg_args.flags), from homa_core.h:
 * HOMA_SENDMSG_PRIVATE (0x01): the response is only returned to a
 * homa_recv() naming this id, and never makes homa_fd() readable. */

/*
 * HOMA_SEND_MORE (homa_send/homa_sendv/homa_reply_flags/homa_replyv_flags;
 * libhoma only, like MSG_MORE): more messages follow soon, so the runtime
 * may hold this message's packets and send them together with the next
 * ones, in one system call (and, for equal-sized packets to one peer, one
 * UDP GSO datagram that the peer receives in one call). Held packets leave
 * at the first of:
 *   - the next homa_send/homa_sendv/homa_reply* without HOMA_SEND_MORE
 *     (from any thread);
 *   - the next homa_recv() that finds no message ready, before it does
 *     anything else (polls, waits, returns -EAGAIN); a homa_recv() with
 *     msg->id 0 that returns a message at once keeps them held, so a
 *     server may answer a whole batch of requests;
 *   - homa_flush(), homa_shutdown(), homa_close();
 *   - any other libhoma call that takes the engine lock, in any thread,
 *     and the background thread's next wake-up (a timer, at most a few
 *     milliseconds while RPCs are alive): a safety net, not a schedule.
 * Holding never loses or reorders packets: packets leave in the order the
 * protocol produced them. Only small UDP packets (below 16 KB) are held;
 * with the raw carrier or HOMA_GSO=0 the flag is accepted and ignored.
 * Typical use: a client issuing a burst of requests, then homa_recv(); a
 * server answering each request it receives with HOMA_SEND_MORE, as its
 * loop goes straight back to homa_recv().
 */
#define HOMA_SEND_MORE 0x10000

/*
 * HOMA_SEND_ZEROCOPY (homa_send/homa_sendv only: requests; libhoma only):
 * the engine sends and retransmits the request straight from the caller's
 * bytes instead of first copying them (a 1 MB request costs one copy per
 * byte fewer). The message must be one piece (homa_sendv: iovcnt 1, else
 * -EINVAL), and the caller must keep those bytes valid and unchanged until
 * the RPC has ended: homa_recv() has returned its response or its error, or
 * homa_abort() covering it, homa_shutdown() or homa_close() has returned.
 * A request that fails inside homa_send() (any error) was not kept.
 */
#define HOMA_SEND_ZEROCOPY 0x20000

/*
 * Sends a request of length bytes at buf to dest (sockaddr_in/_in6 of the
 * socket's family; an AF_INET6 socket also takes v4-mapped addresses). The
 * bytes are copied (unless HOMA_SEND_ZEROCOPY): buf may be reused at once.
 * *id gets the new RPC's id (even). completion_cookie comes back with the
 * response. flags: HOMA_SENDMSG_PRIVATE, HOMA_SEND_MORE, HOMA_SEND_ZEROCOPY.
 * Returns 0, -EINVAL (length 0 or > HOMA_MAX_MESSAGE_LENGTH, port 0, bad
 * flags, short destlen), -EAFNOSUPPORT (dest family), -EAGAIN (send memory
 * full and the socket is non-blocking; otherwise the call waits),
 * -ENOMEM, -ESHUTDOWN.
 */
int homa_send(struct homa_socket *s, const void *buf, size_t length,
	      const struct sockaddr *dest, socklen_t destlen, uint64_t *id,
	      uint64_t completion_cookie, int flags);

/* homa_send() with the message gathered from iov[0..iovcnt). Same errors. */
int homa_sendv(struct homa_socket *s, const struct iovec *iov, int iovcnt,
	       const struct sockaddr *dest, socklen_t destlen, uint64_t *id,
	       uint64_t completion_cookie, int flags);

/*
 * Sends the response to request id (odd, as homa_recv() returned it) to
 * dest, which must be the peer homa_recv() reported.
 * Returns 0, -EINVAL (length 0 or too long, id even, the request is not in
 * service), -ENOENT (unknown id: never received, already answered, or
 * ended - kernel Homa returns 0 here; we report it), -EAFNOSUPPORT, the
 * RPC's own error (positive errno negated) if it failed meanwhile,
 * -EAGAIN, -ENOMEM, -ESHUTDOWN.
 */
int homa_reply(struct homa_socket *s, const void *buf, size_t length,
	       const struct sockaddr *dest, socklen_t destlen, uint64_t id);

/* homa_reply() with the message gathered from iov[0..iovcnt). */
int homa_replyv(struct homa_socket *s, const struct iovec *iov, int iovcnt,
		const struct sockaddr *dest, socklen_t destlen, uint64_t id);

/* homa_reply() / homa_replyv() with flags: 0 or HOMA_SEND_MORE. Same
 * errors, plus -EINVAL for unknown flags. */
int homa_reply_flags(struct homa_socket *s, const void *buf, size_t length,
		     const struct sockaddr *dest, socklen_t destlen, uint64_t id,
		     int flags);
int homa_replyv_flags(struct homa_socket *s, const struct iovec *iov, int iovcnt,
		      const struct sockaddr *dest, socklen_t destlen, uint64_t id,
		      int flags);

/*
 * Sends every packet held by HOMA_SEND_MORE now (those of every socket of
 * the process: the queue is shared). Returns 0, or -EINVAL (s is NULL).
 */
int homa_flush(struct homa_socket *s);

/* -------------------------------------------------------------- receiving */

/* A peer address of either family. */
union homa_sockaddr {
	struct sockaddr sa;
	struct sockaddr_in in4;
	struct sockaddr_in6 in6;
};

/*
 * homa_recv()'s argument and result: the kernel's homa_recvmsg_args plus
 * what recvmsg returned beside it (length, msg_name).
 */
struct homa_msg {
	/* In: 0 = any request or non-private response; else the id of a
	 * private client RPC to wait for. Out: the id of the returned RPC
	 * (odd = a request to answer, even = a response), 0 if none. */
	uint64_t id;
	/* Out: the request's cookie, for responses; 0 for requests. */
	uint64_t completion_cookie;
	/* In: number of bpages in bpage_offsets being handed back (freed
	 * before waiting). Out: number of bpages holding the message. */
	uint32_t num_bpages;
	/* In/out: offsets of bpages from the region start. A message of
	 * length L occupies ceil(L / 65536) of them: all but the last are
	 * whole 64 KiB bpages, the last holds the remainder. */
	uint32_t bpage_offsets[HOMA_MAX_BPAGES];
	/* Out: message length in bytes (also the return value). */
	uint32_t length;
	/* Out: the peer; pass it to homa_reply() for requests. Same family
	 * as the socket. */
	union homa_sockaddr peer;
	socklen_t peer_len;
};

/* homa_recv() flags. */
#define HOMA_RECV_NONBLOCK 0x1 /* like MSG_DONTWAIT */

/*
 * Receives the next message. First hands back msg->num_bpages bpages from
 * msg->bpage_offsets (set num_bpages to 0 on the first call), then returns
 * the oldest ready message (msg->id 0) or the named private RPC (msg->id !=
 * 0). The caller owns the message's bpages (homa_msg_data(), homa_msg_copy())
 * until it hands them back, in a later homa_recv() or homa_release_bpages().
 * A request must then be answered with homa_reply(); a response ends its
 * RPC.
 * Returns the message length (>= 1), or:
 *   a failed RPC's error, negated (-ETIMEDOUT: the peer did not answer;
 *     -ENOTCONN / -EHOSTUNREACH: unreachable; an abort code): msg->id and
 *     msg->completion_cookie name the RPC, num_bpages is 0, the RPC ended;
 *   -EAGAIN: nothing ready and non-blocking (flag or socket setting);
 *   -ETIMEDOUT with msg->id == 0: the receive timeout passed;
 *   -ENOBUFS: nothing ready, a message is stalled because the receive
 *     region is full and every free bpage is held by the application: hand
 *     bpages back and call again (instead of waiting forever);
 *   -EINVAL: num_bpages > HOMA_MAX_BPAGES or an offset not held by the
 *     application (nothing was freed), or id names no private RPC of
 *     this socket;
 *   -ESHUTDOWN: the socket was shut down (also wakes waiting threads).
 */
int homa_recv(struct homa_socket *s, struct homa_msg *msg, int flags);

/* Hands bpages back. Returns 0 or -EINVAL (an offset not held by the
 * application; then none is freed). */
int homa_release_bpages(struct homa_socket *s, const uint32_t *offsets, uint32_t count);

/* Address of a bpage offset in the receive region. */
void *homa_bpage_addr(const struct homa_socket *s, uint32_t offset);

/*
 * Locates the bytes of a received message piece by piece: piece i (0 <= i <
 * msg->num_bpages) starts at the returned pointer; *len gets its length
 * (65536 except for the last). Returns NULL if i is out of range.
 */
void *homa_msg_data(const struct homa_socket *s, const struct homa_msg *msg, uint32_t i,
		    size_t *len);

/*
 * Copies bytes [offset, offset + len) of a received message into buf.
 * Returns the number of bytes copied (less than len if the message ends
 * first; 0 if offset >= msg->length).
 */
size_t homa_msg_copy(const struct homa_socket *s, const struct homa_msg *msg,
		     size_t offset, void *buf, size_t len);

/* --------------------------------------------------------- control, info */

/*
 * HOMAIOCABORT: aborts client RPC id (0 = every client RPC of the socket).
 * error 0: they end silently and are never returned by homa_recv();
 * otherwise each completes with that positive errno (homa_recv() returns
 * -error). The server is not told. Returns 0, -EINVAL (id names no client
 * RPC of this socket, or error < 0), -ESHUTDOWN.
 */
int homa_abort(struct homa_socket *s, uint64_t id, int error);

/*
 * HOMAIOCINFO: socket state and up to max per-RPC records (rpcs may be NULL
 * when max is 0). *count (may be NULL) gets the number of live RPCs, which
 * may exceed max. See struct homa_sock_info / homa_rpc_info in homa_core.h.
 * Returns 0 or -ESHUTDOWN.
 */
int homa_info(struct homa_socket *s, struct homa_sock_info *info,
	      struct homa_rpc_info *rpcs, size_t max, size_t *count);

/* Last error text on this socket (a sentence), "" if none. The text is a
 * copy private to the calling thread, valid until its next homa_error_msg().
 * The routine outcomes of polling (-EAGAIN, and -ETIMEDOUT with msg.id 0
 * from homa_recv) leave it unchanged. */
const char *homa_error_msg(const struct homa_socket *s);

/* Generic text for a (negative or positive) errno returned by libhoma. */
const char *homa_strerror(int err);

/* ------------------------------------------------------------ statistics */

/* Runtime counters (in addition to the engine's homa_stats). */
struct homa_rt_stats {
	uint64_t tx_packets;	 /* Homa packets handed to the carrier */
	uint64_t tx_syscalls;	 /* sendto/sendmsg/sendmmsg calls */
	uint64_t tx_gso_batches; /* UDP_SEGMENT sends (several packets each) */
	uint64_t tx_errors;	 /* send system calls that failed */
	uint64_t rx_packets;	 /* Homa packets given to the engine */
	uint64_t rx_syscalls;	 /* reads that returned data */
	uint64_t rx_gro_packets; /* packets that arrived coalesced by GRO */
	uint64_t drop_send;	 /* dropped by loss injection, outgoing */
	uint64_t drop_recv;	 /* dropped by loss injection, incoming */
	uint64_t bg_wakeups;	 /* background thread wake-ups */
	uint64_t sleeps;	 /* homa_recv waits that went to sleep */
	uint64_t rx_truncated;	 /* datagrams over 64 KiB, dropped */
	uint64_t bg_covers;	 /* bg thread read for a descheduled spinner */
	uint64_t rx_placed;	 /* DATA received straight into the region */
	uint64_t rx_place_miss;	 /* large datagrams that could not be placed */
	uint64_t rx_gro_on;	 /* sockets whose reads switched to UDP_GRO */
	uint64_t rx_doorbells;	 /* sockets opened with a doorbell (use_doorbell) */
	uint64_t rx_empty_reads; /* reads by waiting receivers that found nothing */
	uint64_t rx_bell_late;	 /* ...that found datagrams the doorbell had not
				    announced in time (a safety read) */
};

/*
 * Copies the engine's counters (may be NULL) and the runtime's (may be
 * NULL), under the engine lock. Returns 0 or -ENOENT (not initialised).
 */
int homa_get_stats(struct homa_stats *engine, struct homa_rt_stats *rt);

/* A copy of the live engine settings. Returns 0 or -ENOENT. */
int homa_get_settings(struct homa_settings *out);

#ifdef __cplusplus
}
#endif
#endif /* HOMA_H */
