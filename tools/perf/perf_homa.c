/*
 * perf_homa.c - Homa through the libhoma runtime (include/homa/homa.h).
 *
 * Requests carry the application's id as the completion cookie, so the
 * response is matched without reading its bytes; only a request's 16-byte
 * header is ever copied out. Received bpages are handed back in the next
 * homa_recv() call, as the API intends, instead of costing a call of their
 * own.
 *
 * Waiting: in polling mode the runtime itself busy-polls inside a blocking
 * homa_recv() (poll_usecs raised to a second unless HOMA_POLL_USECS is set),
 * with a receive timeout bounding each wait; with --no-poll poll_usecs is 0
 * and the waits sleep. Built without the runtime (no `homa` target yet),
 * every entry point fails cleanly and the tool still measures TCP and UDP.
 */
#define _GNU_SOURCE
#include "perf_frame.h"
#include "perf_transport.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef HOMA_PERF_HAVE_HOMA

int perf_homa_available(void)
{
	return 0;
}

void perf_homa_print_stats(FILE *f, uint64_t rpcs)
{
	(void)f;
	(void)rpcs;
}

int perf_homa_client_open(struct perf_client *c, const struct perf_client_cfg *cfg,
			  char *err, size_t errlen)
{
	(void)c;
	(void)cfg;
	snprintf(err, errlen, "homa: this homa-perf was built without the Homa runtime");
	return -1;
}

int perf_homa_listen(struct perf_listener *l, int port, int poll, char *err,
		     size_t errlen)
{
	(void)l;
	(void)port;
	(void)poll;
	snprintf(err, errlen, "homa: this homa-perf was built without the Homa runtime");
	return -1;
}

#else

#include "homa.h"

#define SPIN_USECS   1000000u /* poll_usecs when busy-polling */
#define MAX_PER_CALL 64

int perf_homa_available(void)
{
	return 1;
}

static void stat_line(FILE *f, const char *name, uint64_t v, uint64_t rpcs)
{
	if (!v)
		return;
	if (rpcs)
		fprintf(f, "  %-24s %12llu  %8.3f per RPC\n", name, (unsigned long long)v,
			(double)v / (double)rpcs);
	else
		fprintf(f, "  %-24s %12llu\n", name, (unsigned long long)v);
}

void perf_homa_print_stats(FILE *f, uint64_t rpcs)
{
	struct homa_stats e;
	struct homa_rt_stats rt;

	if (homa_get_stats(&e, &rt) != 0)
		return;
	fprintf(f, "homa counters of this process (pid %d):\n", (int)getpid());
	for (size_t i = 0; i < HOMA_STATS_COUNT; i++)
		stat_line(f, homa_stats_names[i], homa_stats_get(&e, i), rpcs);
	stat_line(f, "rt.tx_packets", rt.tx_packets, rpcs);
	stat_line(f, "rt.tx_syscalls", rt.tx_syscalls, rpcs);
	stat_line(f, "rt.tx_gso_batches", rt.tx_gso_batches, rpcs);
	stat_line(f, "rt.tx_errors", rt.tx_errors, rpcs);
	stat_line(f, "rt.rx_packets", rt.rx_packets, rpcs);
	stat_line(f, "rt.rx_syscalls", rt.rx_syscalls, rpcs);
	stat_line(f, "rt.rx_gro_packets", rt.rx_gro_packets, rpcs);
	stat_line(f, "rt.bg_wakeups", rt.bg_wakeups, rpcs);
	stat_line(f, "rt.sleeps", rt.sleeps, rpcs);
	stat_line(f, "rt.rx_truncated", rt.rx_truncated, rpcs);
	stat_line(f, "rt.bg_covers", rt.bg_covers, rpcs);
	stat_line(f, "rt.rx_placed", rt.rx_placed, rpcs);
	stat_line(f, "rt.rx_place_miss", rt.rx_place_miss, rpcs);
	stat_line(f, "rt.rx_gro_on", rt.rx_gro_on, rpcs);
	stat_line(f, "rt.rx_doorbells", rt.rx_doorbells, 0);
	stat_line(f, "rt.rx_empty_reads", rt.rx_empty_reads, rpcs);
	stat_line(f, "rt.rx_bell_late", rt.rx_bell_late, rpcs);
}

