/*
 * homa_rt_carrier.c - moving Homa packets over real sockets.
 *
 * UDP carrier: each Homa socket owns one UDP socket bound to its Homa port;
 * a Homa packet is one datagram payload, byte for byte. The UDP source port
 * carries no meaning (the Homa header has the real one), so packets that
 * belong to no socket may leave through any socket of a suitable family.
 *
 * Raw carrier: each Homa socket owns one raw IP socket of protocol 146. The
 * kernel hands every protocol-146 packet to every such socket, so each gets
 * a classic BPF filter accepting only its destination port (bytes 2-3 of
 * the Homa header; IPv4 raw sockets see the IP header first, whose length
 * the filter reads from IHL). The kernel filters; user space never sees
 * other sockets' traffic.
 *
 * Receiving is split in two so that polling threads can read without the
 * engine lock: homa_rt_rx_read() fills a per-thread batch with one
 * recvmmsg(), homa_rt_rx_input() (lock held) feeds it to the engine.
 * Small packets leave in UDP GSO batches (homa_rt_txq.c), also on
 * loopback; UDP GRO is enabled so such batches (and coalesced batches from
 * a real NIC) arrive as one datagram, split here. Large DATA packets can
 * instead be received straight into their bpage ("placement", below).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <time.h> /* before errqueue.h, which needs struct timespec */
#include <linux/errqueue.h>
#include <linux/filter.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "homa_rt.h"

#ifndef UDP_GRO
#define UDP_GRO 104
#endif

/* Socket buffers big enough for a window of 64 KB packets from many peers. */
#define HOMA_RT_SOCKBUF (16 << 20)

/* ------------------------------------------------------------ addresses */

void homa_rt_addr_to_sockaddr(const struct homa_endpoint *ep, int family,
			      union homa_sockaddr *out, socklen_t *len)
{
	uint32_t v4;

	memset(out, 0, sizeof(*out));
	if (family == AF_INET && homa_addr_is_ipv4(&ep->addr, &v4)) {
		out->in4.sin_family = AF_INET;
		out->in4.sin_port = htons(ep->port);
		out->in4.sin_addr.s_addr = htonl(v4);
		*len = sizeof(out->in4);
		return;
	}
	out->in6.sin6_family = AF_INET6;
	out->in6.sin6_port = htons(ep->port);
	memcpy(&out->in6.sin6_addr, ep->addr.bytes, 16);
	*len = sizeof(out->in6);
}

int homa_rt_sockaddr_to_ep(const struct sockaddr *sa, socklen_t len, int family,
			   struct homa_endpoint *ep)
{
	if (!sa || len < (socklen_t)sizeof(sa_family_t))
		return -EINVAL;
	if (sa->sa_family != family)
		return -EAFNOSUPPORT;
	if (family == AF_INET) {
		const struct sockaddr_in *in4 = (const struct sockaddr_in *)sa;

		if (len < (socklen_t)sizeof(*in4))
			return -EINVAL;
		homa_addr_from_ipv4(&ep->addr, ntohl(in4->sin_addr.s_addr));
		ep->port = ntohs(in4->sin_port);
		return 0;
	}
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

	if (len < (socklen_t)sizeof(*in6))
		return -EINVAL;
	memcpy(ep->addr.bytes, &in6->sin6_addr, 16);
	ep->port = ntohs(in6->sin6_port);
	return 0;
}

/* ------------------------------------------------------------ opening */

static void set_bufsize(int fd)
{
	int sz = HOMA_RT_SOCKBUF;

	/* FORCE variants pass rmem_max/wmem_max when we are privileged. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
}

static int attach_port_filter(int fd, int family, uint16_t port)
{
	struct sock_filter v4[] = {
	    BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0), /* X = IP header length */
	    BPF_STMT(BPF_LD | BPF_H | BPF_IND, 2),  /* A = Homa dport */
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, port, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, 0x40000),
	    BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_filter v6[] = {
	    BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 2),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, port, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, 0x40000),
	    BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog;

	if (family == AF_INET) {
		prog.len = sizeof(v4) / sizeof(v4[0]);
		prog.filter = v4;
	} else {
		prog.len = sizeof(v6) / sizeof(v6[0]);
		prog.filter = v6;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0)
		return -errno;
	return 0;
}

