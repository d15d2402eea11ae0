/*
 * homa_timer.c - the once-per-tick work: loss detection, RESENDs, timeouts,
 * NEED_ACK, tombstone expiry, FIFO grants and the cutoff recomputation
 * (reference sections 4.5, 7, 8).
 *
 * Invariant: an RPC that is waiting for its peer counts silent_ticks, which
 * any sign of life (DATA, GRANT, BUSY; RESEND at a server) resets. An RPC
 * that is waiting for nobody but us - in service, ready for the application,
 * granted bytes still to send, everything granted already received - does
 * not count. The rules of section 7 then apply: from resend_ticks on, every
 * resend_interval ticks, a RESEND per missing range (or RESEND(0, ALL) when
 * nothing arrived); at timeout_ticks a client RPC fails with ETIMEDOUT and a
 * server RPC is reclaimed.
 *
 * Deliberate differences from the reference:
 *   - An ack cached for homa_timer_ack_hold_ticks() (half of
 *     request_ack_ticks, at least 1) without a DATA packet to carry it is
 *     sent in an ACK packet (up to 6 ids), so NEED_ACK is rare under any
 *     traffic pattern; until then it waits for a high-priority DATA packet to
 *     the peer (see homa_peer.c), which under load nearly always comes.
 *   - NEED_ACK (4.5) is sent request_ack_ticks after the response was fully
 *     sent and then every resend_interval ticks, not every tick, and at most
 *     one per peer per tick (the ACK answering it carries more); after
 *     need_ack_timeout_ticks without an answer the server reclaims the RPC
 *     and keeps a tombstone (fixes 12.5). A RESEND or BUSY from the client
 *     restarts the count.
 *   - A server RPC waiting for grants for its response counts silence like
 *     any other: every resend_interval it probes the client with BUSY, which
 *     a live client answers with a GRANT repeating its current grant (a
 *     client that forgot the RPC answers RPC_UNKNOWN); after timeout_ticks
 *     without an answer the client is presumed dead and the RPC reclaimed.
 *     The reference never times it out, so a dead client pins it forever.
 *   - RPCs stalled for receive buffers time out too (fix 12.8; see
 *     homa_incoming.c).
 *   - Probes are rate-limited per peer: at most RESENDS_PER_PEER_TICK RPCs
 *     send RESEND/BUSY to one peer per tick; the others stay due and go on
 *     later ticks. With thousands of RPCs queued at a slow server the
 *     reference sends one RESEND (and gets one BUSY) per RPC every
 *     resend_interval, which eats the CPU that should serve them. A client
 *     RPC waiting for its response does not time out while its server is
 *     heard from (any packet of any RPC within resend_interval ticks); its
 *     rate-limited probes still find out if the server forgot it.
 *   - When no RPC is alive the tick stops: homa_engine_next_timeout() then
 *     reports only tombstone expiry and the pacer, so an idle simulated host
 *     costs no events. The size-mix recomputation runs on the first tick
 *     after prio_interval_ns has passed.
 */
#include "homa_internal.h"

#include "homa_peer.h"
#include "homa_rpc.h"

void homa_timer_wake(struct homa_engine *e, uint64_t now)
{
	if (!homa_engine_alive(e))
		e->next_tick = now + e->s.tick_ns;
}

/*
 * Server RPC whose response is all sent: NEED_ACK, then give up. At most one
 * NEED_ACK per peer per tick: the client's ACK carries its other cached acks,
 * and a burst of NEED_ACKs each tick would delay everyone's DATA.
 */
static void await_ack(struct homa_rpc *rpc, uint64_t now)
{
	struct homa_engine *e = rpc->sock->e;
	const struct homa_settings *s = &e->s;

	rpc->ack_wait_ticks++;
	if (rpc->ack_wait_ticks >= s->need_ack_timeout_ticks) {
		e->stats.need_ack_giveups++;
		homa_rpc_end(rpc, now);
		return;
	}
	if (rpc->need_ack_due == 0)
		rpc->need_ack_due = s->request_ack_ticks;
	if (rpc->ack_wait_ticks < rpc->need_ack_due ||
	    rpc->peer->need_ack_tick == e->tick_count + 1)
		return;
	rpc->peer->need_ack_tick = e->tick_count + 1;
	rpc->need_ack_due = rpc->ack_wait_ticks + s->resend_interval;
	homa_outgoing_simple(rpc, HOMA_PKT_NEED_ACK);
}

static void timeout(struct homa_rpc *rpc, uint64_t now)
{
	struct homa_engine *e = rpc->sock->e;

	e->stats.rpc_timeouts++;
	if (homa_rpc_is_client(rpc)) {
		e->stats.client_rpc_timeouts++;
		homa_rpc_fail(rpc, (rpc->flags & RPC_BUF_STALL) ? ENOMEM : ETIMEDOUT,
			      now);
	} else {
		e->stats.server_rpc_timeouts++;
		homa_rpc_end(rpc, now);
	}
}

/* 1 if rpc is waiting on us, not on its peer, so silence means nothing. */
static int our_turn(const struct homa_rpc *rpc)
{
	const struct homa_msgout *m = &rpc->out;
	struct homa_gap first;

	if (rpc->state == HOMA_RPC_INCOMING) {
		if (rpc->flags & RPC_BUF_STALL || rpc->in.length < 0)
			return 0;
		return homa_msgin_missing(&rpc->in.gaps, rpc->in.grant.granted, &first,
					  1) == 0;
	}
	return m->buf != NULL && m->next_xmit < m->granted &&
	       m->next_xmit < (uint32_t)m->length;
}