/* Creates the process's engine once, with the polling policy of this run. */
static int runtime_init(int poll, char *err, size_t errlen)
{
	struct homa_config c;
	int rc;

	homa_config_default(&c);
	if (!poll)
		c.poll_usecs = 0;
	else if (!getenv("HOMA_POLL_USECS"))
		c.poll_usecs = SPIN_USECS;
	rc = homa_init(&c);
	if (rc == 0 || rc == -EALREADY)
		return 0;
	snprintf(err, errlen, "homa_init: %s %s", homa_strerror(rc),
		 homa_last_error_msg());
	return -1;
}

/* Blocking waits end after timeout_ns; the socket remembers the last value. */
static void set_timeout(struct homa_socket *s, uint64_t *cur_us, uint64_t timeout_ns)
{
	uint64_t us = (timeout_ns + 999) / 1000;

	if (us != *cur_us) {
		homa_set_recv_timeout(s, us);
		*cur_us = us;
	}
}

/*
 * One homa_recv(): waits (up to timeout_ns) only if wait is set. After it
 * the bpages handed back are gone, unless the call rejected them.
 */
static int recv_one(struct homa_socket *s, struct homa_msg *m, uint64_t *cur_us, int wait,
		    uint64_t timeout_ns)
{
	int rc;

	if (wait)
		set_timeout(s, cur_us, timeout_ns);
	m->id = 0;
	rc = homa_recv(s, m, wait ? 0 : HOMA_RECV_NONBLOCK);
	if (rc <= 0 && rc != -EINVAL)
		m->num_bpages = 0;
	return rc;
}

/*
 * How long the first homa_recv() of a turn may wait. A busy-polling caller
 * that must not wait (timeout 0) still makes a (1 us) blocking call rather
 * than a non-blocking one: only waiting receivers tell the runtime that the
 * socket is being polled, and otherwise its background thread competes for
 * the packets (and a wake-up costs tens of microseconds).
 */
static uint64_t first_wait(int poll, uint64_t timeout_ns)
{
	return poll && timeout_ns < 1000 ? 1000 : timeout_ns;
}

static int quiet(int rc, const struct homa_msg *m)
{
	return rc == -EAGAIN || (rc == -ETIMEDOUT && m->id == 0);
}

/*
 * Answers the request in m (len bytes) with the length its header asks for.
 * The response is held (HOMA_SEND_MORE): the caller goes straight back to
 * homa_recv, which sends held responses as soon as no further request is
 * ready.
 */
static void answer_request(struct homa_socket *s, const struct homa_msg *m, int len)
{
	uint8_t b[PERF_HDR_LEN];
	struct perf_hdr req, r = {.len = PERF_HDR_LEN};
	struct iovec iov[2] = {{b, PERF_HDR_LEN}, {perf_zeros, 0}};

	if (homa_msg_copy(s, m, 0, b, PERF_HDR_LEN) == PERF_HDR_LEN &&
	    perf_hdr_get(b, PERF_HDR_LEN, &req) == 0 && req.len == (uint32_t)len) {
		r.len = perf_resp_len(&req);
		r.id = req.id;
	}
	perf_hdr_put(b, &r);
	iov[1].iov_len = r.len - PERF_HDR_LEN;
	homa_replyv_flags(s, iov, r.len > PERF_HDR_LEN ? 2 : 1, &m->peer.sa, m->peer_len,
			  m->id, HOMA_SEND_MORE);
}

/* ------------------------------------------------------------------ client */

/*
 * Requests of at least ZC_MIN bytes go out with HOMA_SEND_ZEROCOPY from a
 * buffer of their own (header + zeros), kept until the response is taken:
 * the engine then sends straight from it instead of copying each message
 * (docs/perf.md: the sender's copy was 10-16% of its cycles at 1 MB). At
 * most ZC_MAX such requests at a time; beyond that they are copied.
 */
#define ZC_MIN	     (64u * 1024)
#define ZC_MAX	     64

struct zc_out {
	uint64_t cookie;
	uint8_t *buf;
};

struct homa_client {
	struct homa_socket *s;
	const struct perf_addr *servers;
	int poll;
	struct homa_msg msg;
	uint64_t cur_us;
	struct zc_out zc[ZC_MAX]; /* outstanding zero-copy requests */
	int nzc;
	uint8_t *zc_free[ZC_MAX]; /* their buffers, once answered */
	int nzc_free;
};

