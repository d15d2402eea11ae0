/*
 * homa_pacer.c - keeps the NIC queue short so that grants and short messages
 * are not stuck behind long messages (reference sections 6.2 and 6.3).
 *
 * Invariant: link_idle_ns (plus a picosecond remainder, so rounding does not
 * add up) is our estimate of when the last byte handed to the embedder will
 * have left the uplink. A DATA packet of a long message is sent only
 * while now + max_nic_backlog_ns >= link_idle_ns, i.e. while the estimated backlog is at
 * most max_nic_backlog_ns; otherwise its RPC waits on the throttled list, kept sorted by
 * bytes left to send (SRPT; ties keep arrival order). homa_engine_next_timeout() reports
 * when the backlog will have drained enough, and homa_pacer_pump() (run from
 * handle_timeout and at the end of every input) sends one packet at a time from the list
 * head, except that pacer_fifo_fraction permil of the packets go to the message queued
 * first (lowest sequence), so a long message is never starved.
 *
 * The cost model. Every packet is charged
 *     (Homa header + payload + HOMA_PACER_PKT_OVERHEAD) * 8000 / link_mbps ns
 * with a fixed overhead of 70 bytes: 42 for Ethernet (header with VLAN tag,
 * preamble, CRC, inter-frame gap; the reference's HOMA_ETH_OVERHEAD), 20 for
 * an IPv4 header and 8 for the UDP header of our default carrier. The
 * reference adds the IP header only and slows the link by 1% instead; we keep
 * the estimate exact and let max_nic_backlog_ns absorb the error.
 *
 * Deliberate differences: there is no pacer thread (the embedder calls us
 * back at the reported time); messages with at most defer_min_bytes left
 * bypass the estimate but are still charged; retransmissions and control
 * packets are never deferred but always charged. A message that the list
 * holds is never sent around the list: a newly granted RPC joins the list
 * when anything is throttled, so the SRPT order is the only order.
 */
#include "homa_pacer.h"

void homa_pacer_init(struct homa_engine *e)
{
	memset(&e->pacer, 0, sizeof(e->pacer));
	homa_list_init(&e->pacer.throttled);
}

void homa_pacer_charge(struct homa_engine *e, size_t bytes, uint64_t now)
{
	uint64_t wire = (uint64_t)bytes + HOMA_PACER_PKT_OVERHEAD;
	uint64_t cost_ps = wire * 8000000u / e->s.link_mbps;

	struct homa_pacer *p = &e->pacer;

	if (p->link_idle_ns < now) {
		p->link_idle_ns = now;
		p->link_idle_frac_ps = 0;
	}
	cost_ps += p->link_idle_frac_ps;
	p->link_idle_ns += cost_ps / 1000;
	p->link_idle_frac_ps = (uint32_t)(cost_ps % 1000);
}

int homa_pacer_room(const struct homa_engine *e, uint64_t now)
{
	return now + e->s.max_nic_backlog_ns >= e->pacer.link_idle_ns;
}

static uint32_t bytes_left(const struct homa_rpc *rpc)
{
	return (uint32_t)rpc->out.length - rpc->out.next_xmit;
}

void homa_pacer_throttle(struct homa_engine *e, struct homa_rpc *rpc)
{
	struct homa_link *l;
	uint32_t left = bytes_left(rpc);

	if (homa_list_linked(&rpc->throttle_link))
		return;
	for (l = e->pacer.throttled.next; l != &e->pacer.throttled; l = l->next) {
		struct homa_rpc *o = homa_container_of(l, struct homa_rpc, throttle_link);

		if (bytes_left(o) > left)
			break;
	}
	homa_list_insert_before(l, &rpc->throttle_link);
	e->pacer.num_throttled++;
}

void homa_pacer_remove(struct homa_engine *e, struct homa_rpc *rpc)
{
	if (!homa_list_linked(&rpc->throttle_link))
		return;
	homa_list_remove(&rpc->throttle_link);
	e->pacer.num_throttled--;
}

/* The throttled RPC whose message was queued first. */
static struct homa_rpc *oldest(struct homa_engine *e)
{
	struct homa_rpc *best = NULL;
	struct homa_link *l;

	for (l = e->pacer.throttled.next; l != &e->pacer.throttled; l = l->next) {
		struct homa_rpc *o = homa_container_of(l, struct homa_rpc, throttle_link);

		if (best == NULL || o->out.seq < best->out.seq)
			best = o;
	}
	return best;
}

static struct homa_rpc *pick(struct homa_engine *e)
{
	struct homa_pacer *p = &e->pacer;

	p->fifo_credit -= (int32_t)e->s.pacer_fifo_fraction;
	if (p->fifo_credit <= 0 && e->s.pacer_fifo_fraction != 0) {
		p->fifo_credit += 1000;
		return oldest(e);
	}
	return homa_container_of(p->throttled.next, struct homa_rpc, throttle_link);
}

/* Sends rpc's next packet; drops it from the list once it cannot send more. */
static void send_one(struct homa_engine *e, struct homa_rpc *rpc, uint64_t now)
{
	struct homa_msgout *m = &rpc->out;

	if (m->buf != NULL && m->next_xmit < m->granted &&
	    m->next_xmit < (uint32_t)m->length) {
		uint32_t len = homa_outgoing_seg_len(rpc, m->next_xmit);
		uint32_t off = m->next_xmit;

		m->next_xmit += len;
		e->stats.pacer_deferred++;
		homa_outgoing_send_data(rpc, off, len, -1, 0, m->unscheduled, now);
	}
	if (m->buf == NULL || m->next_xmit >= m->granted ||
	    m->next_xmit >= (uint32_t)m->length)
		homa_pacer_remove(e, rpc);
}

void homa_pacer_pump(struct homa_engine *e, uint64_t now)
{
	while (!homa_list_empty(&e->pacer.throttled) && homa_pacer_room(e, now))
		send_one(e, pick(e), now);
}

uint64_t homa_pacer_next(const struct homa_engine *e)
{
	uint64_t idle_ns = e->pacer.link_idle_ns;

	if (homa_list_empty(&e->pacer.throttled))
		return UINT64_MAX;
	if (idle_ns <= e->s.max_nic_backlog_ns)
		return 0;
	return idle_ns - e->s.max_nic_backlog_ns;
}