static int open_raw(int family, uint16_t port)
{
	int fd = socket(family, SOCK_RAW | SOCK_CLOEXEC, HOMA_IPPROTO);
	int err;

	if (fd < 0)
		return -errno;
	set_bufsize(fd);
	err = attach_port_filter(fd, family, port);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

static int bind_udp(int fd, int family, uint16_t port)
{
	union homa_sockaddr a;
	socklen_t len;
	int off = 0;

	memset(&a, 0, sizeof(a));
	if (family == AF_INET) {
		a.in4.sin_family = AF_INET;
		a.in4.sin_port = htons(port);
		a.in4.sin_addr.s_addr = htonl(INADDR_ANY);
		len = sizeof(a.in4);
	} else {
		/* Dual stack, so an AF_INET6 socket reaches v4-mapped peers. */
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
		a.in6.sin6_family = AF_INET6;
		a.in6.sin6_port = htons(port);
		a.in6.sin6_addr = in6addr_any;
		len = sizeof(a.in6);
	}
	return bind(fd, &a.sa, len) < 0 ? -errno : 0;
}

/* UDP_GRO is not turned on here but by the first large datagram (see
 * rx_gro in homa_rt.h and read_batch()). */
static int open_udp(int family, uint16_t port)
{
	int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
	int one = 1, err;

	if (fd < 0)
		return -errno;
	err = bind_udp(fd, family, port);
	if (err) {
		close(fd);
		return err;
	}
	set_bufsize(fd);
	/* ICMP errors (port unreachable) reach us through the error queue. */
	setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one));
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof(one));
	return fd;
}

int homa_rt_carrier_open(int family, int carrier, uint16_t port)
{
	if (carrier == HOMA_CARRIER_RAW)
		return open_raw(family, port);
	return open_udp(family, port);
}

void homa_rt_carrier_gro_on(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_UDP, UDP_GRO, &one, sizeof(one));
}

int homa_rt_carrier_set_port(struct homa_socket *s, uint16_t port)
{
	if (s->carrier == HOMA_CARRIER_RAW) {
		int err = attach_port_filter(s->fd, s->family, port);

		return err ? err : s->fd;
	}
	return open_udp(s->family, port);
}

/* ------------------------------------------------------------ sending */

/* A socket that can reach dst when the engine sends on behalf of no socket. */
static struct homa_socket *fallback_socket(struct homa_rt *rt,
					   const struct homa_endpoint *dst)
{
	int v4 = homa_addr_is_ipv4(&dst->addr, NULL);
	struct homa_socket *s;

	for (s = rt->socks; s; s = s->next) {
		if (atomic_load(&s->shut))
			continue;
		if (s->family == AF_INET ? v4 : (!v4 || s->carrier == HOMA_CARRIER_UDP))
			return s;
	}
	return NULL;
}

/* Sets the DSCP class bits for priority level; cached so that a run of
 * packets at one level costs no system call. */
