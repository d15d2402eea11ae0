/*
 * homa_wire.h - the Homa wire format: constants, decoded packet forms, and the
 * codec that turns bytes into them and back.
 *
 * The byte layout is the Linux kernel implementation's (HomaModule, branch
 * main; see docs/protocol.md), so the same bytes travel as IP protocol 146
 * payloads (raw carrier) or as UDP payloads (UDP carrier). All wire integers
 * are big-endian and are read and written through byte helpers: nothing here
 * ever casts a struct onto a receive buffer.
 *
 * Decoding validates every field that can be checked without protocol state
 * (lengths, types, offsets against the message length, counts, priorities)
 * and reports the first failure as a negative homa_wire_error, which callers
 * count. Checks that need state (id parity against role, grants beyond what
 * was sent) belong to the core.
 */
#ifndef HOMA_WIRE_H
#define HOMA_WIRE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HOMA_IPPROTO		146
#define HOMA_MAX_MESSAGE_LENGTH 1000000u
#define HOMA_BPAGE_SHIFT	16
#define HOMA_BPAGE_SIZE		(1u << HOMA_BPAGE_SHIFT)
#define HOMA_MAX_BPAGES		16
#define HOMA_MIN_DEFAULT_PORT	32768u
#define HOMA_MAX_PRIORITIES	8
#define HOMA_MAX_ACKS_PER_PKT	5

#define HOMA_COMMON_HDR_LEN	 28
#define HOMA_DATA_HDR_LEN	 56
#define HOMA_GRANT_HDR_LEN	 33
#define HOMA_RESEND_HDR_LEN	 37
#define HOMA_RPC_UNKNOWN_HDR_LEN 28
#define HOMA_BUSY_HDR_LEN	 28
#define HOMA_CUTOFFS_HDR_LEN	 62
#define HOMA_FREEZE_HDR_LEN	 28
#define HOMA_NEED_ACK_HDR_LEN	 28
#define HOMA_ACK_HDR_LEN	 80
#define HOMA_MAX_HDR_LEN	 90

/* Values the reference's full build puts in the TCP-mimicking fields. */
#define HOMA_DOFF_DATA	   0xe0
#define HOMA_DOFF_DATA_GSO 0xd0
#define HOMA_DOFF_CONTROL  0x50
#define HOMA_FLAGS_HIJACK  0x06
#define HOMA_URGENT_HIJACK 0xb97d

/* seg.offset value meaning "the offset is in the common header's sequence". */
#define HOMA_SEG_OFFSET_IN_SEQUENCE 0xffffffffu
/* RESEND length meaning "nothing received: resend everything sent so far". */
#define HOMA_RESEND_ALL 0xffffffffu

enum homa_pkt_type {
	HOMA_PKT_DATA = 0x10,
	HOMA_PKT_GRANT = 0x11,
	HOMA_PKT_RESEND = 0x12,
	HOMA_PKT_RPC_UNKNOWN = 0x13,
	HOMA_PKT_BUSY = 0x14,
	HOMA_PKT_CUTOFFS = 0x15,
	HOMA_PKT_FREEZE = 0x16,
	HOMA_PKT_NEED_ACK = 0x17,
	HOMA_PKT_ACK = 0x18,
};
#define HOMA_PKT_TYPE_MIN   0x10
#define HOMA_PKT_TYPE_MAX   0x18
#define HOMA_PKT_TYPE_COUNT 9

/*
 * Reasons a packet is refused by the decoder. Each has a counter in
 * homa_stats (see homa_stats.h: drop_<name>).
 */
#define HOMA_WIRE_ERRORS(X)                                                              \
	X(TOO_SHORT, too_short, "shorter than the common header")                        \
	X(BAD_TYPE, bad_type, "type outside 0x10..0x18")                                 \
	X(SHORT_HEADER, short_header, "shorter than its type's header")                  \
	X(BAD_LENGTH, bad_length, "DATA message_length 0 or above the maximum")          \
	X(BAD_OFFSET, bad_offset, "DATA segment outside the message")                    \
	X(EMPTY_DATA, empty_data, "DATA without payload")                                \
	X(BAD_RETRANSMIT, bad_retransmit, "DATA retransmit flag not 0 or 1")             \
	X(BAD_PRIORITY, bad_priority, "priority of 8 or more")                           \
	X(BAD_NUM_ACKS, bad_num_acks, "ACK num_acks above 5")                            \
	X(BAD_CUTOFFS, bad_cutoffs, "CUTOFFS entries not a valid cutoff table")          \
	X(BAD_PORT, bad_port, "destination port 0")

enum homa_wire_error {
	HOMA_WIRE_OK = 0,
#define X(name, lname, text) HOMA_WIRE_ERR_##name,
	HOMA_WIRE_ERRORS(X)
#undef X
	    HOMA_WIRE_ERR_COUNT
};