/* A buffer for a zero-copy request (zeros after the header), or NULL. */
static uint8_t *zc_take(struct homa_client *h)
{
	if (h->nzc >= ZC_MAX)
		return NULL;
	if (h->nzc_free)
		return h->zc_free[--h->nzc_free];
	return calloc(1, PERF_MAX_MSG);
}

static void zc_put(struct homa_client *h, uint8_t *buf)
{
	if (h->nzc_free < ZC_MAX)
		h->zc_free[h->nzc_free++] = buf;
	else
		free(buf);
}

/* The RPC with this cookie ended: its buffer (if it had one) is free. */
static void zc_done(struct homa_client *h, uint64_t cookie)
{
	for (int i = 0; i < h->nzc; i++)
		if (h->zc[i].cookie == cookie) {
			zc_put(h, h->zc[i].buf);
			h->zc[i] = h->zc[--h->nzc];
			return;
		}
}

static int homa_client_send(void *impl, int server, uint64_t id, uint32_t len,
			    uint32_t resp_len)
{
	struct homa_client *h = impl;
	const struct perf_addr *a = &h->servers[server];
	struct perf_hdr hdr = {.len = len, .resp_len = resp_len, .id = id};
	uint8_t b[PERF_HDR_LEN];
	struct iovec iov[2] = {{b, PERF_HDR_LEN}, {perf_zeros, len - PERF_HDR_LEN}};
	uint64_t rpc_id;
	uint8_t *zc;
	int rc;

	perf_hdr_put(b, &hdr);
	/*
	 * Never block in a send: with send memory full this thread must go on
	 * collecting responses (and keep the run bounded in time), so the
	 * load loop gets -EAGAIN and retries. Receives stay blocking.
	 */
	homa_set_nonblocking(h->s, 1);
	/* The load loop always polls (homa_recv) right after its sends, which
	 * sends what HOMA_SEND_MORE held: a burst of requests leaves in one
	 * system call. */
	if (len >= ZC_MIN && len <= PERF_MAX_MSG && (zc = zc_take(h)) != NULL) {
		memcpy(zc, b, PERF_HDR_LEN);
		rc = homa_send(h->s, zc, len, (const struct sockaddr *)&a->ss, a->len,
			       &rpc_id, id, HOMA_SEND_MORE | HOMA_SEND_ZEROCOPY);
		if (rc == 0)
			h->zc[h->nzc++] = (struct zc_out){id, zc};
		else
			zc_put(h, zc);
	} else {
		rc = homa_sendv(h->s, iov, len > PERF_HDR_LEN ? 2 : 1,
				(const struct sockaddr *)&a->ss, a->len, &rpc_id, id,
				HOMA_SEND_MORE);
	}
	homa_set_nonblocking(h->s, 0);
	return rc;
}

static int homa_client_poll(void *impl, uint64_t timeout_ns, perf_done_fn done, void *arg)
{
	struct homa_client *h = impl;
	int n = 0, more = 1;

	/* Blocking clients sleep inside homa_recv() too (nanosecond timeouts):
	 * the packet then wakes this thread directly. Waiting on homa_fd()
	 * instead is signalled only after the runtime's background thread has
	 * processed the packet: two wake-ups per response (measured 63 us
	 * instead of 27 us per round trip). */
	while (n < MAX_PER_CALL) {
		int rc =
		    recv_one(h->s, &h->msg, &h->cur_us, n == 0 && (timeout_ns || h->poll),
			     first_wait(h->poll, timeout_ns));

		if (rc > 0 && (h->msg.id & 1))
			answer_request(h->s, &h->msg, rc); /* --serve-port: a request */
		else if (rc > 0) {
			if (h->nzc)
				zc_done(h, h->msg.completion_cookie);
			more = done(arg, h->msg.completion_cookie, 0);
		} else if (quiet(rc, &h->msg)) {
			break;
		} else if (h->msg.id != 0) {
			if (h->nzc)
				zc_done(h, h->msg.completion_cookie);
			/* that RPC failed */
			more = done(arg, h->msg.completion_cookie, -rc);
		} else
			return rc;
		n++;
		if (!more)
			break; /* nothing outstanding: no empty homa_recv */
	}
	return n;
}

static void homa_client_close(void *impl)
{
	struct homa_client *h = impl;

	homa_close(h->s); /* ends every RPC: the zero-copy buffers are ours again */
	for (int i = 0; i < h->nzc; i++)
		free(h->zc[i].buf);
	for (int i = 0; i < h->nzc_free; i++)
		free(h->zc_free[i]);
	free(h);
}

