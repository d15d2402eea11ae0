/*
 * homa_pktbuild.h - a packet builder for tests ("hpb").
 *
 * Builds Homa packets as the reference's bytes, well-formed or hostile:
 *
 *     struct homa_packet pkt;
 *     uint8_t buf[2048];
 *
 *     hpb_data(&pkt, 32768, 4000, 2, 100, 0, 100);   // whole 100-byte request
 *     size_t n = hpb_encode(&pkt, NULL, 100, buf, sizeof(buf)); // 56 + 100 bytes
 *     homa_engine_input(engine, ..., buf, n, ...);
 *
 * The builders only fill a struct homa_packet (include/homa/homa_wire.h); the
 * fields are plain integers and neither the builders nor hpb_encode validate
 * anything, so a hostile test sets any raw value it likes after building:
 *
 *     hpb_grant(&pkt, 4000, 32768, 3, 5000, 0);
 *     pkt.u.grant.priority = 200;                   // invalid on purpose
 *     pkt.common.type = 0x42;                        // even an unknown type
 *
 * For bytes the struct cannot express (the DATA pad, the unused ack[3] bytes of
 * the common header, a truncated header), encode and then poke the buffer
 * with hpb_poke_u8/u16/u32 at the HPB_OFF_* offsets, or pass a shorter length
 * to the code under test.
 *
 * All builders start from hpb_init, i.e. homa_wire_init: the reference full
 * build's doff (0xe0 DATA, 0x50 control), flags 0x06, urgent 0xb97d, window
 * and checksum 0, sequence 0.
 */
#ifndef HOMA_PKTBUILD_H
#define HOMA_PKTBUILD_H

#include <stddef.h>
#include <stdint.h>

#include "homa/homa_wire.h"

/* Byte offsets of every wire field (reference section 2). */
enum hpb_offset {
	HPB_OFF_SPORT = 0,
	HPB_OFF_DPORT = 2,
	HPB_OFF_SEQUENCE = 4,
	HPB_OFF_ACK3 = 8, /* 3 unused bytes */
	HPB_OFF_TYPE = 11,
	HPB_OFF_DOFF = 12,
	HPB_OFF_FLAGS = 13,
	HPB_OFF_WINDOW = 14,
	HPB_OFF_CHECKSUM = 16,
	HPB_OFF_URGENT = 18,
	HPB_OFF_SENDER_ID = 20,
	HPB_OFF_DATA_MESSAGE_LENGTH = 28,
	HPB_OFF_DATA_INCOMING = 32,
	HPB_OFF_DATA_ACK_CLIENT_ID = 36,
	HPB_OFF_DATA_ACK_SERVER_PORT = 44,
	HPB_OFF_DATA_CUTOFF_VERSION = 46,
	HPB_OFF_DATA_RETRANSMIT = 48,
	HPB_OFF_DATA_PAD = 49, /* 3 bytes */
	HPB_OFF_DATA_SEG_OFFSET = 52,
	HPB_OFF_GRANT_OFFSET = 28,
	HPB_OFF_GRANT_PRIORITY = 32,
	HPB_OFF_RESEND_OFFSET = 28,
	HPB_OFF_RESEND_LENGTH = 32,
	HPB_OFF_RESEND_PRIORITY = 36,
	HPB_OFF_CUTOFFS_TABLE = 28, /* 8 x u32 */
	HPB_OFF_CUTOFFS_VERSION = 60,
	HPB_OFF_ACK_NUM_ACKS = 28,
	HPB_OFF_ACK_SLOTS = 30, /* 5 x {u64 client_id, u16 server_port} */
	HPB_ACK_SLOT_LEN = 10,
};

/* Same as homa_wire_init: common header of a packet we would send. */
void hpb_init(struct homa_packet *pkt, uint8_t type, uint16_t sport, uint16_t dport,
	      uint64_t sender_id);

