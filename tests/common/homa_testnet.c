/*
 * homa_testnet.c - the back-to-back test network (see homa_testnet.h).
 */
#include "homa_testnet.h"

#include <stdlib.h>
#include <string.h>

static struct htn_sock *find_sock(struct htn_host *h, const struct homa_sock *s)
{
	int i;

	for (i = 0; i < h->num_socks; i++)
		if (h->socks[i].sock == s)
			return &h->socks[i];
	return NULL;
}

int htn_host_of(const struct htn *net, const struct homa_addr *a)
{
	int i;

	for (i = 0; i < net->num_hosts; i++)
		if (homa_addr_equal(&net->hosts[i].addr, a))
			return i;
	return -1;
}

static void enqueue(struct htn *net, struct htn_pkt *p)
{
	struct htn_pkt **pp = &net->queue;

	p->seq = net->next_seq++;
	while (*pp != NULL && (*pp)->deliver_at <= p->deliver_at)
		pp = &(*pp)->next;
	p->next = *pp;
	*pp = p;
}

static struct htn_pkt *make_pkt(int from, int to, int prio, const uint8_t *hdr,
				size_t hdr_len, const uint8_t *payload,
				size_t payload_len)
{
	struct htn_pkt *p = malloc(sizeof(*p) + hdr_len + payload_len);

	if (p == NULL)
		abort();
	p->from = from;
	p->to = to;
	p->priority = prio;
	p->len = hdr_len + payload_len;
	memcpy(p->bytes, hdr, hdr_len);
	if (payload_len != 0)
		memcpy(p->bytes + hdr_len, payload, payload_len);
	return p;
}

static uint64_t serialise(struct htn *net, struct htn_host *h, size_t len)
{
	uint64_t start = h->uplink_free_at > net->now ? h->uplink_free_at : net->now;

	if (net->rate_mbps != 0)
		start += (uint64_t)len * 8000u / net->rate_mbps;
	h->uplink_free_at = start;
	return start + net->latency_ns;
}

static void cb_send(void *user, struct homa_sock *sock, const struct homa_endpoint *dst,
		    int priority, const uint8_t *hdr, size_t hdr_len,
		    const uint8_t *payload, size_t payload_len)
{
	struct htn_host *h = user;
	struct htn *net = h->net;
	struct htn_pkt *p;
	struct homa_packet pkt;
	enum htn_verdict v = HTN_PASS;
	uint64_t delay = 0;
	int to = htn_host_of(net, &dst->addr);

	(void)sock;
	p = make_pkt(h->index, to, priority, hdr, hdr_len, payload, payload_len);
	if (hdr[11] >= HOMA_PKT_TYPE_MIN && hdr[11] <= HOMA_PKT_TYPE_MAX) {
		h->sent_by_type[hdr[11] - HOMA_PKT_TYPE_MIN]++;
		h->last_priority[hdr[11] - HOMA_PKT_TYPE_MIN] = priority;
	}
	p->deliver_at = serialise(net, h, p->len);
	if (net->hook != NULL && homa_wire_decode(p->bytes, p->len, &pkt) == 0)
		v = net->hook(net->hook_ctx, net, h->index, to, &pkt, &delay);
	if (v == HTN_DROP || to < 0 || h->dead) {
		net->dropped++;
		free(p);
		return;
	}
	if (v == HTN_DELAY)
		p->deliver_at += delay;
	if (v == HTN_DUP) {
		struct htn_pkt *q =
		    make_pkt(h->index, to, priority, p->bytes, p->len, NULL, 0);

		q->deliver_at = p->deliver_at + delay;
		enqueue(net, q);
	}
	enqueue(net, p);
}

static void cb_ready(void *user, struct homa_sock *sock, uint64_t id)
{
	struct htn_sock *s = find_sock(user, sock);

	if (s == NULL)
		return;
	if (id == 0) {
		s->ready_calls++;
	} else {
		s->private_ready++;
		s->last_private_id = id;
	}
}

static void cb_writable(void *user, struct homa_sock *sock)
{
	struct htn_sock *s = find_sock(user, sock);

	if (s != NULL)
		s->writable_calls++;
}

struct htn *htn_new(int n, const struct homa_settings *settings, uint64_t latency_ns,
		    uint32_t rate_mbps)
{
	return htn_new_with(n, settings, latency_ns, rate_mbps, NULL);
}

struct htn *htn_new_with(int n, const struct homa_settings *settings, uint64_t latency_ns,
			 uint32_t rate_mbps, const struct homa_allocator *alloc)
{
	struct homa_callbacks cb = {cb_send, cb_ready, cb_writable};
	struct homa_settings def;
	struct htn *net = calloc(1, sizeof(*net));
	int i;

	if (net == NULL || n > HTN_MAX_HOSTS)
		abort();
	if (settings == NULL) {
		homa_settings_default(&def);
		settings = &def;
	}
	net->latency_ns = latency_ns;
	net->rate_mbps = rate_mbps;
	net->num_hosts = n;
	for (i = 0; i < n; i++) {
		struct htn_host *h = &net->hosts[i];

		h->net = net;
		h->index = i;
		homa_addr_from_ipv4(&h->addr, 0x0a000001u + (uint32_t)i);
		if (homa_engine_new(settings, &cb, h, alloc, 1000 + (uint64_t)i, 0,
				    &h->engine))
			abort();
	}
	return net;
}

