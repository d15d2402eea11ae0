/*
 * homa_incoming.c - demultiplexing and one handler per packet type
 * (reference sections 4.4-4.6, 5.1-5.3, 5.6, 6.5).
 *
 * Every packet passed decoding; here it meets protocol state. The demux
 * finds the socket (drop_no_socket), checks that the id parity fits the
 * packet type (drop_bad_id_parity: ACKs come from clients, NEED_ACKs from
 * servers), that packets for server RPCs reach server sockets
 * (drop_not_server), and that packets for a client RPC come from the address
 * and port its request went to (drop_wrong_peer). Then a table dispatches to
 * one short handler per type.
 *
 * Incoming payload is copied into the socket's receive region at once, at
 * bpage_offsets[off >> 16] + (off & 0xffff): no packet is ever queued, so a
 * complete message is immediately ready. An embedder may receive a payload
 * there itself (homa_incoming_place() says where, only into bytes not yet
 * received of a message still being received); the copy then finds source
 * and destination equal and skips them.
 *
 * Buffer exhaustion (5.6, with fix 12.8): an RPC whose first packet finds the
 * pool full waits on the socket's bufwait list (shortest message first) and
 * its DATA is dropped. Whenever bpages return to the pool the list head is
 * retried; on success a RESEND for everything granted restarts the sender.
 * Unlike the reference a stalled RPC does not wait forever: its silent ticks
 * keep counting, and after timeout_ticks a stalled client RPC fails with
 * ENOMEM and a stalled server RPC is reclaimed (the client's RESENDs then get
 * RPC_UNKNOWN and it restarts the request, by which time buffers may exist).
 */
#include "homa_internal.h"

#include "homa_pacer.h"
#include "homa_peer.h"
#include "homa_rpc.h"

/* RESENDs per RPC per timer round: the first gaps are the oldest losses. */
#define RESEND_MAX_RANGES 16

/* What one handler needs to know about the packet being processed. */
struct in_ctx {
	struct homa_engine *e;
	const struct homa_addr *src;
	const struct homa_packet *pkt;
	uint64_t now;
	struct homa_sock *sock;
	struct homa_rpc *rpc;		 /* NULL if none matched */
	uint64_t id;			 /* our local id for the packet's RPC */
	const struct homa_place *placed; /* payload already received here, or NULL */
};

typedef void (*in_handler)(struct in_ctx *c);

static struct homa_endpoint reply_dst(const struct in_ctx *c)
{
	struct homa_endpoint dst = {*c->src, c->pkt->common.sport};

	return dst;
}

/* A control packet answering c's packet when there is no RPC to use. */
static void reply_simple(struct in_ctx *c, uint8_t type)
{
	struct homa_endpoint dst = reply_dst(c);
	struct homa_packet pkt;

	homa_wire_init(&pkt, type, c->pkt->common.dport, c->pkt->common.sport, c->id);
	homa_outgoing_control(c->e, c->sock, &dst, &pkt);
}

/* ---------------------------------------------------------------- acks */

static void process_ack(struct homa_engine *e, const struct homa_addr *src,
			const struct homa_ack *ack, uint64_t now)
{
	struct homa_sock *s;
	struct homa_rpc *rpc = NULL;

	if (ack->client_id == 0)
		return;
	e->stats.acks_received++;
	s = homa_sock_find(e, ack->server_port);
	if (s != NULL)
		rpc = homa_rpc_find_server(s, src, ack->client_id | 1);
	if (rpc == NULL) {
		e->stats.acks_unknown++;
		return;
	}
	homa_rpc_end(rpc, now);
}

void homa_incoming_run_deferred(struct homa_engine *e)
{
	/* process_ack() cannot defer: the list is taken whole first. */
	unsigned int n = e->num_deferred;

	e->num_deferred = 0;
	for (unsigned int i = 0; i < n; i++)
		process_ack(e, &e->deferred[i].src, &e->deferred[i].ack, e->now);
}

