/*
 * perf_udp.c - raw UDP request/response, the floor Homa is compared with.
 * Homa's default carrier is UDP, so a UDP ping-pong with the same busy-polling
 * is the least a round trip can cost on this machine. One datagram per
 * message: lengths are limited to PERF_MAX_UDP and a lost datagram is simply
 * an RPC that never completes (the load loop times it out).
 */
#define _GNU_SOURCE
#include "perf_frame.h"
#include "perf_transport.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#define RECV_LEN (PERF_MAX_UDP + 1)

struct udp_client {
	int fd;
	int poll;
	perf_done_fn done;
	void *arg;
	struct perf_addr *servers; /* each at its port + 1 */
	int nservers;
	uint8_t *buf;
};

#define SMALL_SEND 2048

/* Sends a framed message of len bytes (header + zeros) to dst. */
static int send_framed(int fd, const struct perf_hdr *h, const struct sockaddr *dst,
		       socklen_t dlen)
{
	uint8_t hdr[PERF_HDR_LEN];
	struct iovec iov[2] = {{hdr, PERF_HDR_LEN}, {perf_zeros, h->len - PERF_HDR_LEN}};
	struct msghdr mh = {.msg_name = (void *)dst,
			    .msg_namelen = dlen,
			    .msg_iov = iov,
			    .msg_iovlen = 2};

	perf_hdr_put(hdr, h);
	if (h->len <= SMALL_SEND) {
		/* One buffer, sendto(): the cheapest send (see perf_stream.c). */
		uint8_t buf[SMALL_SEND];

		memcpy(buf, hdr, PERF_HDR_LEN);
		memset(buf + PERF_HDR_LEN, 0, h->len - PERF_HDR_LEN);
		return sendto(fd, buf, h->len, MSG_DONTWAIT, dst, dlen) < 0 ? -errno : 0;
	}
	return sendmsg(fd, &mh, MSG_DONTWAIT) < 0 ? -errno : 0;
}

static int wait_readable(int fd, uint64_t timeout_ns)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	struct timespec ts = {.tv_sec = (time_t)(timeout_ns / PERF_NS_PER_SEC),
			      .tv_nsec = (long)(timeout_ns % PERF_NS_PER_SEC)};

	return ppoll(&p, 1, &ts, NULL);
}

static int udp_client_send(void *impl, int server, uint64_t id, uint32_t len,
			   uint32_t resp_len)
{
	struct udp_client *u = impl;
	struct perf_hdr h = {.len = len, .resp_len = resp_len, .id = id};
	const struct perf_addr *a = &u->servers[server];

	if (len > PERF_MAX_UDP || (resp_len != PERF_RESP_ECHO && resp_len > PERF_MAX_UDP))
		return -EMSGSIZE;
	return send_framed(u->fd, &h, (const struct sockaddr *)&a->ss, a->len);
}

/* Reads the datagrams waiting (until done() expects no more); returns
 * responses seen or -errno. */
static int recv_all(void *arg)
{
	struct udp_client *u = arg;
	struct perf_hdr h;
	int n = 0;

	for (;;) {
		ssize_t r = recv(u->fd, u->buf, RECV_LEN, MSG_DONTWAIT);

		if (r < 0)
			return (errno == EAGAIN || errno == EINTR) ? n : -errno;
		if (perf_hdr_get(u->buf, (size_t)r, &h) == 0) {
			n++;
			if (!u->done(u->arg, h.id, 0))
				return n; /* nothing else outstanding: no empty read */
		}
	}
}

static int udp_client_poll(void *impl, uint64_t timeout_ns, perf_done_fn done, void *arg)
{
	struct udp_client *u = impl;

	u->done = done;
	u->arg = arg;
	if (u->poll)
		return perf_spin(recv_all, u, timeout_ns);
	if (timeout_ns && wait_readable(u->fd, timeout_ns) <= 0)
		return 0;
	return recv_all(u);
}

static void udp_client_close(void *impl)
{
	struct udp_client *u = impl;

	if (u->fd >= 0)
		close(u->fd);
	free(u->servers);
	free(u->buf);
	free(u);
}

static const struct perf_client_ops udp_client_ops = {
    .send = udp_client_send,
    .poll = udp_client_poll,
    .close = udp_client_close,
};

