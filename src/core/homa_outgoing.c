/*
 * homa_outgoing.c - the sending half: message copy, segmentation, DATA
 * transmission and every control packet (reference sections 6.1, 6.2, 6.5).
 *
 * A message is copied once into engine memory and never packetised ahead of
 * time: a DATA packet is a 56-byte header built on the stack at send time
 * plus a pointer into the message (the send callback's payload), so there is
 * no per-packet state to free. Segments are max_packet_bytes - 56 data bytes,
 * counted from 0 in the unscheduled part and from `unscheduled` after it, so
 * a boundary always falls exactly at the unscheduled limit (5.1) and a
 * retransmission of any range reproduces the original segments.
 */
#include "homa_internal.h"

#include "homa_pacer.h"
#include "homa_peer.h"

/* The tx counter of a packet type. */
static uint64_t *tx_counter(struct homa_stats *st, uint8_t type)
{
	uint64_t *const counters[HOMA_PKT_TYPE_COUNT] = {
	    &st->tx_data,	 &st->tx_grant,	   &st->tx_resend,
	    &st->tx_rpc_unknown, &st->tx_busy,	   &st->tx_cutoffs,
	    &st->tx_freeze,	 &st->tx_need_ack, &st->tx_ack,
	};

	return counters[type - HOMA_PKT_TYPE_MIN];
}

int homa_control_prio(const struct homa_engine *e)
{
	return (int)e->s.num_priorities - 1;
}

static uint32_t max_seg(const struct homa_engine *e)
{
	return e->s.max_packet_bytes - HOMA_DATA_HDR_LEN;
}

int homa_outgoing_copy(struct homa_rpc *rpc, const struct homa_iov *iov, size_t iovcnt)
{
	struct homa_sock *s = rpc->sock;
	struct homa_engine *e = s->e;
	struct homa_msgout *m = &rpc->out;
	size_t total = 0, i;
	uint8_t *p;

	for (i = 0; i < iovcnt; i++)
		total += iov[i].len;
	if (rpc->flags & RPC_OUT_BORROWED) {
		/* Sent and retransmitted from the caller's bytes, never written. */
		m->buf = (uint8_t *)(uintptr_t)iov[0].base;
	} else {
		m->buf = homa_mem_alloc(&e->mem, total);
		if (m->buf == NULL)
			return -ENOMEM;
		for (i = 0, p = m->buf; i < iovcnt; p += iov[i].len, i++)
			if (iov[i].len != 0)
				memcpy(p, iov[i].base, iov[i].len);
	}
	m->length = (int32_t)total;
	m->unscheduled =
	    total < e->s.unsched_bytes ? (uint32_t)total : e->s.unsched_bytes;
	m->granted = m->unscheduled;
	m->next_xmit = 0;
	m->sched_prio = 0;
	m->seq = ++e->msg_seq;
	s->wmem += total;
	return 0;
}

uint32_t homa_outgoing_seg_len(const struct homa_rpc *rpc, uint32_t offset)
{
	const struct homa_msgout *m = &rpc->out;
	uint32_t limit = offset < m->unscheduled ? m->unscheduled : (uint32_t)m->length;
	uint32_t end = offset + max_seg(rpc->sock->e);

	return (end < limit ? end : limit) - offset;
}

/* First byte of the segment that holds offset. */
static uint32_t seg_start(const struct homa_rpc *rpc, uint32_t offset)
{
	uint32_t mss = max_seg(rpc->sock->e), base = 0;

	if (offset >= rpc->out.unscheduled)
		base = rpc->out.unscheduled;
	return base + (offset - base) / mss * mss;
}

int homa_unsched_prio(const struct homa_engine *e, const struct homa_peer *peer,
		      uint32_t length)
{
	int np = (int)e->s.num_priorities;

	if (np <= 1)
		return 0;
	if (peer->cutoff_version == 0)
		return np - 2;
	return homa_prio_unsched_level(peer->cutoffs, e->s.num_priorities, length);
}