static void defer_ack(struct homa_engine *e, const struct homa_addr *src,
		      const struct homa_ack *ack)
{
	if (e->num_deferred == HOMA_DEFERRED_ACKS)
		homa_incoming_run_deferred(e);
	e->deferred[e->num_deferred].src = *src;
	e->deferred[e->num_deferred].ack = *ack;
	e->num_deferred++;
}

/* ---------------------------------------------------------- receiving */

static uint32_t received(const struct homa_rpc *rpc)
{
	return (uint32_t)rpc->in.length - rpc->in.gaps.bytes_remaining;
}

void homa_incoming_ungrant(struct homa_rpc *rpc, uint64_t now)
{
	if (rpc->in.length >= 0)
		homa_grant_remove(&rpc->sock->e->grant, &rpc->in.grant, now);
}

void homa_incoming_grant_send(void *ctx, struct homa_grant_rpc *g, uint32_t offset,
			      int priority, uint64_t now)
{
	struct homa_rpc *rpc = homa_container_of(g, struct homa_rpc, in.grant);
	struct homa_endpoint dst = {rpc->peer->addr, rpc->dport};
	struct homa_packet pkt;

	(void)ctx;
	(void)now;
	/* Ending a closing socket's RPCs frees headroom for its other RPCs, which
	 * end a moment later: granting them would be noise. */
	if (rpc->sock->shutdown)
		return;
	rpc->in.grant_prio = (uint8_t)priority;
	homa_wire_init(&pkt, HOMA_PKT_GRANT, rpc->sock->port, rpc->dport, rpc->id);
	pkt.u.grant.offset = offset;
	pkt.u.grant.priority = (uint8_t)priority;
	homa_outgoing_control(rpc->sock->e, rpc->sock, &dst, &pkt);
}

void homa_incoming_request_resend(struct homa_rpc *rpc, int priority, uint64_t now)
{
	struct homa_gap ranges[RESEND_MAX_RANGES];
	size_t n, i;

	(void)now;
	if (priority < 0)
		priority = 0;
	if (rpc->in.length < 0 || received(rpc) == 0) {
		homa_outgoing_resend(rpc, 0, HOMA_RESEND_ALL, priority);
		return;
	}
	n = homa_msgin_missing(&rpc->in.gaps, rpc->in.grant.granted, ranges,
			       RESEND_MAX_RANGES);
	for (i = 0; i < n; i++)
		homa_outgoing_resend(rpc, ranges[i].start,
				     ranges[i].end - ranges[i].start, priority);
}

static void stall(struct homa_rpc *rpc, uint64_t now)
{
	struct homa_sock *s = rpc->sock;
	struct homa_link *l;

	s->e->stats.buffer_alloc_failures++;
	rpc->flags |= RPC_BUF_STALL;
	homa_incoming_ungrant(rpc, now);
	for (l = s->bufwait.next; l != &s->bufwait; l = l->next) {
		struct homa_rpc *o = homa_container_of(l, struct homa_rpc, bufwait_link);

		if (o->in.length > rpc->in.length)
			break;
	}
	homa_list_insert_before(l, &rpc->bufwait_link);
}

/* Allocates rpc's bpages; 0 on success, else the RPC is stalled. */
static int alloc_buffers(struct homa_rpc *rpc, uint64_t now)
{
	struct homa_sock *s = rpc->sock;

	if (homa_pool_alloc(&s->pool, (uint32_t)rpc->in.length, rpc->in.bpage_offsets,
			    &rpc->in.num_bpages) == 0 &&
	    rpc->in.num_bpages != 0)
		return 0;
	rpc->in.num_bpages = 0;
	stall(rpc, now);
	return -ENOMEM;
}

