/*
 * perf_tcp_server.c - the TCP echo server. One listening socket is shared by
 * all server threads; each thread accepts into its own epoll set, so a
 * connection is always served by the thread that accepted it and its
 * responses leave in request order.
 *
 * When busy-polling a handful of connections the thread reads each socket
 * directly (one syscall instead of epoll_wait + recv) and looks for new
 * connections only once a millisecond.
 */
#define _GNU_SOURCE
#include "perf_stream.h"
#include "perf_tcp.h"
#include "perf_transport.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define SCRATCH_LEN	(256 * 1024)
#define DIRECT_MAX_CONN 4
#define MAX_EVENTS	64
#define ACCEPT_EVERY_NS 1000000u

struct srv_conn {
	struct perf_stream s;
	int out_watched; /* EPOLLOUT currently requested */
};

struct tcp_ep {
	int lfd, epfd;
	struct srv_conn **conns;
	int nconns, cap;
	uint8_t *scratch;
	uint64_t last_epoll_ns;
	int poll;
	int served;
};

static void on_request(void *arg, struct perf_stream *s, const struct perf_hdr *h)
{
	struct tcp_ep *ep = arg;
	struct perf_hdr r = {.len = perf_resp_len(h), .resp_len = 0, .id = h->id};

	if (perf_stream_push(s, &r) == 0)
		ep->served++;
}

static void set_out_watch(struct tcp_ep *ep, struct srv_conn *c)
{
	int want = perf_stream_pending(&c->s);
	struct epoll_event ev = {.events = EPOLLIN | (want ? EPOLLOUT : 0),
				 .data.ptr = c};

	if (want != c->out_watched) {
		epoll_ctl(ep->epfd, EPOLL_CTL_MOD, c->s.fd, &ev);
		c->out_watched = want;
	}
}

static void drop_conn(struct tcp_ep *ep, struct srv_conn *c)
{
	for (int i = 0; i < ep->nconns; i++) {
		if (ep->conns[i] == c) {
			ep->conns[i] = ep->conns[--ep->nconns];
			break;
		}
	}
	perf_stream_destroy(&c->s); /* closing removes it from epoll */
	free(c);
}

/* Reads requests, then writes whatever responses the socket takes. */
static void service(struct tcp_ep *ep, struct srv_conn *c)
{
	if (perf_stream_read(&c->s, ep->scratch, SCRATCH_LEN, on_request, ep) < 0 ||
	    perf_stream_flush(&c->s) < 0) {
		drop_conn(ep, c);
		return;
	}
	set_out_watch(ep, c);
}

static int add_conn(struct tcp_ep *ep, int fd)
{
	struct srv_conn *c = calloc(1, sizeof(*c));
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};

	if (ep->nconns == ep->cap) {
		int ncap = ep->cap ? ep->cap * 2 : 16;
		struct srv_conn **n = realloc(ep->conns, (size_t)ncap * sizeof(*n));

		if (!n) {
			free(c);
			return -1;
		}
		ep->conns = n;
		ep->cap = ncap;
	}
	if (!c)
		return -1;
	perf_stream_init(&c->s, fd);
	perf_tcp_tune(fd);
	perf_set_nonblock(fd);
	epoll_ctl(ep->epfd, EPOLL_CTL_ADD, fd, &ev);
	ep->conns[ep->nconns++] = c;
	return 0;
}

static void accept_all(struct tcp_ep *ep)
{
	for (;;) {
		int fd = accept4(ep->lfd, NULL, NULL, SOCK_NONBLOCK);

		if (fd < 0)
			return;
		if (add_conn(ep, fd) != 0)
			close(fd);
	}
}

static int serve_epoll(struct tcp_ep *ep, uint64_t timeout_ns)
{
	struct epoll_event ev[MAX_EVENTS];
	struct timespec ts = {.tv_sec = (time_t)(timeout_ns / PERF_NS_PER_SEC),
			      .tv_nsec = (long)(timeout_ns % PERF_NS_PER_SEC)};
	int n = epoll_pwait2(ep->epfd, ev, MAX_EVENTS, &ts, NULL);

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int k = 0; k < n; k++) {
		if (ev[k].data.ptr == NULL)
			accept_all(ep);
		else
			service(ep, ev[k].data.ptr);
	}
	return 0;
}

/* One non-blocking pass over the connections (and, now and then, epoll). */
static int serve_once(void *arg)
{
	struct tcp_ep *ep = arg;
	uint64_t now;

	if (ep->nconns > 0 && ep->nconns <= DIRECT_MAX_CONN) {
		for (int i = ep->nconns - 1; i >= 0; i--)
			service(ep, ep->conns[i]);
		now = perf_now_ns();
		if (now - ep->last_epoll_ns < ACCEPT_EVERY_NS)
			return ep->served;
		ep->last_epoll_ns = now;
	}
	int rc = serve_epoll(ep, 0);

	return rc < 0 ? rc : ep->served;
}

static int tcp_serve(void *impl, uint64_t timeout_ns)
{
	struct tcp_ep *ep = impl;
	int rc;

	ep->served = 0;
	if (ep->poll || timeout_ns == 0)
		return perf_spin(serve_once, ep, timeout_ns);
	rc = serve_epoll(ep, timeout_ns);
	return rc < 0 ? rc : ep->served;
}

static void tcp_ep_close(void *impl)
{
	struct tcp_ep *ep = impl;

	while (ep->nconns > 0)
		drop_conn(ep, ep->conns[0]);
	if (ep->epfd >= 0)
		close(ep->epfd);
	free(ep->conns);
	free(ep->scratch);
	free(ep);
}

static const struct perf_endpoint_ops tcp_ep_ops = {
    .serve = tcp_serve,
    .close = tcp_ep_close,
};

static int tcp_endpoint(struct perf_listener *l, int poll, struct perf_endpoint *out)
{
	struct tcp_ep *ep = calloc(1, sizeof(*ep));
	/* EPOLLEXCLUSIVE: one thread, not all, wakes for a new connection. */
	struct epoll_event ev = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = NULL};

	if (!ep)
		return -1;
	ep->lfd = l->fd;
	ep->poll = poll;
	ep->epfd = epoll_create1(0);
	ep->scratch = malloc(SCRATCH_LEN);
	if (ep->epfd < 0 || !ep->scratch ||
	    epoll_ctl(ep->epfd, EPOLL_CTL_ADD, l->fd, &ev) != 0) {
		tcp_ep_close(ep);
		return -1;
	}
	out->ops = &tcp_ep_ops;
	out->impl = ep;
	return 0;
}

static void tcp_listener_close(struct perf_listener *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
}

int perf_tcp_listen(struct perf_listener *l, int port, char *err, size_t errlen)
{
	struct sockaddr_in6 a = {.sin6_family = AF_INET6,
				 .sin6_port = htons((uint16_t)port),
				 .sin6_addr = IN6ADDR_ANY_INIT};
	int one = 1, zero = 0;
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);

	/* A dual-stack socket serves IPv4 and IPv6 clients alike. */
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 1024)) {
		snprintf(err, errlen, "tcp listen on port %d: %s", port, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	l->name = "tcp";
	l->fd = fd;
	l->impl = NULL;
	l->endpoint = tcp_endpoint;
	l->close = tcp_listener_close;
	return 0;
}
