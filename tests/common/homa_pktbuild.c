/*
 * homa_pktbuild.c - the test packet builder; see homa_pktbuild.h.
 */
#include "homa_pktbuild.h"

#include <string.h>

static const uint32_t default_cutoffs[HOMA_MAX_PRIORITIES] = {0,       0,     0,    0,
							      1000000, 15000, 2800, 200};

void hpb_init(struct homa_packet *pkt, uint8_t type, uint16_t sport, uint16_t dport,
	      uint64_t sender_id)
{
	homa_wire_init(pkt, type, sport, dport, sender_id);
}

void hpb_data(struct homa_packet *pkt, uint16_t sport, uint16_t dport, uint64_t sender_id,
	      uint32_t message_length, uint32_t offset, uint32_t incoming)
{
	hpb_init(pkt, HOMA_PKT_DATA, sport, dport, sender_id);
	pkt->common.sequence = offset;
	pkt->u.data.message_length = message_length;
	pkt->u.data.incoming = incoming;
	pkt->u.data.seg_offset = HOMA_SEG_OFFSET_IN_SEQUENCE;
	pkt->u.data.offset = offset;
}

void hpb_grant(struct homa_packet *pkt, uint16_t sport, uint16_t dport,
	       uint64_t sender_id, uint32_t offset, uint8_t priority)
{
	hpb_init(pkt, HOMA_PKT_GRANT, sport, dport, sender_id);
	pkt->u.grant.offset = offset;
	pkt->u.grant.priority = priority;
}

void hpb_resend(struct homa_packet *pkt, uint16_t sport, uint16_t dport,
		uint64_t sender_id, uint32_t offset, uint32_t length, uint8_t priority)
{
	hpb_init(pkt, HOMA_PKT_RESEND, sport, dport, sender_id);
	pkt->u.resend.offset = offset;
	pkt->u.resend.length = length;
	pkt->u.resend.priority = priority;
}

void hpb_rpc_unknown(struct homa_packet *pkt, uint16_t sport, uint16_t dport,
		     uint64_t sender_id)
{
	hpb_init(pkt, HOMA_PKT_RPC_UNKNOWN, sport, dport, sender_id);
}

void hpb_busy(struct homa_packet *pkt, uint16_t sport, uint16_t dport, uint64_t sender_id)
{
	hpb_init(pkt, HOMA_PKT_BUSY, sport, dport, sender_id);
}

void hpb_freeze(struct homa_packet *pkt, uint16_t sport, uint16_t dport,
		uint64_t sender_id)
{
	hpb_init(pkt, HOMA_PKT_FREEZE, sport, dport, sender_id);
}

void hpb_need_ack(struct homa_packet *pkt, uint16_t sport, uint16_t dport,
		  uint64_t sender_id)
{
	hpb_init(pkt, HOMA_PKT_NEED_ACK, sport, dport, sender_id);
}

void hpb_cutoffs(struct homa_packet *pkt, uint16_t sport, uint16_t dport,
		 uint64_t sender_id, const uint32_t *cutoffs, uint16_t version)
{
	hpb_init(pkt, HOMA_PKT_CUTOFFS, sport, dport, sender_id);
	memcpy(pkt->u.cutoffs.unsched_cutoffs, cutoffs ? cutoffs : default_cutoffs,
	       sizeof(pkt->u.cutoffs.unsched_cutoffs));
	pkt->u.cutoffs.cutoff_version = version;
}

void hpb_ack(struct homa_packet *pkt, uint16_t sport, uint16_t dport, uint64_t sender_id,
	     const struct homa_ack *acks, uint16_t num_acks)
{
	uint16_t n = num_acks < HOMA_MAX_ACKS_PER_PKT ? num_acks : HOMA_MAX_ACKS_PER_PKT;

	hpb_init(pkt, HOMA_PKT_ACK, sport, dport, sender_id);
	pkt->u.ack.num_acks = num_acks;
	for (uint16_t i = 0; acks != NULL && i < n; i++)
		pkt->u.ack.acks[i] = acks[i];
}

/* Unknown types have no encoder: write a common header by hand. */
static size_t encode_header(const struct homa_packet *pkt, uint8_t *out, size_t cap)
{
	struct homa_packet tmp;
	size_t n;

	if (homa_wire_header_len(pkt->common.type) != 0)
		return homa_wire_encode(pkt, out, cap);
	tmp = *pkt;
	tmp.common.type = HOMA_PKT_BUSY;
	n = homa_wire_encode(&tmp, out, cap);
	if (n != 0)
		out[HPB_OFF_TYPE] = pkt->common.type;
	return n;
}

size_t hpb_encode(const struct homa_packet *pkt, const uint8_t *payload,
		  size_t payload_len, uint8_t *out, size_t cap)
{
	size_t hdr = encode_header(pkt, out, cap);

	if (hdr == 0 || cap - hdr < payload_len)
		return 0;
	if (payload != NULL)
		memcpy(out + hdr, payload, payload_len);
	else if (pkt->common.type == HOMA_PKT_DATA)
		hpb_pattern_fill(out + hdr, pkt->u.data.offset, payload_len);
	else
		memset(out + hdr, 0, payload_len);
	return hdr + payload_len;
}

size_t hpb_build_data(uint8_t *out, size_t cap, uint16_t sport, uint16_t dport,
		      uint64_t sender_id, uint32_t message_length, uint32_t offset,
		      uint32_t len)
{
	struct homa_packet pkt;

	hpb_data(&pkt, sport, dport, sender_id, message_length, offset, message_length);
	return hpb_encode(&pkt, NULL, len, out, cap);
}

/* Mixes the offset so that shifted or swapped segments are caught. */
uint8_t hpb_pattern_byte(uint32_t off)
{
	uint32_t x = off * 2654435761u;

	return (uint8_t)(x >> 24 ^ off);
}

void hpb_pattern_fill(uint8_t *buf, uint32_t offset, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = hpb_pattern_byte(offset + (uint32_t)i);
}

size_t hpb_pattern_check(const uint8_t *buf, uint32_t offset, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (buf[i] != hpb_pattern_byte(offset + (uint32_t)i))
			return i;
	}
	return len;
}

void hpb_poke_u8(uint8_t *buf, size_t off, uint8_t v)
{
	buf[off] = v;
}

void hpb_poke_u16(uint8_t *buf, size_t off, uint16_t v)
{
	homa_put_u16(buf + off, v);
}

void hpb_poke_u32(uint8_t *buf, size_t off, uint32_t v)
{
	homa_put_u32(buf + off, v);
}

void hpb_poke_u64(uint8_t *buf, size_t off, uint64_t v)
{
	homa_put_u64(buf + off, v);
}