void homa_incoming_retry_stalled(struct homa_sock *s, uint64_t now)
{
	if (s->shutdown)
		return;
	while (!homa_list_empty(&s->bufwait)) {
		struct homa_rpc *rpc =
		    homa_container_of(s->bufwait.next, struct homa_rpc, bufwait_link);

		if (!homa_pool_can_alloc(&s->pool, (uint32_t)rpc->in.length))
			return;
		homa_list_remove(&rpc->bufwait_link);
		rpc->flags &= ~(uint32_t)RPC_BUF_STALL;
		if (alloc_buffers(rpc, now) != 0)
			return;
		s->e->stats.buffer_stall_restarts++;
		rpc->silent_ticks = 0;
		homa_incoming_request_resend(rpc, (int)s->e->s.num_priorities - 2, now);
		homa_grant_check(&s->e->grant, &rpc->in.grant, now);
	}
}

/* First DATA of a message: sets the length and grant state, gets buffers. */
static void msg_init(struct homa_rpc *rpc, const struct homa_packet *pkt, uint64_t now)
{
	struct homa_engine *e = rpc->sock->e;
	struct homa_grant_rpc *g = &rpc->in.grant;
	uint32_t len = pkt->u.data.message_length;

	rpc->in.length = (int32_t)len;
	homa_msgin_init(&rpc->in.gaps, len);
	g->peer = rpc->peer;
	g->birth = now;
	g->length = len;
	g->received = 0;
	g->granted = pkt->u.data.incoming < len ? pkt->u.data.incoming : len;
	homa_prio_hist_add(&e->hist, len);
	alloc_buffers(rpc, now);
}

/* Where byte off of rpc's message is stored. */
static uint8_t *msg_byte(struct homa_rpc *rpc, uint32_t off)
{
	return rpc->sock->region + rpc->in.bpage_offsets[off >> HOMA_BPAGE_SHIFT] +
	       (off & (HOMA_BPAGE_SIZE - 1));
}

/* Copies n bytes from p to [off, off+n) of rpc's message, bpage by bpage;
 * bytes already where they belong (received in place) are not copied. */
static void copy_chunks(struct homa_rpc *rpc, uint32_t off, const uint8_t *p, size_t n)
{
	while (n > 0) {
		uint32_t in_page = HOMA_BPAGE_SIZE - (off & (HOMA_BPAGE_SIZE - 1));
		size_t chunk = n < in_page ? n : in_page;
		uint8_t *dst = msg_byte(rpc, off);

		if (dst != p)
			memmove(dst, p, chunk);
		off += (uint32_t)chunk;
		p += chunk;
		n -= chunk;
	}
}

static void copy_payload(struct in_ctx *c, struct homa_rpc *rpc, uint32_t off)
{
	const struct homa_place *pl = c->placed;
	size_t n = c->pkt->payload_len;

	if (pl == NULL) {
		copy_chunks(rpc, off, c->pkt->payload, n);
		return;
	}
	/* Normally each span is exactly its bpage piece and nothing moves;
	 * whatever differs is copied from the spans, like any payload. */
	for (unsigned int i = 0; i < pl->num_spans && n > 0; i++) {
		size_t len = pl->spans[i].len < n ? pl->spans[i].len : n;

		copy_chunks(rpc, off, pl->spans[i].base, len);
		off += (uint32_t)len;
		n -= len;
	}
}

static void message_complete(struct homa_rpc *rpc, uint64_t now)
{
	struct homa_engine *e = rpc->sock->e;

	homa_incoming_ungrant(rpc, now);
	if (homa_rpc_is_client(rpc))
		e->stats.client_responses_done++;
	else
		e->stats.server_requests_done++;
	homa_rpc_make_ready(rpc);
}

/* Records [off, off+n) in rpc; returns 1 if new bytes were stored. */
static int accept_data(struct in_ctx *c, struct homa_rpc *rpc)
{
	const struct homa_packet *pkt = c->pkt;
	uint32_t off = pkt->u.data.offset, gaps = rpc->in.gaps.num_gaps;
	int n = homa_msgin_add(&rpc->in.gaps, &c->e->mem, off,
			       off + (uint32_t)pkt->payload_len, c->now);

	if (n < 0) {
		if (n == -ENOMEM)
			c->e->stats.drop_no_memory++;
		else
			c->e->stats.drop_peer_limit++;
		return 0;
	}
	if (n == 0) {
		c->e->stats.drop_duplicate_data++;
		return 0;
	}
	if (rpc->in.gaps.num_gaps > gaps)
		c->e->stats.gaps_created++;
	copy_payload(c, rpc, off);
	return 1;
}