/*
 * Lowest level at which a DATA packet to peer may carry a cached ack: the
 * level of a message short enough to be sent all unscheduled. Scheduled
 * packets and the unscheduled head of a long message can wait in a switch's
 * low-priority queue for tens of milliseconds or be dropped there, and the ack
 * with them, which costs the server a NEED_ACK and us an ACK. With one level
 * every packet qualifies.
 */
int homa_ack_carrier_prio(const struct homa_engine *e, const struct homa_peer *peer)
{
	return homa_unsched_prio(e, peer, e->s.unsched_bytes);
}

static int data_prio(const struct homa_rpc *rpc, uint32_t offset)
{
	const struct homa_engine *e = rpc->sock->e;
	int np = (int)e->s.num_priorities;

	if (np <= 1)
		return 0;
	if (offset < rpc->out.unscheduled)
		return homa_unsched_prio(e, rpc->peer, (uint32_t)rpc->out.length);
	return rpc->out.sched_prio < np ? rpc->out.sched_prio : np - 1;
}

/* Hands one encoded packet to the embedder, counted and charged to the pacer. */
static void transmit(struct homa_engine *e, struct homa_sock *s,
		     const struct homa_endpoint *dst, uint8_t type, int priority,
		     const uint8_t *hdr, size_t hdr_len, const uint8_t *payload,
		     size_t payload_len)
{
	if (e->freeing)
		return;
	(*tx_counter(&e->stats, type))++;
	e->stats.tx_wire_bytes += hdr_len + payload_len;
	homa_pacer_charge(e, hdr_len + payload_len, e->now);
	e->cb.send(e->user, s, dst, priority, hdr, hdr_len, payload, payload_len);
}

void homa_outgoing_send_data(struct homa_rpc *rpc, uint32_t offset, uint32_t len,
			     int priority, int retransmit, uint32_t incoming,
			     uint64_t now)
{
	struct homa_engine *e = rpc->sock->e;
	struct homa_endpoint dst = {rpc->peer->addr, rpc->dport};
	struct homa_packet pkt;
	uint8_t hdr[HOMA_MAX_HDR_LEN];
	size_t n;

	(void)now;
	homa_wire_init(&pkt, HOMA_PKT_DATA, rpc->sock->port, rpc->dport, rpc->id);
	pkt.common.sequence = offset;
	pkt.u.data.message_length = (uint32_t)rpc->out.length;
	pkt.u.data.incoming = incoming;
	if (priority < 0)
		priority = data_prio(rpc, offset);
	if (priority >= homa_ack_carrier_prio(e, rpc->peer)) {
		homa_peer_ack_pop(rpc->peer, &pkt.u.data.ack);
		if (pkt.u.data.ack.client_id != 0)
			e->stats.acks_piggybacked++;
	}
	pkt.u.data.cutoff_version = rpc->peer->cutoff_version;
	pkt.u.data.retransmit = (uint8_t)retransmit;
	pkt.u.data.seg_offset = retransmit ? offset : HOMA_SEG_OFFSET_IN_SEQUENCE;
	n = homa_wire_encode(&pkt, hdr, sizeof(hdr));
	e->stats.tx_data_bytes += len;
	if (retransmit)
		e->stats.tx_resent_packets++;
	transmit(e, rpc->sock, &dst, HOMA_PKT_DATA, priority, hdr, n,
		 rpc->out.buf + offset, len);
}

static int can_send(const struct homa_msgout *m)
{
	return m->buf != NULL && m->next_xmit < m->granted &&
	       m->next_xmit < (uint32_t)m->length;
}

void homa_outgoing_xmit(struct homa_rpc *rpc, uint64_t now)
{
	struct homa_engine *e = rpc->sock->e;
	struct homa_msgout *m = &rpc->out;

	if (homa_list_linked(&rpc->throttle_link))
		return;
	while (can_send(m)) {
		uint32_t off = m->next_xmit, len = homa_outgoing_seg_len(rpc, off);

		if ((uint32_t)m->length - off <= e->s.defer_min_bytes) {
			e->stats.pacer_bypass++;
		} else if (!homa_list_empty(&e->pacer.throttled) ||
			   !homa_pacer_room(e, now)) {
			homa_pacer_throttle(e, rpc);
			homa_pacer_pump(e, now);
			return;
		}
		m->next_xmit += len;
		homa_outgoing_send_data(rpc, off, len, -1, 0, m->unscheduled, now);
	}
}