/* RPCs per peer per tick that may send RESEND or BUSY probes. */
#define RESENDS_PER_PEER_TICK 8

/* Takes one unit of peer's probe budget for this tick; 0 if it is spent. */
static int resend_budget(struct homa_engine *e, struct homa_peer *peer)
{
	if (peer->resend_tick != e->tick_count + 1) {
		peer->resend_tick = e->tick_count + 1;
		peer->resend_count = 0;
	}
	if (peer->resend_count >= RESENDS_PER_PEER_TICK)
		return 0;
	peer->resend_count++;
	return 1;
}

/* Restarts after which a live server is presumed to refuse the request. */
#define MAX_RESTARTS_WHILE_ALIVE 3

/*
 * A client waiting for its response from a peer that we heard from lately
 * (BUSY, DATA, GRANT, ... for any RPC) is queued behind other work there, not
 * lost: its own probes (rate-limited) find out if the server forgot it. A
 * request the live server keeps forgetting (restarted over and over, e.g.
 * dropped as a tombstone) times out as usual.
 */
static int peer_alive(const struct homa_engine *e, const struct homa_rpc *rpc)
{
	return homa_rpc_is_client(rpc) && rpc->state == HOMA_RPC_OUTGOING &&
	       rpc->restarts < MAX_RESTARTS_WHILE_ALIVE &&
	       e->tick_count - rpc->peer->heard_tick < e->s.resend_interval;
}

static void timer_rpc(struct homa_rpc *rpc, uint64_t now)
{
	struct homa_engine *e = rpc->sock->e;
	const struct homa_settings *s = &e->s;

	if (rpc->state == HOMA_RPC_IN_SERVICE || rpc->error != 0 ||
	    (rpc->flags & RPC_READY)) {
		rpc->silent_ticks = 0;
		return;
	}
	rpc->silent_ticks++;
	if (!homa_rpc_is_client(rpc) && rpc->state == HOMA_RPC_OUTGOING &&
	    rpc->out.next_xmit >= (uint32_t)rpc->out.length) {
		await_ack(rpc, now);
		return;
	}
	if (our_turn(rpc)) {
		rpc->silent_ticks = 0;
		return;
	}
	if (rpc->silent_ticks >= s->timeout_ticks && !peer_alive(e, rpc)) {
		timeout(rpc, now);
		return;
	}
	if (rpc->silent_ticks < s->resend_ticks || (rpc->flags & RPC_BUF_STALL))
		return;
	if (!rpc->resend_pending &&
	    (rpc->silent_ticks - s->resend_ticks) % s->resend_interval != 0)
		return;
	rpc->resend_pending = !resend_budget(e, rpc->peer);
	if (rpc->resend_pending)
		return;
	if (!homa_rpc_is_client(rpc) && rpc->state == HOMA_RPC_OUTGOING)
		homa_outgoing_simple(rpc, HOMA_PKT_BUSY); /* probe: see handle_busy */
	else
		homa_incoming_request_resend(rpc, homa_control_prio(e), now);
}

static void timer_sock(struct homa_sock *sock, uint64_t now)
{
	struct homa_link *l = sock->rpcs.next;

	while (l != &sock->rpcs) {
		struct homa_rpc *rpc = homa_container_of(l, struct homa_rpc, sock_link);

		/* Ending rpc unlinks it; nothing else on this list can go. */
		l = l->next;
		timer_rpc(rpc, now);
	}
}

uint32_t homa_timer_ack_hold_ticks(const struct homa_settings *s)
{
	return s->request_ack_ticks / 2 > 1 ? s->request_ack_ticks / 2 : 1;
}

void homa_timer_recompute_cutoffs(struct homa_engine *e, uint64_t now)
{
	uint32_t c[HOMA_MAX_PRIORITIES];

	if (!e->s.prio_auto || now < e->next_prio_ns)
		return;
	e->next_prio_ns = now + e->s.prio_interval_ns;
	if (homa_prio_compute(&e->hist, e->s.num_priorities, e->s.unsched_bytes,
			      e->s.prio_min_messages, c) != 0)
		return;
	homa_prio_hist_reset(&e->hist);
	c[0] = 0x7fffffff;
	if (memcmp(c, e->cutoffs, sizeof(c)) == 0)
		return;
	memcpy(e->cutoffs, c, sizeof(c));
	e->cutoff_version++;
	if (e->cutoff_version == 0)
		e->cutoff_version = 1;
	e->max_sched_prio = homa_prio_max_sched(c, e->s.num_priorities);
	homa_grant_set_max_sched_prio(&e->grant, e->max_sched_prio);
	e->stats.cutoffs_recomputed++;
}

uint64_t homa_timer_next_recompute(const struct homa_engine *e)
{
	if (!e->s.prio_auto || e->s.num_priorities <= 1 ||
	    e->hist.messages < e->s.prio_min_messages)
		return UINT64_MAX;
	return e->next_prio_ns;
}

void homa_timer_tick(struct homa_engine *e, uint64_t now)
{
	struct homa_link *l = e->socks.next;

	e->tick_count++;
	while (l != &e->socks) {
		struct homa_sock *s = homa_container_of(l, struct homa_sock, link);

		l = l->next;
		timer_sock(s, now);
	}
	homa_peer_flush_acks(e, NULL, homa_timer_ack_hold_ticks(&e->s));
	homa_grant_tick(&e->grant, now);
	homa_peer_tomb_expire(e, now);
}