void homa_rt_set_priority(struct homa_socket *s, int priority)
{
	int tos = (priority & 7) << 5;

	if (tos == s->cur_tos)
		return;
	if (s->family == AF_INET6)
		setsockopt(s->fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof(tos));
	if (s->family == AF_INET || s->carrier == HOMA_CARRIER_UDP)
		setsockopt(s->fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
	s->cur_tos = tos;
}

void homa_rt_carrier_send(struct homa_rt *rt, struct homa_socket *s,
			  const struct homa_endpoint *dst, int priority,
			  const uint8_t *hdr, size_t hdr_len, const uint8_t *payload,
			  size_t payload_len)
{
	struct iovec iov[2] = {{(void *)hdr, hdr_len}, {(void *)payload, payload_len}};
	struct homa_endpoint ep;
	union homa_sockaddr to;
	struct msghdr msg;

	if (!s)
		s = fallback_socket(rt, dst);
	if (!s || (s->family == AF_INET && !homa_addr_is_ipv4(&dst->addr, NULL))) {
		rt->stats.tx_errors++;
		return;
	}
	/* UDP goes to the Homa port itself; raw IP sockets take no port. */
	ep = *dst;
	if (s->carrier == HOMA_CARRIER_RAW)
		ep.port = 0;
	homa_rt_addr_to_sockaddr(&ep, s->family, &to, &msg.msg_namelen);
	if (s->carrier == HOMA_CARRIER_UDP && rt->txq &&
	    homa_rt_txq_add(rt, s, &to, msg.msg_namelen, priority, hdr, hdr_len, payload,
			    payload_len) == 0)
		return;
	homa_rt_txq_flush(rt); /* keep the order of packets */
	homa_rt_set_priority(s, priority);
	msg.msg_name = &to;
	msg.msg_iov = iov;
	msg.msg_iovlen = payload_len ? 2 : 1;
	msg.msg_control = NULL;
	msg.msg_controllen = 0;
	msg.msg_flags = 0;
	if (homa_rt_sendmsg(rt, s, &msg) < 0) {
		rt->stats.tx_errors++;
		return;
	}
	rt->stats.tx_packets++;
}

/* 1 for the errors an ICMP message leaves pending on a UDP socket. */
int homa_rt_icmp_errno(int err)
{
	return err == ECONNREFUSED || err == EHOSTUNREACH || err == ENETUNREACH ||
	       err == EHOSTDOWN || err == EPROTO || err == EMSGSIZE;
}

/*
 * sendmsg() that does not lose the packet to an earlier ICMP error: with
 * IP_RECVERR, an ICMP message about some earlier datagram (e.g. a NEED_ACK to
 * a client that exited) leaves a pending socket error, which the next send
 * reports (and clears) instead of sending. That error is not about this
 * packet, so send once more and have the error queue read later.
 */
int homa_rt_sendmsg(struct homa_rt *rt, struct homa_socket *s, struct msghdr *msg)
{
	ssize_t r;

	rt->stats.tx_syscalls++;
	r = sendmsg(s->fd, msg, 0);
	if (r >= 0 || !homa_rt_icmp_errno(errno) || s->carrier != HOMA_CARRIER_UDP)
		return r < 0 ? -errno : 0;
	homa_rt_errq_pending(rt, s); /* read at unlock: we are inside the engine */
	rt->stats.tx_syscalls++;
	return sendmsg(s->fd, msg, 0) < 0 ? -errno : 0;
}

/* ------------------------------------------------------------ receiving */

struct homa_rt_rxbatch {
	struct mmsghdr msgs[HOMA_RT_RX_BATCH];
	struct iovec iov[HOMA_RT_RX_BATCH];
	union homa_sockaddr src[HOMA_RT_RX_BATCH];
	uint64_t ctrl[HOMA_RT_RX_BATCH][8]; /* cmsg space for UDP_GRO */
	uint8_t *buf;
	/* homa_rt_rx_read()'s look at the next datagram, for placement. */
	ssize_t peek_len; /* 0: none */
	union homa_sockaddr peek_from;
	uint8_t peek_hdr[HOMA_DATA_HDR_LEN];
};

static pthread_key_t rxbatch_key;
static pthread_once_t rxbatch_once = PTHREAD_ONCE_INIT;
static _Thread_local struct homa_rt_rxbatch *rxbatch_tl;

static void rxbatch_free(void *p)
{
	struct homa_rt_rxbatch *b = p;

	free(b->buf);
	free(b);
}

static void rxbatch_key_init(void)
{
	pthread_key_create(&rxbatch_key, rxbatch_free);
}

/* This thread's receive batch (about 1 MB, freed when the thread exits). */
struct homa_rt_rxbatch *homa_rt_rxbatch_get(void)
{
	struct homa_rt_rxbatch *b = rxbatch_tl;

	if (b)
		return b;
	pthread_once(&rxbatch_once, rxbatch_key_init);
	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->buf = malloc((size_t)HOMA_RT_RX_BATCH * HOMA_RT_RX_BUF);
	if (!b->buf) {
		free(b);
		return NULL;
	}
	pthread_setspecific(rxbatch_key, b);
	rxbatch_tl = b;
	return b;
}

/*
 * Turns UDP_GRO on for s (once). The flag goes up first; then the socket
 * option waits until no reader that saw the flag down is inside its
 * recvfrom(). A reader announces itself (rx_plain) before it looks at the
 * flag, so with sequentially consistent atomics either the reader sees the
 * flag up and uses recvmsg(), or this sees the reader and waits for it
 * (one non-blocking system call). Every datagram read with recvfrom() was
 * thus queued while GRO was off, when the kernel splits coalesced ones.
 */
static void enable_gro(struct homa_socket *s)
{
	if (atomic_exchange(&s->rx_gro, 1))
		return;
	while (atomic_load(&s->rx_plain))
		sched_yield();
	/* s->fd keeps its number for the socket's life; a bind that swaps
	 * the file under it after this gives the new one GRO (swap_fd()). */
	homa_rt_carrier_gro_on(s->fd);
	atomic_fetch_add(&homa_rt_global->rx_gro_on, 1);
}

/* 1 if the caller may read s with recvfrom() (then plain_exit() after). */
static int plain_enter(struct homa_socket *s)
{
	atomic_fetch_add(&s->rx_plain, 1);
	if (!atomic_load(&s->rx_gro))
		return 1;
	atomic_fetch_sub(&s->rx_plain, 1);
	return 0;
}

/*
 * One datagram with recvfrom() into slot 0 of b, which then looks as after
 * recvmsg() (no control message). Only on a raw socket or between
 * plain_enter() and its exit, while UDP_GRO is off: the kernel then splits
 * any coalesced datagram before queueing it, so each read is one packet.
 * Returns 1, or -1 with errno (EAGAIN: nothing to read).
 */
static int read_one_plain(struct homa_socket *s, struct homa_rt_rxbatch *b)
{
	struct mmsghdr *mm = &b->msgs[0];
	socklen_t alen = sizeof(b->src[0]);
	ssize_t r = recvfrom(s->fd, b->iov[0].iov_base, HOMA_RT_RX_BUF,
			     MSG_DONTWAIT | MSG_TRUNC, &b->src[0].sa, &alen);

	if (r < 0)
		return -1;
	mm->msg_hdr.msg_namelen = alen;
	mm->msg_hdr.msg_controllen = 0;
	mm->msg_hdr.msg_flags = r > HOMA_RT_RX_BUF ? MSG_TRUNC : 0;
	mm->msg_len = (unsigned int)(r > HOMA_RT_RX_BUF ? HOMA_RT_RX_BUF : r);
	return 1;
}

/*
 * recvmmsg() of up to a batch of datagrams into b. The batch size adapts:
 * after the last datagram, recvmmsg() tries for one more and gets EAGAIN,
 * a wasted socket read that costs a ping-pong ~0.3 us per packet on each
 * side. So a socket whose reads find one datagram at a time reads one at a
 * time, and the batch doubles (up to HOMA_RT_RX_BATCH) as soon as two reads
 * in a row, with no empty read between them, found their batch full: packets
 * are queuing up.
 */
static int read_batch(struct homa_socket *s, struct homa_rt_rxbatch *b)
{
	int vlen = atomic_load_explicit(&s->rx_vlen, memory_order_relaxed), n;
	int queued = 0;

	if (vlen < 1 || vlen > HOMA_RT_RX_BATCH)
		vlen = 1;
	for (int i = 0; i < vlen; i++) {
		struct msghdr *m = &b->msgs[i].msg_hdr;

		b->iov[i].iov_base = b->buf + (size_t)i * HOMA_RT_RX_BUF;
		b->iov[i].iov_len = HOMA_RT_RX_BUF;
		m->msg_name = &b->src[i];
		m->msg_namelen = sizeof(b->src[i]);
		m->msg_iov = &b->iov[i];
		m->msg_iovlen = 1;
		m->msg_control = b->ctrl[i];
		m->msg_controllen = sizeof(b->ctrl[i]);
		m->msg_flags = 0;
	}
	if (vlen == 1 && s->carrier == HOMA_CARRIER_RAW) {
		n = read_one_plain(s, b);
	} else if (vlen == 1 && plain_enter(s)) {
		n = read_one_plain(s, b);
		atomic_fetch_sub(&s->rx_plain, 1); /* errno stays as the read left it */
	} else if (vlen == 1) {
		/* recvmsg() is the same read without recvmmsg()'s batch
		 * bookkeeping: ~0.1 us less per call, empty or not. */
		ssize_t r = recvmsg(s->fd, &b->msgs[0].msg_hdr, MSG_DONTWAIT);

		if (r >= 0)
			b->msgs[0].msg_len = (unsigned int)r;
		n = r < 0 ? -1 : 1;
	} else {
		n = recvmmsg(s->fd, b->msgs, (unsigned)vlen, MSG_DONTWAIT, NULL);
	}
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			return -1; /* ICMP error queued */
		/* An empty read: whatever came before was not a queue. */
		if (atomic_load_explicit(&s->rx_streak, memory_order_relaxed))
			atomic_store_explicit(&s->rx_streak, 0, memory_order_relaxed);
		return 0;
	}
	if (n == vlen) {
		int streak =
		    atomic_load_explicit(&s->rx_streak, memory_order_relaxed) + 1;

		if (streak >= 2 && vlen < HOMA_RT_RX_BATCH) {
			vlen = vlen * 2 < HOMA_RT_RX_BATCH ? vlen * 2 : HOMA_RT_RX_BATCH;
			streak = 0;
			queued = vlen >= HOMA_RT_GRO_ON_BATCH;
		}
		atomic_store_explicit(&s->rx_streak, streak, memory_order_relaxed);
	} else {
		/* Caught up: the queue was shorter than the batch. */
		vlen = n > 1 ? n : 1;
		atomic_store_explicit(&s->rx_streak, 0, memory_order_relaxed);
	}
	atomic_store_explicit(&s->rx_vlen, vlen, memory_order_relaxed);
	/* GRO pays once datagrams queue up (a sender's GSO batch then arrives
	 * in one read) or messages span packets; not for one small datagram
	 * at a time, as in a ping-pong. */
	if (s->carrier == HOMA_CARRIER_UDP && homa_rt_global->cfg.use_gso &&
	    !atomic_load_explicit(&s->rx_gro, memory_order_relaxed)) {
		for (int i = 0; i < n && !queued; i++)
			queued = b->msgs[i].msg_len >= HOMA_RT_GRO_ON_BYTES;
		if (queued)
			enable_gro(s);
	}
	return n;
}