static int receiving(const struct homa_rpc *rpc)
{
	if (rpc->error != 0 || (rpc->flags & RPC_READY))
		return 0;
	if (homa_rpc_is_client(rpc))
		return rpc->state == HOMA_RPC_OUTGOING || rpc->state == HOMA_RPC_INCOMING;
	return rpc->state == HOMA_RPC_INCOMING;
}

static void data_into_rpc(struct in_ctx *c, struct homa_rpc *rpc)
{
	struct homa_engine *e = c->e;

	rpc->silent_ticks = 0;
	if (!receiving(rpc)) {
		e->stats.drop_data_wrong_state++;
		return;
	}
	if (rpc->state == HOMA_RPC_OUTGOING) {
		/* The response has begun: the request needs no more sending. */
		rpc->state = HOMA_RPC_INCOMING;
		homa_pacer_remove(e, rpc);
	}
	if (rpc->in.length < 0)
		msg_init(rpc, c->pkt, c->now);
	else if (c->pkt->u.data.message_length != (uint32_t)rpc->in.length) {
		e->stats.drop_length_changed++;
		return;
	}
	if (rpc->in.num_bpages == 0) {
		e->stats.drop_no_buffers++;
		return;
	}
	if (!accept_data(c, rpc))
		return;
	rpc->in.grant.received = received(rpc);
	if (homa_msgin_complete(&rpc->in.gaps))
		message_complete(rpc, c->now);
	else
		homa_grant_check(&e->grant, &rpc->in.grant, c->now);
}

/* A request for an RPC we do not know yet: create it, unless it already ran. */
static struct homa_rpc *data_new_server(struct in_ctx *c)
{
	struct homa_engine *e = c->e;
	struct homa_peer *peer = homa_peer_find(e, c->src);
	struct homa_rpc *rpc;

	if (peer != NULL && homa_peer_tomb_find(e, peer, c->id)) {
		e->stats.drop_tombstone++;
		return NULL;
	}
	if (!c->sock->has_pool) {
		e->stats.drop_no_buffers++;
		return NULL;
	}
	peer = homa_peer_get(e, c->src);
	if (peer == NULL) {
		e->stats.drop_no_memory++;
		return NULL;
	}
	rpc = homa_rpc_new_server(c->sock, peer, c->pkt->common.sport, c->id, c->now);
	homa_peer_put(e, peer);
	return rpc;
}

static void send_cutoffs_if_stale(struct in_ctx *c, struct homa_peer *peer)
{
	struct homa_engine *e = c->e;
	struct homa_endpoint dst = reply_dst(c);
	struct homa_packet pkt;

	if (e->s.num_priorities <= 1 || peer == NULL ||
	    c->pkt->u.data.cutoff_version == e->cutoff_version ||
	    peer->cutoffs_sent_tick == e->tick_count + 1)
		return;
	peer->cutoffs_sent_tick = e->tick_count + 1;
	homa_wire_init(&pkt, HOMA_PKT_CUTOFFS, c->pkt->common.dport, c->pkt->common.sport,
		       c->id);
	memcpy(pkt.u.cutoffs.unsched_cutoffs, e->cutoffs, sizeof(e->cutoffs));
	pkt.u.cutoffs.cutoff_version = e->cutoff_version;
	homa_outgoing_control(e, c->sock, &dst, &pkt);
}

static void handle_data(struct in_ctx *c)
{
	struct homa_rpc *rpc = c->rpc;
	struct homa_ack ack = c->pkt->u.data.ack;

	if (rpc == NULL && homa_rpc_is_client_id(c->id))
		c->e->stats.drop_unknown_rpc++;
	else if (rpc == NULL)
		rpc = data_new_server(c);
	if (rpc != NULL) {
		send_cutoffs_if_stale(c, rpc->peer);
		data_into_rpc(c, rpc);
	}
	/*
	 * Any DATA packet may carry an ack, a response too: the peer's cache
	 * holds acks for our server RPCs whatever RPC its next packet belongs
	 * to (as in the reference), and an engine is often client and server.
	 */
	if (c->e->defer_acks && ack.client_id != 0)
		defer_ack(c->e, c->src, &ack);
	else
		process_ack(c->e, c->src, &ack, c->now);
}

