/*
 * homa_rt_txq.c - batching of small UDP packets (sendmmsg + UDP GSO).
 *
 * One system call per packet costs more than the protocol itself for small
 * messages. So, while the engine lock is held, the send callback queues UDP
 * packets below HOMA_RT_TXQ_BELOW here instead of sending them, and
 * homa_rt_unlock() flushes the queue with one sendmmsg() per socket, each
 * message a GSO batch (UDP_SEGMENT) of consecutive packets to one
 * destination at one priority. The receiver's UDP_GRO hands such a batch
 * back as one buffer (homa_rt_carrier.c splits it), on loopback as on a
 * NIC. Larger packets are sent directly from the engine's buffers, after
 * the queue, so packets leave in the order the engine produced them.
 *
 * HOMA_SEND_MORE: homa_rt_unlock_hold() releases the lock without flushing,
 * so the packets of several homa_send()/homa_reply() calls share one
 * system call. Every other unlock (any thread's, including the background
 * thread's on each wake-up) flushes whatever is queued, so a held packet is
 * delayed at most until the next library call of any thread or the
 * background thread's next timer.
 *
 * A GSO batch must be n packets of exactly seg bytes, the last one possibly
 * shorter; a packet that does not fit that shape starts a new batch. The
 * priority travels as an IP_TOS / IPV6_TCLASS control message, since one
 * sendmmsg() may mix levels.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "homa_rt.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

#define TXQ_BYTES    (1u << 20)
#define TXQ_GROUPS   64
#define GSO_MAX_LEN  65000 /* UDP payload of one GSO datagram */
#define GSO_MAX_SEGS 64

struct txgroup {
	struct homa_socket *s;
	union homa_sockaddr to;
	socklen_t tolen;
	int tos;
	size_t off, len;
	uint32_t seg, nseg;
};

struct homa_rt_txq {
	uint8_t *buf;
	size_t used;
	int n;
	struct txgroup g[TXQ_GROUPS];
	struct mmsghdr mm[TXQ_GROUPS];
	struct iovec iov[TXQ_GROUPS];
	uint64_t ctrl[TXQ_GROUPS][8];
};

struct homa_rt_txq *homa_rt_txq_new(void)
{
	struct homa_rt_txq *q = calloc(1, sizeof(*q));

	if (q && !(q->buf = malloc(TXQ_BYTES))) {
		free(q);
		q = NULL;
	}
	return q;
}

void homa_rt_txq_free(struct homa_rt_txq *q)
{
	if (q) {
		free(q->buf);
		free(q);
	}
}

/* 1 if a packet of len bytes can extend batch g. */
static int fits(const struct txgroup *g, struct homa_socket *s,
		const union homa_sockaddr *to, socklen_t tolen, int tos, size_t len)
{
	return g->s == s && g->tos == tos && g->tolen == tolen &&
	       !memcmp(&g->to, to, tolen) && len <= g->seg && g->len % g->seg == 0 &&
	       g->len + len <= GSO_MAX_LEN && g->nseg < GSO_MAX_SEGS;
}

/* Builds message i: the batch's bytes, its priority and segment size. */
static void build_msg(struct homa_rt_txq *q, int i)
{
	struct txgroup *g = &q->g[i];
	struct msghdr *m = &q->mm[i].msg_hdr;
	struct cmsghdr *c;
	uint16_t seg = (uint16_t)g->seg;

	q->iov[i].iov_base = q->buf + g->off;
	q->iov[i].iov_len = g->len;
	memset(m, 0, sizeof(*m));
	m->msg_name = &g->to;
	m->msg_namelen = g->tolen;
	m->msg_iov = &q->iov[i];
	m->msg_iovlen = 1;
	m->msg_control = q->ctrl[i];
	m->msg_controllen =
	    CMSG_SPACE(sizeof(int)) + (g->nseg > 1 ? CMSG_SPACE(sizeof(seg)) : 0);
	c = CMSG_FIRSTHDR(m);
	c->cmsg_level = g->s->family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6;
	c->cmsg_type = g->s->family == AF_INET ? IP_TOS : IPV6_TCLASS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &g->tos, sizeof(int));
	if (g->nseg > 1) {
		c = CMSG_NXTHDR(m, c);
		c->cmsg_level = IPPROTO_UDP;
		c->cmsg_type = UDP_SEGMENT;
		c->cmsg_len = CMSG_LEN(sizeof(seg));
		memcpy(CMSG_DATA(c), &seg, sizeof(seg));
	}
}

/* Sends messages [from, to) of one socket, retrying partial sendmmsg(). An
 * ICMP error pending from an earlier datagram is read and the send retried
 * once (see homa_rt_sendmsg). */
static void send_run(struct homa_rt *rt, struct homa_rt_txq *q, int from, int to)
{
	int retried = 0;

	while (from < to) {
		struct homa_socket *s = q->g[from].s;
		int n = sendmmsg(s->fd, &q->mm[from], (unsigned)(to - from), 0);

		rt->stats.tx_syscalls++;
		if (n < 0 && homa_rt_icmp_errno(errno) && !retried) {
			homa_rt_errq_pending(rt, s);
			retried = 1;
			continue;
		}
		if (n <= 0) {
			rt->stats.tx_errors++;
			n = 1; /* skip the message the kernel refused */
		} else {
			for (int i = from; i < from + n; i++) {
				rt->stats.tx_packets += q->g[i].nseg;
				rt->stats.tx_gso_batches += q->g[i].nseg > 1;
			}
		}
		from += n;
	}
}