static int gro_size(struct msghdr *m);

/*
 * In bulk mode (the last datagram read was large) a look at the next
 * datagram's length decides, still without the lock, between placement
 * (HOMA_RT_RX_PLACE: homa_rt_rx_input() takes over under the lock) and the
 * plain batch read; small datagrams end bulk mode.
 */
int homa_rt_rx_read(struct homa_socket *s, struct homa_rt_rxbatch *b)
{
	b->peek_len = 0;
	if (atomic_load_explicit(&s->rx_bulk, memory_order_relaxed)) {
		struct iovec v = {b->peek_hdr, sizeof(b->peek_hdr)};
		struct msghdr m = {.msg_name = &b->peek_from,
				   .msg_namelen = sizeof(b->peek_from),
				   .msg_iov = &v,
				   .msg_iovlen = 1,
				   .msg_control = b->ctrl[0],
				   .msg_controllen = sizeof(b->ctrl[0])};
		ssize_t len = recvmsg(s->fd, &m, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);

		if (len < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		if (len >= HOMA_RT_PLACE_MIN) {
			/* Other readers may take it before the lock is ours:
			 * place_one() checks what it then reads. */
			if (len <= HOMA_RT_RX_BUF && !(m.msg_flags & MSG_CTRUNC) &&
			    !gro_size(&m))
				b->peek_len = len;
			return HOMA_RT_RX_PLACE;
		}
		atomic_store_explicit(&s->rx_bulk, 0, memory_order_relaxed);
	}
	return read_batch(s, b);
}

static void src_addr(const union homa_sockaddr *sa, struct homa_addr *out)
{
	if (sa->sa.sa_family == AF_INET)
		homa_addr_from_ipv4(out, ntohl(sa->in4.sin_addr.s_addr));
	else
		memcpy(out->bytes, &sa->in6.sin6_addr, 16);
}

/*
 * An ICMP error came back for one of our datagrams (UDP carrier, thanks to
 * IP_RECVERR): the error queue holds the original destination and the start
 * of the Homa packet, hence its destination port. "Port unreachable" means
 * no process holds that port (kernel Homa's peers see the same ICMP), so the
 * engine can fail those RPCs with ENOTCONN now instead of timing out.
 */
static void report_unreachable(struct homa_rt *rt, const union homa_sockaddr *to,
			       const uint8_t *data, ssize_t len,
			       const struct sock_extended_err *ee, uint64_t now)
{
	struct homa_addr a;
	uint16_t dport = len >= 4 ? (uint16_t)(data[2] << 8 | data[3]) : 0;

	if (ee->ee_origin != SO_EE_ORIGIN_ICMP && ee->ee_origin != SO_EE_ORIGIN_ICMP6)
		return;
	src_addr(to, &a);
	if (ee->ee_errno == ECONNREFUSED && dport)
		homa_engine_unreachable(rt->engine, &a, dport, ENOTCONN, now);
	else if (ee->ee_errno == EHOSTUNREACH || ee->ee_errno == ENETUNREACH)
		homa_engine_unreachable(rt->engine, &a, 0, EHOSTUNREACH, now);
}

/*
 * Reads the socket's ICMP error queue (lock held). Must also run whenever
 * epoll or ppoll reports EPOLLERR/POLLERR: a queued error keeps the fd in
 * that state, which is reported whatever events were asked for, until the
 * queue is empty.
 */
void homa_rt_rx_errors(struct homa_rt *rt, struct homa_socket *s, uint64_t now)
{
	for (int i = 0; i < 64; i++) {
		uint8_t data[64];
		uint64_t ctrl[32];
		union homa_sockaddr to;
		struct iovec iov = {data, sizeof(data)};
		struct msghdr m = {.msg_name = &to,
				   .msg_namelen = sizeof(to),
				   .msg_iov = &iov,
				   .msg_iovlen = 1,
				   .msg_control = ctrl,
				   .msg_controllen = sizeof(ctrl)};
		ssize_t len = recvmsg(s->fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT);
		struct cmsghdr *c;

		if (len < 0)
			return;
		for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
			struct sock_extended_err ee;

			if (!(c->cmsg_level == IPPROTO_IP &&
			      c->cmsg_type == IP_RECVERR) &&
			    !(c->cmsg_level == IPPROTO_IPV6 &&
			      c->cmsg_type == IPV6_RECVERR))
				continue;
			memcpy(&ee, CMSG_DATA(c), sizeof(ee));
			report_unreachable(rt, &to, data, len, &ee, now);
		}
	}
}

