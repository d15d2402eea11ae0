/*
 * perf_tcp.c - the TCP client: framed RPCs multiplexed over a few long-lived
 * connections per server (--tcp-conns), as a real RPC system over TCP would
 * do. Requests are spread round-robin over a server's connections, so a
 * short RPC can wait behind a long one on the same stream: that head-of-line
 * blocking is part of what the benchmark measures.
 *
 * Busy-polling with few connections reads each socket directly (one syscall
 * per connection); otherwise, or when blocking, epoll says which are ready.
 */
#define _GNU_SOURCE
#include "perf_stream.h"
#include "perf_tcp.h"
#include "perf_transport.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define SCRATCH_LEN	(256 * 1024)
#define DIRECT_MAX_CONN 4
#define MAX_EVENTS	64

struct tcp_client {
	struct perf_stream *conns; /* server s uses conns[s*per .. s*per+per) */
	int nconns, per_server;
	uint32_t *rr; /* next connection, per server */
	int epfd;
	int poll;   /* waits spin */
	int direct; /* spin by reading every connection, not through epoll */
	uint8_t *scratch;
	perf_done_fn done;
	void *arg;
	int completed;
};

void perf_tcp_tune(int fd)
{
	int one = 1;

	/* Small RPCs must not wait for Nagle; quick ACKs keep the RTT floor. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
}

static int connect_one(const struct perf_addr *a, char *err, size_t errlen)
{
	int fd = socket(a->ss.ss_family, SOCK_STREAM, 0);

	if (fd < 0 || connect(fd, (const struct sockaddr *)&a->ss, a->len) != 0) {
		snprintf(err, errlen, "tcp connect %s: %s", a->text, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	perf_tcp_tune(fd);
	perf_set_nonblock(fd);
	return fd;
}

/* Watches conn i for input, and for output when it has some queued. */
static void watch(struct tcp_client *t, int i, int op)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};

	if (perf_stream_pending(&t->conns[i]))
		ev.events |= EPOLLOUT;
	epoll_ctl(t->epfd, op, t->conns[i].fd, &ev);
}

static void tcp_client_close(void *impl)
{
	struct tcp_client *t = impl;

	for (int i = 0; i < t->nconns; i++)
		perf_stream_destroy(&t->conns[i]);
	if (t->epfd >= 0)
		close(t->epfd);
	free(t->conns);
	free(t->rr);
	free(t->scratch);
	free(t);
}

static int tcp_client_send(void *impl, int server, uint64_t id, uint32_t len,
			   uint32_t resp_len)
{
	struct tcp_client *t = impl;
	struct perf_hdr h = {.len = len, .resp_len = resp_len, .id = id};
	int i = server * t->per_server + (int)(t->rr[server]++ % (uint32_t)t->per_server);
	struct perf_stream *s = &t->conns[i];
	int was_pending = perf_stream_pending(s);

	if (perf_stream_push(s, &h) != 0)
		return -ENOMEM;
	if (was_pending)
		return 0; /* behind earlier output; written when the socket drains */
	int rc = perf_stream_flush(s);

	if (rc < 0)
		return -EPIPE;
	if (rc > 0 && !t->direct)
		watch(t, i, EPOLL_CTL_MOD);
	return 0;
}

static void on_response(void *arg, struct perf_stream *s, const struct perf_hdr *h)
{
	struct tcp_client *t = arg;

	(void)s;
	/* The stream read already stops at a short read; what it read is fed
	 * through whatever done() says. */
	(void)t->done(t->arg, h->id, 0);
	t->completed++;
}

/* Services one connection: output first (it may unblock the server), then input. */
static int service(struct tcp_client *t, int i, int writable)
{
	struct perf_stream *s = &t->conns[i];

	if (writable && perf_stream_pending(s)) {
		if (perf_stream_flush(s) < 0)
			return -EPIPE;
		if (!t->direct && !perf_stream_pending(s))
			watch(t, i, EPOLL_CTL_MOD);
	}
	if (perf_stream_read(s, t->scratch, SCRATCH_LEN, on_response, t) < 0)
		return -ECONNRESET;
	return 0;
}

static int poll_direct(struct tcp_client *t)
{
	for (int i = 0; i < t->nconns; i++)
		if (service(t, i, 1) < 0)
			return -ECONNRESET;
	return 0;
}

static int poll_epoll(struct tcp_client *t, uint64_t timeout_ns)
{
	struct epoll_event ev[MAX_EVENTS];
	struct timespec ts = {.tv_sec = (time_t)(timeout_ns / PERF_NS_PER_SEC),
			      .tv_nsec = (long)(timeout_ns % PERF_NS_PER_SEC)};
	int n = epoll_pwait2(t->epfd, ev, MAX_EVENTS, &ts, NULL);

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int k = 0; k < n; k++)
		if (service(t, (int)ev[k].data.u32, !!(ev[k].events & EPOLLOUT)) < 0)
			return -ECONNRESET;
	return 0;
}

/* One non-blocking pass; > 0 once something completed. */
static int poll_once(void *arg)
{
	struct tcp_client *t = arg;
	int rc = t->direct ? poll_direct(t) : poll_epoll(t, 0);

	return rc < 0 ? rc : t->completed;
}

static int tcp_client_poll(void *impl, uint64_t timeout_ns, perf_done_fn done, void *arg)
{
	struct tcp_client *t = impl;
	int rc;

	t->done = done;
	t->arg = arg;
	t->completed = 0;
	if (t->poll)
		rc = perf_spin(poll_once, t, timeout_ns);
	else
		rc = poll_epoll(t, timeout_ns);
	return rc < 0 ? rc : t->completed;
}

static const struct perf_client_ops tcp_client_ops = {
    .send = tcp_client_send,
    .poll = tcp_client_poll,
    .close = tcp_client_close,
};

static int connect_all(struct tcp_client *t, const struct perf_client_cfg *cfg, char *err,
		       size_t errlen)
{
	for (int i = 0; i < t->nconns; i++) {
		int fd = connect_one(&cfg->servers[i / t->per_server], err, errlen);

		if (fd < 0)
			return -1;
		perf_stream_init(&t->conns[i], fd);
		watch(t, i, EPOLL_CTL_ADD);
	}
	return 0;
}

int perf_tcp_client_open(struct perf_client *c, const struct perf_client_cfg *cfg,
			 char *err, size_t errlen)
{
	struct tcp_client *t = calloc(1, sizeof(*t));
	int per = cfg->tcp_conns > 0 ? cfg->tcp_conns : 1;

	if (errlen)
		err[0] = '\0';
	if (!t)
		return -1;
	t->per_server = per;
	t->nconns = cfg->nservers * per;
	t->poll = cfg->poll;
	/* Without polling, only epoll can say when a socket takes more output. */
	t->direct = t->poll && t->nconns <= DIRECT_MAX_CONN;
	t->conns = calloc((size_t)t->nconns, sizeof(*t->conns));
	t->rr = calloc((size_t)cfg->nservers, sizeof(*t->rr));
	t->scratch = malloc(SCRATCH_LEN);
	t->epfd = epoll_create1(0);
	for (int i = 0; t->conns && i < t->nconns; i++)
		t->conns[i].fd = -1;
	if (!t->conns || !t->rr || !t->scratch || t->epfd < 0 ||
	    connect_all(t, cfg, err, errlen) != 0) {
		if (!err[0])
			snprintf(err, errlen, "tcp client: out of resources");
		tcp_client_close(t);
		return -1;
	}
	c->ops = &tcp_client_ops;
	c->impl = t;
	return 0;
}