/* ----------------------------------------------------------- control */

static void handle_grant(struct in_ctx *c)
{
	struct homa_rpc *rpc = c->rpc;
	struct homa_msgout *m;

	if (rpc == NULL) {
		c->e->stats.drop_unknown_rpc++;
		return;
	}
	rpc->silent_ticks = 0;
	m = &rpc->out;
	/* A failed (aborted) RPC waits for its reader and sends nothing more. */
	if (rpc->state != HOMA_RPC_OUTGOING || m->buf == NULL || rpc->error != 0)
		return;
	if (c->pkt->u.grant.offset > m->granted)
		m->granted = c->pkt->u.grant.offset < (uint32_t)m->length
				 ? c->pkt->u.grant.offset
				 : (uint32_t)m->length;
	m->sched_prio = c->pkt->u.grant.priority;
	homa_outgoing_xmit(rpc, c->now);
}

static void handle_resend(struct in_ctx *c)
{
	struct homa_rpc *rpc = c->rpc;
	const struct homa_resend_hdr *r = &c->pkt->u.resend;

	if (rpc == NULL) {
		reply_simple(c, HOMA_PKT_RPC_UNKNOWN);
		return;
	}
	/* A server sending its response hears from its client only this way. */
	rpc->ack_wait_ticks = 0;
	if (!homa_rpc_is_client(rpc) && rpc->state == HOMA_RPC_OUTGOING)
		rpc->silent_ticks = 0;
	if (rpc->error != 0)
		return;
	if (rpc->out.buf == NULL ||
	    (!homa_rpc_is_client(rpc) && rpc->state != HOMA_RPC_OUTGOING)) {
		homa_outgoing_simple(rpc, HOMA_PKT_BUSY);
		return;
	}
	if (homa_outgoing_handle_resend(rpc, r->offset, r->length, r->priority, c->now))
		homa_outgoing_simple(rpc, HOMA_PKT_BUSY);
}

static void restart_request(struct homa_rpc *rpc, uint64_t now)
{
	struct homa_msgout *m = &rpc->out;

	rpc->sock->e->stats.rpc_restarts++;
	rpc->restarts++;
	homa_pacer_remove(rpc->sock->e, rpc);
	m->granted = m->unscheduled;
	m->next_xmit = 0;
	homa_outgoing_xmit(rpc, now);
}

static void handle_rpc_unknown(struct in_ctx *c)
{
	struct homa_rpc *rpc = c->rpc;

	if (rpc == NULL) {
		c->e->stats.drop_unknown_rpc++;
		return;
	}
	if (!homa_rpc_is_client(rpc))
		homa_rpc_end(rpc, c->now);
	else if (rpc->state == HOMA_RPC_OUTGOING && rpc->error == 0)
		restart_request(rpc, c->now);
}

/*
 * BUSY: the peer is alive but not sending. A sender waiting for our grants
 * also sends it as a probe (homa_timer.c): if we are receiving its message we
 * answer with a GRANT repeating the current grant (idempotent), which tells
 * it we are alive too. A BUSY for an RPC we do not know gets no answer (no
 * reply to unsolicited packets beyond RESEND's); its sender times out.
 */
static void handle_busy(struct in_ctx *c)
{
	struct homa_rpc *rpc = c->rpc;

	if (rpc == NULL) {
		c->e->stats.drop_unknown_rpc++;
		return;
	}
	rpc->silent_ticks = 0;
	rpc->ack_wait_ticks = 0;
	if (rpc->state == HOMA_RPC_INCOMING && receiving(rpc) && rpc->in.num_bpages != 0)
		homa_incoming_grant_send(NULL, &rpc->in.grant, rpc->in.grant.granted,
					 rpc->in.grant_prio, c->now);
}