/* The GRO segment size of a received datagram, 0 if it is one packet. */
static int gro_size(struct msghdr *m)
{
	struct cmsghdr *c;
	int seg;

	for (c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
		if (c->cmsg_level == IPPROTO_UDP && c->cmsg_type == UDP_GRO) {
			memcpy(&seg, CMSG_DATA(c), sizeof(seg));
			return seg;
		}
	}
	return 0;
}

static void input_one(struct homa_rt *rt, const struct homa_addr *src, const uint8_t *p,
		      size_t len, uint64_t now)
{
	if (homa_rt_drop(rt, rt->cfg.drop_recv)) {
		rt->stats.drop_recv++;
		return;
	}
	rt->stats.rx_packets++;
	homa_engine_input(rt->engine, src, p, len, now);
}

/* Feeds one datagram (possibly a GRO batch, or led by an IPv4 header). */
static void input_datagram(struct homa_rt *rt, struct homa_socket *s, struct mmsghdr *mm,
			   const uint8_t *p, uint64_t now)
{
	size_t len = mm->msg_len;
	struct homa_addr src;
	size_t seg;

	if (mm->msg_hdr.msg_flags & MSG_TRUNC) {
		rt->stats.rx_truncated++; /* larger than any packet we accept */
		return;
	}
	src_addr(mm->msg_hdr.msg_name, &src);
	if (s->carrier == HOMA_CARRIER_RAW && s->family == AF_INET) {
		size_t ihl = len ? (size_t)(p[0] & 0xf) * 4 : 0;

		if (ihl < 20 || ihl > len)
			return;
		p += ihl;
		len -= ihl;
	}
	seg = s->carrier == HOMA_CARRIER_UDP ? (size_t)gro_size(&mm->msg_hdr) : 0;
	if (!seg || seg >= len) {
		if (s->carrier == HOMA_CARRIER_UDP && rt->cfg.rx_place &&
		    len >= HOMA_RT_PLACE_MIN)
			atomic_store_explicit(&s->rx_bulk, 1, memory_order_relaxed);
		input_one(rt, &src, p, len, now);
		return;
	}
	for (size_t off = 0; off < len; off += seg) {
		rt->stats.rx_gro_packets++;
		input_one(rt, &src, p + off, len - off < seg ? len - off : seg, now);
	}
}