int perf_udp_client_open(struct perf_client *c, const struct perf_client_cfg *cfg,
			 char *err, size_t errlen)
{
	struct udp_client *u = calloc(1, sizeof(*u));
	int bufsz = 4 << 20;

	if (!u)
		return -1;
	u->nservers = cfg->nservers;
	u->poll = cfg->poll;
	u->servers = calloc((size_t)cfg->nservers, sizeof(*u->servers));
	u->buf = malloc(RECV_LEN);
	u->fd = socket(cfg->servers[0].ss.ss_family, SOCK_DGRAM, 0);
	if (!u->servers || !u->buf || u->fd < 0) {
		snprintf(err, errlen, "udp client: %s", strerror(errno));
		udp_client_close(u);
		return -1;
	}
	setsockopt(u->fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	setsockopt(u->fd, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
	for (int i = 0; i < cfg->nservers; i++)
		perf_addr_with_port(&u->servers[i], &cfg->servers[i],
				    (uint16_t)(perf_addr_port(&cfg->servers[i]) + 1));
	c->ops = &udp_client_ops;
	c->impl = u;
	return 0;
}

/* ------------------------------------------------------------------ server */

struct udp_ep {
	int fd;
	int poll;
	uint8_t *buf;
};

/* Answers one datagram; returns 1 if answered, 0 if none was waiting, -errno. */
static int serve_one(struct udp_ep *ep)
{
	struct sockaddr_storage from;
	socklen_t flen = sizeof(from);
	struct perf_hdr h, r;
	ssize_t n = recvfrom(ep->fd, ep->buf, RECV_LEN, MSG_DONTWAIT,
			     (struct sockaddr *)&from, &flen);

	if (n < 0)
		return (errno == EAGAIN || errno == EINTR) ? 0 : -errno;
	if (perf_hdr_get(ep->buf, (size_t)n, &h) != 0)
		return 1; /* not ours: ignore it, but keep reading */
	r = (struct perf_hdr){.len = perf_resp_len(&h), .resp_len = 0, .id = h.id};
	if (r.len > PERF_MAX_UDP)
		r.len = PERF_MAX_UDP;
	send_framed(ep->fd, &r, (struct sockaddr *)&from, flen);
	return 1;
}

/* Answers what is waiting; bounded so other protocols of the thread get a turn. */
static int serve_some(void *arg)
{
	struct udp_ep *ep = arg;
	int served = 0;

	while (served < 64 && serve_one(ep) > 0)
		served++;
	return served;
}

static int udp_serve(void *impl, uint64_t timeout_ns)
{
	struct udp_ep *ep = impl;

	if (ep->poll || timeout_ns == 0)
		return perf_spin(serve_some, ep, timeout_ns);
	if (wait_readable(ep->fd, timeout_ns) <= 0)
		return 0;
	return serve_some(ep);
}

static void udp_ep_close(void *impl)
{
	struct udp_ep *ep = impl;

	free(ep->buf);
	free(ep);
}

static const struct perf_endpoint_ops udp_ep_ops = {
    .serve = udp_serve,
    .close = udp_ep_close,
};

static int udp_endpoint(struct perf_listener *l, int poll, struct perf_endpoint *out)
{
	struct udp_ep *ep = calloc(1, sizeof(*ep));

	if (!ep || !(ep->buf = malloc(RECV_LEN))) {
		free(ep);
		return -1;
	}
	ep->fd = l->fd;
	ep->poll = poll;
	out->ops = &udp_ep_ops;
	out->impl = ep;
	return 0;
}

static void udp_listener_close(struct perf_listener *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
}

int perf_udp_listen(struct perf_listener *l, int port, char *err, size_t errlen)
{
	struct sockaddr_in6 a = {.sin6_family = AF_INET6,
				 .sin6_port = htons((uint16_t)(port + 1)),
				 .sin6_addr = IN6ADDR_ANY_INIT};
	int zero = 0, bufsz = 4 << 20;
	int fd = socket(AF_INET6, SOCK_DGRAM, 0);

	if (fd < 0 || setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		snprintf(err, errlen, "udp bind on port %d: %s", port + 1,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
	l->name = "udp";
	l->fd = fd;
	l->impl = NULL;
	l->endpoint = udp_endpoint;
	l->close = udp_listener_close;
	return 0;
}