/* A lone packet (a ping-pong's): sendto(), the priority being a cached
 * socket option. sendto() with one buffer costs the kernel no msghdr and
 * iovec import (0.2-0.5 us less than sendmsg() on this VM). */
static void send_single(struct homa_rt *rt, struct homa_rt_txq *q)
{
	struct txgroup *g = &q->g[0];
	struct homa_socket *s = g->s;
	ssize_t r;

	homa_rt_set_priority(s, g->tos >> 5);
	rt->stats.tx_syscalls++;
	r = sendto(s->fd, q->buf + g->off, g->len, 0, &g->to.sa, g->tolen);
	if (r < 0 && homa_rt_icmp_errno(errno)) {
		/* an ICMP error about an earlier datagram: see homa_rt_sendmsg */
		homa_rt_errq_pending(rt, s);
		rt->stats.tx_syscalls++;
		r = sendto(s->fd, q->buf + g->off, g->len, 0, &g->to.sa, g->tolen);
	}
	if (r < 0)
		rt->stats.tx_errors++;
	else
		rt->stats.tx_packets++;
}

/* Out of line: the check in homa_rt_txq_flush(), called several times per
 * lock hold and mostly on an empty queue, then costs no register saves. */
static __attribute__((noinline)) int flush_queue(struct homa_rt *rt,
						 struct homa_rt_txq *q)
{
	int start = 0, n = q->n;

	if (q->n == 1 && q->g[0].nseg == 1) {
		send_single(rt, q);
		q->n = 0;
		q->used = 0;
		return 1;
	}
	for (int i = 0; i < q->n; i++)
		build_msg(q, i);
	for (int i = 1; i <= q->n; i++) {
		if (i == q->n || q->g[i].s != q->g[start].s) {
			send_run(rt, q, start, i);
			start = i;
		}
	}
	q->n = 0;
	q->used = 0;
	return n;
}

int homa_rt_txq_flush(struct homa_rt *rt)
{
	struct homa_rt_txq *q = rt->txq;

	return q && q->n ? flush_queue(rt, q) : 0;
}

int homa_rt_txq_add(struct homa_rt *rt, struct homa_socket *s,
		    const union homa_sockaddr *to, socklen_t tolen, int priority,
		    const uint8_t *hdr, size_t hdr_len, const uint8_t *payload,
		    size_t payload_len)
{
	struct homa_rt_txq *q = rt->txq;
	size_t len = hdr_len + payload_len;
	int tos = (priority & 7) << 5;
	struct txgroup *g;

	if (!q || len >= HOMA_RT_TXQ_BELOW || len > GSO_MAX_LEN)
		return -EINVAL;
	g = q->n ? &q->g[q->n - 1] : NULL;
	if (!g || !fits(g, s, to, tolen, tos, len)) {
		if (q->n == TXQ_GROUPS || q->used + len > TXQ_BYTES)
			homa_rt_txq_flush(rt);
		g = &q->g[q->n++];
		g->s = s;
		memcpy(&g->to, to, tolen);
		g->tolen = tolen;
		g->tos = tos;
		g->off = q->used;
		g->len = 0;
		g->seg = (uint32_t)len;
		g->nseg = 0;
	}
	memcpy(q->buf + q->used, hdr, hdr_len);
	if (payload_len)
		memcpy(q->buf + q->used + hdr_len, payload, payload_len);
	q->used += len;
	g->len += len;
	g->nseg++;
	return 0;
}

void homa_rt_errq_pending(struct homa_rt *rt, struct homa_socket *s)
{
	s->errq_pending = 1;
	rt->errq_pending = 1;
}

/* Reads error queues flagged while inside engine calls (which must not call
 * the engine back); that may send packets, hence the bounded loop. */
static void read_pending_errors(struct homa_rt *rt)
{
	struct homa_socket *s;

	rt->errq_pending = 0;
	for (s = rt->socks; s; s = s->next) {
		if (s->errq_pending) {
			s->errq_pending = 0;
			homa_rt_rx_errors(rt, s, homa_rt_now());
		}
	}
	homa_rt_after_engine(rt);
}

int homa_rt_txq_pending(const struct homa_rt *rt)
{
	return rt->txq && rt->txq->n;
}

void homa_rt_unlock_hold(struct homa_rt *rt)
{
	if (rt->errq_pending) {
		homa_rt_unlock(rt); /* rare: an ICMP error to read first */
		return;
	}
	pthread_mutex_unlock(&rt->lock);
}

/* Flushes the queue; once something left, runs the acks the engine deferred
 * (a reply is not kept waiting while its request's ack ends an older RPC). */
void homa_rt_txq_flush_then_acks(struct homa_rt *rt)
{
	if (homa_rt_txq_flush(rt) && homa_engine_run_deferred(rt->engine))
		homa_rt_after_engine(rt);
}

void homa_rt_unlock(struct homa_rt *rt)
{
	if (!homa_rt_txq_pending(rt) && !rt->errq_pending) {
		pthread_mutex_unlock(&rt->lock); /* the usual case: nothing to send */
		return;
	}
	for (int i = 0; i < 4; i++) {
		homa_rt_txq_flush_then_acks(rt);
		if (!rt->errq_pending)
			break;
		read_pending_errors(rt);
	}
	homa_rt_txq_flush(rt);
	pthread_mutex_unlock(&rt->lock);
}