/* ------------------------------------------------------------ placement */

/*
 * Receiving in place (lock held, UDP carrier). The Homa copy of a large DATA
 * payload from a packet buffer into its bpage cost as much as the kernel's
 * own copy; instead the next datagram's header is peeked, the engine says
 * where its payload goes (homa_engine_rx_place: the RPC's buffers exist and
 * none of those bytes has arrived), and one recvmsg() scatters the datagram:
 * header into a small buffer, payload into the spans, anything unexpected
 * into a spare buffer. The lock keeps the RPC and its buffers alive from the
 * peek to the engine call. Other threads may read the socket without the
 * lock meanwhile, so the datagram read may not be the one peeked: then it is
 * put back together and takes the normal path. Bytes it left in the spans
 * lie where nothing has been received; the real data overwrites them later.
 */

static int same_datagram(const uint8_t *peeked, const uint8_t *hdr, ssize_t peek_len,
			 ssize_t got, struct msghdr *m, const struct homa_addr *src)
{
	struct homa_addr from;

	if (got != peek_len || (m->msg_flags & MSG_TRUNC) || gro_size(m) ||
	    memcmp(peeked, hdr, HOMA_DATA_HDR_LEN) != 0)
		return 0;
	src_addr(m->msg_name, &from);
	return homa_addr_equal(&from, src);
}