/*
 * DATA carrying [offset, offset + payload) of a message_length-byte message,
 * in the branch-main form: sequence = offset, seg_offset = 0xffffffff.
 * incoming as given, no piggybacked ack, cutoff_version 0, retransmit 0.
 * u.data.offset is set too (as decode would). For the segmented form set
 * pkt->u.data.seg_offset afterwards.
 */
void hpb_data(struct homa_packet *pkt, uint16_t sport, uint16_t dport, uint64_t sender_id,
	      uint32_t message_length, uint32_t offset, uint32_t incoming);

void hpb_grant(struct homa_packet *pkt, uint16_t sport, uint16_t dport,
	       uint64_t sender_id, uint32_t offset, uint8_t priority);

/* length HOMA_RESEND_ALL means "resend everything sent so far". */
void hpb_resend(struct homa_packet *pkt, uint16_t sport, uint16_t dport,
		uint64_t sender_id, uint32_t offset, uint32_t length, uint8_t priority);

void hpb_rpc_unknown(struct homa_packet *pkt, uint16_t sport, uint16_t dport,
		     uint64_t sender_id);
void hpb_busy(struct homa_packet *pkt, uint16_t sport, uint16_t dport,
	      uint64_t sender_id);
void hpb_freeze(struct homa_packet *pkt, uint16_t sport, uint16_t dport,
		uint64_t sender_id);
void hpb_need_ack(struct homa_packet *pkt, uint16_t sport, uint16_t dport,
		  uint64_t sender_id);

/* cutoffs: 8 entries copied as given (NULL: the reference defaults
 * {0, 0, 0, 0, 1000000, 15000, 2800, 200}). */
void hpb_cutoffs(struct homa_packet *pkt, uint16_t sport, uint16_t dport,
		 uint64_t sender_id, const uint32_t *cutoffs, uint16_t version);

/*
 * ACK: num_acks is stored raw (a hostile test may say 9); the first
 * min(num_acks, 5) entries of acks (may be NULL when num_acks is 0) are copied,
 * the other slots are zero.
 */
void hpb_ack(struct homa_packet *pkt, uint16_t sport, uint16_t dport, uint64_t sender_id,
	     const struct homa_ack *acks, uint16_t num_acks);

/*
 * Writes the complete packet (header, then payload_len payload bytes) into
 * out and returns its length, or 0 if it does not fit in cap. payload NULL
 * means "fill with hpb_pattern bytes for the DATA offset" (zeros for other
 * types). Fields are written raw, without validation; an unknown type gets
 * a bare 28-byte common header.
 */
size_t hpb_encode(const struct homa_packet *pkt, const uint8_t *payload,
		  size_t payload_len, uint8_t *out, size_t cap);

/*
 * One-call DATA: encodes a DATA packet for [offset, offset + len) of a
 * message_length-byte message with pattern payload. Returns the length or 0.
 */
size_t hpb_build_data(uint8_t *out, size_t cap, uint16_t sport, uint16_t dport,
		      uint64_t sender_id, uint32_t message_length, uint32_t offset,
		      uint32_t len);

/*
 * A deterministic byte for message offset off, so a test can check that the
 * receiver assembled bytes in the right places: hpb_pattern_fill writes the
 * pattern of [offset, offset + len) into buf; hpb_pattern_check returns the
 * index of the first wrong byte, or len if all are right.
 */
uint8_t hpb_pattern_byte(uint32_t off);
void hpb_pattern_fill(uint8_t *buf, uint32_t offset, size_t len);
size_t hpb_pattern_check(const uint8_t *buf, uint32_t offset, size_t len);

/* Raw writes into an encoded packet (big-endian), for hostile bytes. */
void hpb_poke_u8(uint8_t *buf, size_t off, uint8_t v);
void hpb_poke_u16(uint8_t *buf, size_t off, uint16_t v);
void hpb_poke_u32(uint8_t *buf, size_t off, uint32_t v);
void hpb_poke_u64(uint8_t *buf, size_t off, uint64_t v);

#endif /* HOMA_PKTBUILD_H */