/* The 28-byte header at the start of every packet. */
struct homa_common_hdr {
	uint16_t sport;
	uint16_t dport;
	uint32_t sequence;  /* DATA: offset of its first byte; else 0 */
	uint8_t type;	    /* enum homa_pkt_type */
	uint8_t doff;	    /* ignored on receive */
	uint8_t flags;	    /* ignored on receive */
	uint16_t window;    /* ignored on receive */
	uint16_t checksum;  /* ignored on receive */
	uint16_t urgent;    /* ignored on receive */
	uint64_t sender_id; /* the RPC id as the sender knows it */
};

struct homa_ack {
	uint64_t client_id; /* 0 = none */
	uint16_t server_port;
};

struct homa_data_hdr {
	uint32_t message_length;
	uint32_t incoming; /* clamped to message_length on decode */
	struct homa_ack ack;
	uint16_t cutoff_version;
	uint8_t retransmit;
	uint32_t seg_offset; /* raw field as on the wire */
	uint32_t offset;     /* effective offset (the DATA offset rule); set by decode */
};

struct homa_grant_hdr {
	uint32_t offset;
	uint8_t priority;
};

struct homa_resend_hdr {
	uint32_t offset;
	uint32_t length; /* HOMA_RESEND_ALL = everything sent so far */
	uint8_t priority;
};

struct homa_cutoffs_hdr {
	uint32_t unsched_cutoffs[HOMA_MAX_PRIORITIES];
	uint16_t cutoff_version;
};

struct homa_ack_hdr {
	uint16_t num_acks;
	struct homa_ack acks[HOMA_MAX_ACKS_PER_PKT];
};

/* A decoded packet. `payload` points into the buffer given to decode. */
struct homa_packet {
	struct homa_common_hdr common;
	union {
		struct homa_data_hdr data;
		struct homa_grant_hdr grant;
		struct homa_resend_hdr resend;
		struct homa_cutoffs_hdr cutoffs;
		struct homa_ack_hdr ack;
	} u;
	const uint8_t *payload; /* DATA only; NULL otherwise */
	size_t payload_len;
};

/* Header length of a packet type, or 0 for an unknown type. */
size_t homa_wire_header_len(uint8_t type);

/* Name of a packet type ("DATA", ...), or "UNKNOWN". */
const char *homa_wire_type_name(uint8_t type);

/* Short name of a decode error ("too_short", ...), and its description. */
const char *homa_wire_error_name(int err);
const char *homa_wire_error_text(int err);

/*
 * Decodes and validates the packet in buf[0..len). On success fills *pkt and
 * returns 0; for DATA, pkt->u.data.offset holds the effective offset and
 * payload/payload_len the bytes after the 56-byte header. Trailing bytes beyond
 * a control packet's header are ignored (the reference pads to a minimum).
 * On failure returns -HOMA_WIRE_ERR_<reason> and *pkt is unspecified.
 */
int homa_wire_decode(const uint8_t *buf, size_t len, struct homa_packet *pkt);

/*
 * Decodes a DATA packet whose 56-byte header is hdr[0..hdr_len) and whose
 * payload_len bytes of payload are stored elsewhere (received straight into
 * their final place): the same validation as homa_wire_decode() of the
 * whole packet, but pkt->payload is NULL. hdr_len must be exactly
 * HOMA_DATA_HDR_LEN and the type DATA (else -HOMA_WIRE_ERR_SHORT_HEADER or
 * -HOMA_WIRE_ERR_BAD_TYPE); only the header bytes are read.
 */
int homa_wire_decode_data_split(const uint8_t *hdr, size_t hdr_len, size_t payload_len,
				struct homa_packet *pkt);

/*
 * Encodes the header of *pkt (common + type-specific part, never the payload)
 * into buf. Every field is written as given, including doff/flags/window/
 * checksum/urgent and the raw seg_offset (u.data.offset is not used), so a
 * decoded packet re-encodes to the same bytes. Returns the header length, or
 * 0 if cap is too small or the type is unknown.
 */
size_t homa_wire_encode(const struct homa_packet *pkt, uint8_t *buf, size_t cap);

/*
 * Fills pkt->common for a packet this implementation sends: the given type,
 * ports and id, sequence 0, and the reference full build's doff (0xe0 DATA,
 * 0x50 control), flags 0x06 and urgent 0xb97d; window and checksum 0. Zeroes
 * the type-specific part and payload.
 */
void homa_wire_init(struct homa_packet *pkt, uint8_t type, uint16_t sport, uint16_t dport,
		    uint64_t sender_id);

/* Big-endian byte helpers (shared by the codec and tests). */
static inline uint16_t homa_get_u16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}
static inline uint32_t homa_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t homa_get_u64(const uint8_t *p)
{
	return (uint64_t)homa_get_u32(p) << 32 | homa_get_u32(p + 4);
}
static inline void homa_put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static inline void homa_put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}
static inline void homa_put_u64(uint8_t *p, uint64_t v)
{
	homa_put_u32(p, (uint32_t)(v >> 32));
	homa_put_u32(p + 4, (uint32_t)v);
}

#ifdef __cplusplus
}
#endif
#endif /* HOMA_WIRE_H */