/* Retransmits every segment overlapping [start, end) (already sent only). */
static void retransmit_range(struct homa_rpc *rpc, uint32_t start, uint32_t end, int prio,
			     uint64_t now)
{
	uint32_t off;

	if (end > rpc->out.next_xmit)
		end = rpc->out.next_xmit;
	for (off = seg_start(rpc, start); off < end;) {
		uint32_t len = homa_outgoing_seg_len(rpc, off);

		homa_outgoing_send_data(rpc, off, len, prio, 1, end, now);
		off += len;
	}
}

/*
 * RESEND handling at the message sender (4.4). Returns 1 when nothing in
 * the range had been sent yet, so the caller answers BUSY.
 */
int homa_outgoing_handle_resend(struct homa_rpc *rpc, uint32_t offset, uint32_t length,
				int prio, uint64_t now)
{
	struct homa_msgout *m = &rpc->out;
	uint32_t len = (uint32_t)m->length;
	uint64_t end =
	    length == HOMA_RESEND_ALL ? m->next_xmit : (uint64_t)offset + length;
	int unsent = offset >= m->next_xmit;

	if (end > len)
		end = len;
	if (offset < end)
		retransmit_range(rpc, offset, (uint32_t)end, prio, now);
	if (end > m->granted) {
		/* The receiver wants bytes we think it never granted: a GRANT was lost.
		 */
		m->granted = (uint32_t)end;
		homa_outgoing_xmit(rpc, now);
	}
	return unsent;
}

void homa_outgoing_control(struct homa_engine *e, struct homa_sock *s,
			   const struct homa_endpoint *dst, struct homa_packet *pkt)
{
	uint8_t hdr[HOMA_MAX_HDR_LEN];
	size_t n = homa_wire_encode(pkt, hdr, sizeof(hdr));

	if (n == 0)
		return;
	transmit(e, s, dst, pkt->common.type, homa_control_prio(e), hdr, n, NULL, 0);
}

void homa_outgoing_simple(struct homa_rpc *rpc, uint8_t type)
{
	struct homa_endpoint dst = {rpc->peer->addr, rpc->dport};
	struct homa_packet pkt;

	homa_wire_init(&pkt, type, rpc->sock->port, rpc->dport, rpc->id);
	homa_outgoing_control(rpc->sock->e, rpc->sock, &dst, &pkt);
}

void homa_outgoing_resend(struct homa_rpc *rpc, uint32_t offset, uint32_t length,
			  int priority)
{
	struct homa_endpoint dst = {rpc->peer->addr, rpc->dport};
	struct homa_packet pkt;

	homa_wire_init(&pkt, HOMA_PKT_RESEND, rpc->sock->port, rpc->dport, rpc->id);
	pkt.u.resend.offset = offset;
	pkt.u.resend.length = length;
	pkt.u.resend.priority = (uint8_t)(priority < 0 ? 0 : priority);
	homa_outgoing_control(rpc->sock->e, rpc->sock, &dst, &pkt);
}

/*
 * An ACK naming id (when not 0) in its header and carrying the peer's
 * cached acks. With id 0 the newest cached ack goes in the header.
 */
void homa_outgoing_ack(struct homa_engine *e, struct homa_sock *s, struct homa_peer *peer,
		       uint16_t sport, uint16_t dport, uint64_t id)
{
	struct homa_endpoint dst = {peer->addr, dport};
	struct homa_packet pkt;
	struct homa_ack first;

	if (id == 0) {
		homa_peer_ack_pop(peer, &first);
		if (first.client_id == 0)
			return;
		id = first.client_id;
		dst.port = first.server_port;
	}
	homa_wire_init(&pkt, HOMA_PKT_ACK, sport, dst.port, id);
	while (peer->num_acks != 0 && pkt.u.ack.num_acks < HOMA_MAX_ACKS_PER_PKT)
		homa_peer_ack_pop(peer, &pkt.u.ack.acks[pkt.u.ack.num_acks++]);
	homa_outgoing_control(e, s, &dst, &pkt);
}