static void handle_cutoffs(struct in_ctx *c)
{
	struct homa_peer *peer = homa_peer_find(c->e, c->src);

	/* A host we never talked to gets no peer record for free. */
	if (peer != NULL)
		homa_peer_set_cutoffs(peer, c->pkt->u.cutoffs.unsched_cutoffs,
				      c->pkt->u.cutoffs.cutoff_version);
}

static int fully_received(const struct homa_rpc *rpc)
{
	return rpc->in.length >= 0 && homa_msgin_complete(&rpc->in.gaps);
}

static void handle_need_ack(struct in_ctx *c)
{
	struct homa_rpc *rpc = c->rpc;
	struct homa_peer *peer;

	if (rpc != NULL && rpc->error == 0 && !fully_received(rpc)) {
		homa_incoming_request_resend(rpc, homa_control_prio(c->e), c->now);
		return;
	}
	peer = homa_peer_find(c->e, c->src);
	if (peer == NULL) {
		struct homa_endpoint dst = reply_dst(c);
		struct homa_packet pkt;

		homa_wire_init(&pkt, HOMA_PKT_ACK, c->pkt->common.dport,
			       c->pkt->common.sport, c->id);
		homa_outgoing_control(c->e, c->sock, &dst, &pkt);
		return;
	}
	homa_outgoing_ack(c->e, c->sock, peer, c->pkt->common.dport, c->pkt->common.sport,
			  c->id);
}

static void handle_ack(struct in_ctx *c)
{
	const struct homa_ack_hdr *a = &c->pkt->u.ack;
	uint16_t i;

	if (c->rpc != NULL) {
		c->e->stats.acks_received++;
		homa_rpc_end(c->rpc, c->now);
	}
	for (i = 0; i < a->num_acks && i < HOMA_MAX_ACKS_PER_PKT; i++)
		process_ack(c->e, c->src, &a->acks[i], c->now);
}

static void handle_freeze(struct in_ctx *c)
{
	(void)c;
}

static const in_handler handlers[HOMA_PKT_TYPE_COUNT] = {
    handle_data,    handle_grant,  handle_resend,   handle_rpc_unknown, handle_busy,
    handle_cutoffs, handle_freeze, handle_need_ack, handle_ack,
};

/* ---------------------------------------------------------------- demux */

static int parity_ok(uint8_t type, uint64_t local_id)
{
	if (type == HOMA_PKT_ACK)
		return (local_id & 1) == 1; /* only a client acks; we are the server */
	if (type == HOMA_PKT_NEED_ACK)
		return (local_id & 1) == 0; /* only a server asks; we are the client */
	return 1;
}

/* Sets c->rpc; -1 when the RPC exists but the packet is not from its peer. */
static int find_rpc(struct in_ctx *c)
{
	const struct homa_common_hdr *h = &c->pkt->common;
	struct homa_rpc *rpc;

	if (homa_rpc_is_client_id(c->id)) {
		rpc = homa_rpc_find_client(c->sock, c->id);
		if (rpc != NULL && (!homa_addr_equal(&rpc->peer->addr, c->src) ||
				    rpc->dport != h->sport))
			return -1;
	} else {
		/* Acks name RPCs by address and id only (4.5). */
		rpc = homa_rpc_find_server(c->sock, c->src, c->id);
		if (rpc != NULL && h->type != HOMA_PKT_ACK && rpc->dport != h->sport)
			return -1;
	}
	c->rpc = rpc;
	return 0;
}

/* NEED_ACK for a port nobody holds: the RPC is surely gone, so ack it. */
static void need_ack_no_socket(struct in_ctx *c)
{
	struct homa_endpoint dst = reply_dst(c);
	struct homa_packet pkt;

	homa_wire_init(&pkt, HOMA_PKT_ACK, c->pkt->common.dport, c->pkt->common.sport,
		       c->id);
	homa_outgoing_control(c->e, NULL, &dst, &pkt);
}