/* The datagram read in pieces, whole again in slot 0, through the normal path. */
static void input_reassembled(struct homa_rt *rt, struct homa_socket *s,
			      struct homa_rt_rxbatch *b, const struct iovec *v, int nv,
			      struct msghdr *m, ssize_t got, uint64_t now)
{
	struct mmsghdr mm = {.msg_hdr = *m, .msg_len = (unsigned int)got};
	size_t done = 0;

	for (int i = 0; i < nv && done < (size_t)got; i++) {
		size_t len =
		    v[i].iov_len < (size_t)got - done ? v[i].iov_len : (size_t)got - done;

		memcpy(b->buf + done, v[i].iov_base, len);
		done += len;
	}
	input_datagram(rt, s, &mm, b->buf, now);
}

/*
 * One datagram: 1 if it was read and handled (placed, or the plain way when
 * the engine has no place for it), 0 if none is waiting, 2 if it is small
 * or a GRO batch (left in the socket), -1 if an ICMP error is queued.
 */
static int place_one(struct homa_rt *rt, struct homa_socket *s, struct homa_rt_rxbatch *b,
		     uint64_t now)
{
	uint8_t peeked[HOMA_DATA_HDR_LEN], hdr[HOMA_DATA_HDR_LEN];
	union homa_sockaddr from;
	struct iovec v[HOMA_PLACE_MAX_SPANS + 2];
	struct msghdr m = {.msg_name = &from,
			   .msg_namelen = sizeof(from),
			   .msg_iov = v,
			   .msg_iovlen = 1,
			   .msg_control = b->ctrl[0],
			   .msg_controllen = sizeof(b->ctrl[0])};
	struct homa_place pl;
	struct homa_addr src;
	ssize_t len, got;
	int nv = 0;

	v[0] = (struct iovec){peeked, sizeof(peeked)};
	if (b->peek_len > 0) { /* homa_rt_rx_read() looked already */
		len = b->peek_len;
		b->peek_len = 0;
		memcpy(peeked, b->peek_hdr, sizeof(peeked));
		from = b->peek_from;
	} else {
		len = recvmsg(s->fd, &m, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
		if (len < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		if (len < HOMA_RT_PLACE_MIN || len > HOMA_RT_RX_BUF ||
		    (m.msg_flags & MSG_CTRUNC) || gro_size(&m))
			return 2;
	}
	src_addr(&from, &src);
	if (homa_engine_rx_place(rt->engine, &src, peeked, sizeof(peeked), (size_t)len,
				 &pl) == 0 ||
	    pl.hdr_len != sizeof(hdr)) {
		/* E.g. the first packet of a message (no buffers yet): read
		 * this one datagram the plain way and go on placing. */
		rt->stats.rx_place_miss++;
		pl.num_spans = 0;
	} else {
		v[nv++] = (struct iovec){hdr, sizeof(hdr)};
	}
	for (unsigned int i = 0; i < pl.num_spans; i++)
		v[nv++] = (struct iovec){pl.spans[i].base, pl.spans[i].len};
	v[nv++] = (struct iovec){b->buf + HOMA_RT_RX_BUF, HOMA_RT_RX_BUF}; /* slot 1 */
	m.msg_namelen = sizeof(from);
	m.msg_iovlen = (size_t)nv;
	m.msg_controllen = sizeof(b->ctrl[0]);
	m.msg_flags = 0;
	got = recvmsg(s->fd, &m, MSG_DONTWAIT);
	if (got < 0) /* another reader took it */
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	rt->stats.rx_syscalls++;
	if (nv == 1) {
		struct mmsghdr mm = {.msg_hdr = m, .msg_len = (unsigned int)got};

		input_datagram(rt, s, &mm, v[0].iov_base, now);
		return 1;
	}
	if (!same_datagram(peeked, hdr, len, got, &m, &src)) {
		rt->stats.rx_place_miss++;
		input_reassembled(rt, s, b, v, nv, &m, got, now);
		return 1;
	}
	if (homa_rt_drop(rt, rt->cfg.drop_recv)) {
		rt->stats.drop_recv++;
		return 1;
	}
	rt->stats.rx_packets++;
	rt->stats.rx_placed++;
	homa_engine_input_placed(rt->engine, &src, hdr, sizeof(hdr), &pl, now);
	return 1;
}

/* Placement until the socket is empty, a datagram is not for placement (the
 * rest then goes through one plain batch read), a message became ready, or
 * a batch's worth is done. Returns the datagrams handled. */
static int place_loop(struct homa_rt *rt, struct homa_socket *s,
		      struct homa_rt_rxbatch *b, uint64_t now)
{
	uint64_t gen = atomic_load(&s->ready_gen);
	int total = 0;

	for (int i = 0; i < HOMA_RT_RX_BATCH; i++) {
		int r = place_one(rt, s, b, now);

		if (r == 0)
			break;
		if (r < 0) {
			homa_rt_rx_errors(rt, s, now);
			continue;
		}
		if (r == 2) {
			int n = read_batch(s, b);

			if (n < 0)
				homa_rt_rx_errors(rt, s, now);
			if (n > 0)
				rt->stats.rx_syscalls++;
			for (int j = 0; j < n; j++)
				input_datagram(rt, s, &b->msgs[j], b->iov[j].iov_base,
					       now);
			total += n > 0 ? n : 0;
			break;
		}
		total++;
		if (atomic_load(&s->ready_gen) != gen)
			break; /* let the caller take the message */
	}
	return total;
}

static int rx_input(struct homa_rt *rt, struct homa_socket *s, struct homa_rt_rxbatch *b,
		    int n, uint64_t now)
{
	if (n < 0) {
		homa_rt_rx_errors(rt, s, now);
		homa_rt_after_engine(rt);
		return 0;
	}
	if (n == 0)
		return 0;
	if (n == HOMA_RT_RX_PLACE) {
		n = place_loop(rt, s, b, now);
	} else {
		rt->stats.rx_syscalls++;
		for (int i = 0; i < n; i++)
			input_datagram(rt, s, &b->msgs[i], b->iov[i].iov_base, now);
	}
	homa_rt_after_engine(rt);
	return n;
}

void homa_rt_rx_input(struct homa_rt *rt, struct homa_socket *s,
		      struct homa_rt_rxbatch *b, int n, uint64_t now)
{
	rx_input(rt, s, b, n, now);
}

int homa_rt_rx_drain(struct homa_rt *rt, struct homa_socket *s, int max_batches)
{
	struct homa_rt_rxbatch *b = homa_rt_rxbatch_get();
	int total = 0;

	if (!b)
		return 0;
	for (int i = 0; i < max_batches; i++) {
		int n = homa_rt_rx_read(s, b), got;

		got = rx_input(rt, s, b, n, homa_rt_now());
		if (n < 0)
			continue; /* an ICMP error was pending; data may follow */
		total += got;
		if (got < HOMA_RT_RX_BATCH)
			break;
	}
	return total;
}