size_t htn_free(struct htn *net)
{
	size_t left = 0;
	int i, j;

	/* Sockets closing send acks; the hook must not look at freed engines. */
	net->hook = NULL;
	for (i = 0; i < net->num_hosts; i++) {
		struct htn_host *h = &net->hosts[i];

		for (j = 0; j < h->num_socks; j++) {
			homa_sock_free(h->socks[j].sock, net->now);
			free(h->socks[j].region);
		}
		left += homa_engine_mem_in_use(h->engine);
		homa_engine_free(h->engine);
	}
	while (net->queue != NULL) {
		struct htn_pkt *p = net->queue;

		net->queue = p->next;
		free(p);
	}
	free(net);
	return left;
}

struct htn_sock *htn_sock(struct htn *net, int h, uint16_t port, uint32_t bpages)
{
	struct htn_host *host = &net->hosts[h];
	struct htn_sock *s = &host->socks[host->num_socks];

	if (host->num_socks == HTN_MAX_SOCKS ||
	    homa_sock_new(host->engine, &s->sock) != 0)
		abort();
	host->num_socks++;
	if (port != 0 && homa_sock_bind(s->sock, port) != 0)
		abort();
	if (bpages != 0) {
		s->region_len = (size_t)bpages << 16;
		s->region = aligned_alloc(4096, s->region_len);
		if (s->region == NULL ||
		    homa_sock_set_rcvbuf(s->sock, s->region, s->region_len) != 0)
			abort();
	}
	return s;
}

struct homa_endpoint htn_endpoint(const struct htn *net, int h, const struct htn_sock *s)
{
	struct homa_endpoint ep;

	ep.addr = net->hosts[h].addr;
	ep.port = homa_sock_port(s->sock);
	return ep;
}

static uint64_t next_timeout(const struct htn *net, int *which)
{
	uint64_t best = UINT64_MAX;
	int i;

	*which = -1;
	for (i = 0; i < net->num_hosts; i++) {
		uint64_t t = homa_engine_next_timeout(net->hosts[i].engine);

		if (t < best) {
			best = t;
			*which = i;
		}
	}
	return best;
}

static void deliver(struct htn *net, struct htn_pkt *p)
{
	struct htn_host *to = &net->hosts[p->to];

	net->queue = p->next;
	if (!to->dead) {
		net->delivered++;
		homa_engine_input(to->engine, &net->hosts[p->from].addr, p->bytes, p->len,
				  net->now);
	}
	free(p);
}

int htn_step(struct htn *net, uint64_t until)
{
	int which;
	uint64_t t = next_timeout(net, &which);

	if (net->queue != NULL && net->queue->deliver_at <= t) {
		if (net->queue->deliver_at > until)
			return 0;
		if (net->queue->deliver_at > net->now)
			net->now = net->queue->deliver_at;
		deliver(net, net->queue);
		return 1;
	}
	if (which < 0 || t > until)
		return 0;
	if (t > net->now)
		net->now = t;
	homa_engine_handle_timeout(net->hosts[which].engine, net->now);
	return 1;
}

int htn_run_until(struct htn *net, int (*done)(void *ctx), void *ctx, uint64_t until)
{
	while (!done(ctx))
		if (!htn_step(net, until))
			return done(ctx);
	return 1;
}

void htn_run_for(struct htn *net, uint64_t ns)
{
	uint64_t until = net->now + ns;

	while (htn_step(net, until))
		;
	net->now = until;
}

void htn_inject(struct htn *net, int from, int to, const uint8_t *bytes, size_t len)
{
	struct htn_pkt *p = make_pkt(from, to, 0, bytes, len, NULL, 0);

	p->deliver_at = net->now;
	enqueue(net, p);
}

int htn_recv(struct htn *net, struct htn_sock *s, uint64_t id, struct homa_recv_msg *msg,
	     void *out, size_t cap)
{
	int err = homa_sock_recv(s->sock, id, net->now, msg);
	uint32_t i, off = 0;

	if (err != 0 || msg->error != 0)
		return err;
	for (i = 0; i < msg->num_bpages && out != NULL && off < cap; i++) {
		uint32_t n = msg->length - off < 65536 ? msg->length - off : 65536;

		if (n > cap - off)
			n = (uint32_t)(cap - off);
		memcpy((uint8_t *)out + off, (uint8_t *)s->region + msg->bpage_offsets[i],
		       n);
		off += n;
	}
	return homa_sock_release_bpages(s->sock, msg->bpage_offsets, msg->num_bpages);
}

size_t htn_queued(const struct htn *net, uint8_t type)
{
	const struct htn_pkt *p;
	size_t n = 0;

	for (p = net->queue; p != NULL; p = p->next)
		if (p->bytes[11] == type)
			n++;
	return n;
}