void homa_incoming_dispatch(struct homa_engine *e, const struct homa_addr *src,
			    const struct homa_packet *pkt,
			    const struct homa_place *placed, uint64_t now)
{
	struct in_ctx c = {e,	  src, pkt, now, NULL, NULL, pkt->common.sender_id ^ 1,
			   placed};
	uint8_t type = pkt->common.type;

	if (type == HOMA_PKT_FREEZE)
		return;
	if (!parity_ok(type, c.id)) {
		e->stats.drop_bad_id_parity++;
		return;
	}
	c.sock = homa_sock_find(e, pkt->common.dport);
	if (c.sock == NULL) {
		if (type == HOMA_PKT_NEED_ACK)
			need_ack_no_socket(&c);
		else
			e->stats.drop_no_socket++;
		return;
	}
	if (type != HOMA_PKT_CUTOFFS && !homa_rpc_is_client_id(c.id) &&
	    !c.sock->is_server) {
		e->stats.drop_not_server++;
		return;
	}
	if (type != HOMA_PKT_CUTOFFS && find_rpc(&c) != 0) {
		e->stats.drop_wrong_peer++;
		return;
	}
	/* Signs that the peer is up and knows our RPCs (not RPC_UNKNOWN). */
	if (c.rpc != NULL && type != HOMA_PKT_RPC_UNKNOWN)
		c.rpc->peer->heard_tick = e->tick_count;
	handlers[type - HOMA_PKT_TYPE_MIN](&c);
}

/* ------------------------------------------------------------ placement */

/*
 * The demux and the checks of data_into_rpc()/accept_data(), without side
 * effects: a packet is placed only where handle_data() would store it, into
 * bytes not received yet of a message not yet complete.
 */
int homa_incoming_place(const struct homa_engine *e, const struct homa_addr *src,
			const struct homa_packet *pkt, struct homa_place *out)
{
	uint64_t id = pkt->common.sender_id ^ 1;
	uint32_t off = pkt->u.data.offset, end;
	struct homa_sock *s = homa_sock_find(e, pkt->common.dport);
	struct homa_rpc *rpc;
	unsigned int n = 0;

	if (pkt->common.type != HOMA_PKT_DATA || s == NULL || s->shutdown ||
	    pkt->payload_len == 0 || pkt->payload_len > HOMA_MAX_MESSAGE_LENGTH)
		return 0;
	if (homa_rpc_is_client_id(id)) {
		rpc = homa_rpc_find_client(s, id);
	} else {
		if (!s->is_server)
			return 0;
		rpc = homa_rpc_find_server(s, src, id);
	}
	if (rpc == NULL || !homa_addr_equal(&rpc->peer->addr, src) ||
	    rpc->dport != pkt->common.sport)
		return 0;
	if (!receiving(rpc) || rpc->state != HOMA_RPC_INCOMING || rpc->in.length < 0 ||
	    (uint32_t)rpc->in.length != pkt->u.data.message_length ||
	    rpc->in.num_bpages == 0 || (rpc->flags & RPC_BUFS_OWNED_BY_APP))
		return 0;
	end = off + (uint32_t)pkt->payload_len;
	if (end < off || end > (uint32_t)rpc->in.length ||
	    ((end - 1) >> HOMA_BPAGE_SHIFT) >= rpc->in.num_bpages ||
	    !homa_msgin_all_missing(&rpc->in.gaps, off, end))
		return 0;
	out->hdr_len = HOMA_DATA_HDR_LEN;
	out->payload_len = pkt->payload_len;
	while (off < end) {
		uint32_t in_page = HOMA_BPAGE_SIZE - (off & (HOMA_BPAGE_SIZE - 1));
		uint32_t chunk = end - off < in_page ? end - off : in_page;

		if (n == HOMA_PLACE_MAX_SPANS)
			return 0;
		out->spans[n].base = msg_byte(rpc, off);
		out->spans[n].len = chunk;
		n++;
		off += chunk;
	}
	out->num_spans = n;
	return (int)n;
}