static const struct perf_client_ops homa_client_ops = {
    .send = homa_client_send,
    .poll = homa_client_poll,
    .close = homa_client_close,
};

int perf_homa_client_open(struct perf_client *c, const struct perf_client_cfg *cfg,
			  char *err, size_t errlen)
{
	struct homa_client *h = calloc(1, sizeof(*h));
	int rc;

	if (!h || runtime_init(cfg->poll, err, errlen) != 0) {
		free(h);
		return -1;
	}
	rc = homa_socket(cfg->servers[0].ss.ss_family, 0, &h->s);
	if (rc != 0) {
		snprintf(err, errlen, "homa_socket: %s", homa_strerror(rc));
		free(h);
		return -1;
	}
	if (cfg->serve_port > 0) {
		struct perf_addr a = cfg->servers[0];

		perf_addr_with_port(&a, &cfg->servers[0], (uint16_t)cfg->serve_port);
		rc = homa_bind(h->s, (const struct sockaddr *)&a.ss, a.len);
		if (rc != 0) {
			snprintf(err, errlen, "homa_bind port %d: %s %s", cfg->serve_port,
				 homa_strerror(rc), homa_last_error_msg());
			homa_close(h->s);
			free(h);
			return -1;
		}
	}
	h->servers = cfg->servers;
	h->poll = cfg->poll;
	c->ops = &homa_client_ops;
	c->impl = h;
	return 0;
}

/* ------------------------------------------------------------------ server */

struct homa_ep {
	struct homa_socket *s;
	struct homa_msg msg;
	uint64_t cur_us;
	int poll;
};

/* Answers the request in ep->msg with the length its header asks for. */
static void answer(struct homa_ep *ep, int len)
{
	answer_request(ep->s, &ep->msg, len);
}

static int homa_serve(void *impl, uint64_t timeout_ns)
{
	struct homa_ep *ep = impl;
	int served = 0;

	while (served < MAX_PER_CALL) {
		int rc = recv_one(ep->s, &ep->msg, &ep->cur_us,
				  served == 0 && (timeout_ns || ep->poll),
				  first_wait(ep->poll, timeout_ns));

		if (rc > 0 && (ep->msg.id & 1))
			answer(ep, rc);
		else if (quiet(rc, &ep->msg))
			break;
		else if (rc < 0 && ep->msg.id == 0)
			return rc;
		served++;
	}
	if (served == MAX_PER_CALL)
		homa_flush(ep->s); /* no empty homa_recv sent the held responses */
	return served;
}

static void homa_ep_close(void *impl)
{
	struct homa_ep *ep = impl;

	if (ep->msg.num_bpages)
		homa_release_bpages(ep->s, ep->msg.bpage_offsets, ep->msg.num_bpages);
	free(ep);
}

static const struct perf_endpoint_ops homa_ep_ops = {
    .serve = homa_serve,
    .close = homa_ep_close,
};

static int homa_endpoint(struct perf_listener *l, int poll, struct perf_endpoint *out)
{
	struct homa_ep *ep = calloc(1, sizeof(*ep));

	if (!ep)
		return -1;
	ep->s = l->impl;
	ep->poll = poll;
	out->ops = &homa_ep_ops;
	out->impl = ep;
	return 0;
}

static void homa_listener_close(struct perf_listener *l)
{
	if (l->impl)
		homa_close(l->impl);
	l->impl = NULL;
}

int perf_homa_listen(struct perf_listener *l, int port, int poll, char *err,
		     size_t errlen)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	struct homa_socket *s;
	int rc;

	if (runtime_init(poll, err, errlen) != 0)
		return -1;
	rc = homa_socket(AF_INET, 0, &s);
	if (rc == 0 && (rc = homa_bind(s, (struct sockaddr *)&a, sizeof(a))) != 0)
		homa_close(s);
	if (rc != 0) {
		snprintf(err, errlen, "homa server on port %d: %s", port,
			 homa_strerror(rc));
		return -1;
	}
	l->name = "homa";
	l->fd = -1; /* endpoints wait inside homa_recv; no exported fd (see client) */
	l->impl = s;
	l->endpoint = homa_endpoint;
	l->close = homa_listener_close;
	return 0;
}

#endif
