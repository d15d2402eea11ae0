/*
 * homa_wire.c - the Homa packet codec.
 *
 * Invariant: nothing outside this file ever looks at packet bytes, and
 * nothing this file hands out has a field that could not have been checked
 * without protocol state. A packet that decodes is safe to index with: its
 * DATA segment lies inside its message, its priorities fit the 8 levels, its
 * ack count fits the slots, its cutoff table is ordered.
 *
 * Layout follows reference section 2 (the kernel module's bytes) field by
 * field; every integer goes through the big-endian helpers of homa_wire.h.
 * Each packet type has one row in a table (header length, name, decoder,
 * encoder) so adding a type is one row and two short functions.
 *
 * Where we deliberately differ from the reference:
 *   - The reference trusts most fields (it checks lengths and types only).
 *     We refuse zero destination ports, DATA segments outside their message,
 *     empty DATA, retransmit flags other than 0/1, priorities >= 8, more than
 *     5 acks and disordered cutoff tables, each with its own error code.
 *   - `incoming` larger than the message is clamped, not refused: the
 *     reference's senders may announce a rounded-up figure, and nothing is
 *     gained by dropping an otherwise good packet for it.
 *   - The DATA offset rule (seg.offset unless 0xffffffff, then sequence) is
 *     applied here once, instead of rewriting the header in GRO.
 *   - Bytes the reference leaves unused (ack[3] of the common header, the
 *     DATA pad) are ignored on receive and written as 0.
 */
#include "homa/homa_wire.h"

#include <string.h>

/* Offsets inside the common header (reference 2.2). */
enum {
	OFF_SPORT = 0,
	OFF_DPORT = 2,
	OFF_SEQUENCE = 4,
	OFF_TYPE = 11,
	OFF_DOFF = 12,
	OFF_FLAGS = 13,
	OFF_WINDOW = 14,
	OFF_CHECKSUM = 16,
	OFF_URGENT = 18,
	OFF_SENDER_ID = 20,
};

/* Offsets of the type-specific fields (reference 2.4, 2.5). */
enum {
	OFF_DATA_MSG_LEN = 28,
	OFF_DATA_INCOMING = 32,
	OFF_DATA_ACK = 36,
	OFF_DATA_CUTOFF_VERSION = 46,
	OFF_DATA_RETRANSMIT = 48,
	OFF_DATA_SEG_OFFSET = 52,
	OFF_GRANT_OFFSET = 28,
	OFF_GRANT_PRIORITY = 32,
	OFF_RESEND_OFFSET = 28,
	OFF_RESEND_LENGTH = 32,
	OFF_RESEND_PRIORITY = 36,
	OFF_CUTOFFS_TABLE = 28,
	OFF_CUTOFFS_VERSION = 60,
	OFF_ACK_NUM = 28,
	OFF_ACK_SLOTS = 30,
	ACK_SLOT_LEN = 10,
};

/* Largest value a cutoff entry may hold (the reference's INT_MAX). */
#define CUTOFF_MAX 0x7fffffffu

typedef int (*decode_fn)(const uint8_t *buf, size_t len, struct homa_packet *pkt);
typedef void (*encode_fn)(const struct homa_packet *pkt, uint8_t *buf);

struct type_info {
	const char *name;
	size_t hdr_len;
	decode_fn decode; /* NULL: nothing beyond the common header */
	encode_fn encode;
};

static int decode_data(const uint8_t *buf, size_t len, struct homa_packet *pkt);
static int decode_grant(const uint8_t *buf, size_t len, struct homa_packet *pkt);
static int decode_resend(const uint8_t *buf, size_t len, struct homa_packet *pkt);
static int decode_cutoffs(const uint8_t *buf, size_t len, struct homa_packet *pkt);
static int decode_ack(const uint8_t *buf, size_t len, struct homa_packet *pkt);
static void encode_data(const struct homa_packet *pkt, uint8_t *buf);
static void encode_grant(const struct homa_packet *pkt, uint8_t *buf);
static void encode_resend(const struct homa_packet *pkt, uint8_t *buf);
static void encode_cutoffs(const struct homa_packet *pkt, uint8_t *buf);
static void encode_ack(const struct homa_packet *pkt, uint8_t *buf);

static const struct type_info types[HOMA_PKT_TYPE_COUNT] = {
    [HOMA_PKT_DATA - HOMA_PKT_TYPE_MIN] = {"DATA", HOMA_DATA_HDR_LEN, decode_data,
					   encode_data},
    [HOMA_PKT_GRANT -
	HOMA_PKT_TYPE_MIN] = {"GRANT", HOMA_GRANT_HDR_LEN, decode_grant, encode_grant},
    [HOMA_PKT_RESEND - HOMA_PKT_TYPE_MIN] = {"RESEND", HOMA_RESEND_HDR_LEN, decode_resend,
					     encode_resend},
    [HOMA_PKT_RPC_UNKNOWN -
	HOMA_PKT_TYPE_MIN] = {"RPC_UNKNOWN", HOMA_RPC_UNKNOWN_HDR_LEN, NULL, NULL},
    [HOMA_PKT_BUSY - HOMA_PKT_TYPE_MIN] = {"BUSY", HOMA_BUSY_HDR_LEN, NULL, NULL},
    [HOMA_PKT_CUTOFFS - HOMA_PKT_TYPE_MIN] = {"CUTOFFS", HOMA_CUTOFFS_HDR_LEN,
					      decode_cutoffs, encode_cutoffs},
    [HOMA_PKT_FREEZE - HOMA_PKT_TYPE_MIN] = {"FREEZE", HOMA_FREEZE_HDR_LEN, NULL, NULL},
    [HOMA_PKT_NEED_ACK -
	HOMA_PKT_TYPE_MIN] = {"NEED_ACK", HOMA_NEED_ACK_HDR_LEN, NULL, NULL},
    [HOMA_PKT_ACK -
	HOMA_PKT_TYPE_MIN] = {"ACK", HOMA_ACK_HDR_LEN, decode_ack, encode_ack},
};

static const struct type_info *type_lookup(uint8_t type)
{
	if (type < HOMA_PKT_TYPE_MIN || type > HOMA_PKT_TYPE_MAX)
		return NULL;
	return &types[type - HOMA_PKT_TYPE_MIN];
}

size_t homa_wire_header_len(uint8_t type)
{
	const struct type_info *t = type_lookup(type);

	return t ? t->hdr_len : 0;
}

const char *homa_wire_type_name(uint8_t type)
{
	const struct type_info *t = type_lookup(type);

	return t ? t->name : "UNKNOWN";
}

static const char *const error_names[HOMA_WIRE_ERR_COUNT] = {"ok",
#define X(name, lname, text) #lname,
							     HOMA_WIRE_ERRORS(X)
#undef X
};

static const char *const error_texts[HOMA_WIRE_ERR_COUNT] = {"no error",
#define X(name, lname, text) text,
							     HOMA_WIRE_ERRORS(X)
#undef X
};

/* Callers hold errors as returned (negative); accept either sign. */
static int error_index(int err)
{
	if (err < 0)
		err = -err;
	return err < HOMA_WIRE_ERR_COUNT ? err : -1;
}

const char *homa_wire_error_name(int err)
{
	int i = error_index(err);

	return i < 0 ? "unknown" : error_names[i];
}

const char *homa_wire_error_text(int err)
{
	int i = error_index(err);

	return i < 0 ? "unknown error" : error_texts[i];
}

static void decode_common(const uint8_t *buf, struct homa_common_hdr *c)
{
	c->sport = homa_get_u16(buf + OFF_SPORT);
	c->dport = homa_get_u16(buf + OFF_DPORT);
	c->sequence = homa_get_u32(buf + OFF_SEQUENCE);
	c->type = buf[OFF_TYPE];
	c->doff = buf[OFF_DOFF];
	c->flags = buf[OFF_FLAGS];
	c->window = homa_get_u16(buf + OFF_WINDOW);
	c->checksum = homa_get_u16(buf + OFF_CHECKSUM);
	c->urgent = homa_get_u16(buf + OFF_URGENT);
	c->sender_id = homa_get_u64(buf + OFF_SENDER_ID);
}

static void encode_common(const struct homa_common_hdr *c, uint8_t *buf)
{
	homa_put_u16(buf + OFF_SPORT, c->sport);
	homa_put_u16(buf + OFF_DPORT, c->dport);
	homa_put_u32(buf + OFF_SEQUENCE, c->sequence);
	memset(buf + OFF_SEQUENCE + 4, 0, OFF_TYPE - (OFF_SEQUENCE + 4));
	buf[OFF_TYPE] = c->type;
	buf[OFF_DOFF] = c->doff;
	buf[OFF_FLAGS] = c->flags;
	homa_put_u16(buf + OFF_WINDOW, c->window);
	homa_put_u16(buf + OFF_CHECKSUM, c->checksum);
	homa_put_u16(buf + OFF_URGENT, c->urgent);
	homa_put_u64(buf + OFF_SENDER_ID, c->sender_id);
}

static void decode_ack_entry(const uint8_t *p, struct homa_ack *a)
{
	a->client_id = homa_get_u64(p);
	a->server_port = homa_get_u16(p + 8);
}

static void encode_ack_entry(const struct homa_ack *a, uint8_t *p)
{
	homa_put_u64(p, a->client_id);
	homa_put_u16(p + 8, a->server_port);
}

/* The segment must lie inside the message; 64-bit sum so it cannot wrap. */
static int check_data_segment(const struct homa_data_hdr *d, size_t payload_len)
{
	if (d->message_length == 0 || d->message_length > HOMA_MAX_MESSAGE_LENGTH)
		return -HOMA_WIRE_ERR_BAD_LENGTH;
	if (payload_len == 0)
		return -HOMA_WIRE_ERR_EMPTY_DATA;
	if (d->offset >= d->message_length ||
	    (uint64_t)d->offset + payload_len > d->message_length)
		return -HOMA_WIRE_ERR_BAD_OFFSET;
	if (d->retransmit > 1)
		return -HOMA_WIRE_ERR_BAD_RETRANSMIT;
	return 0;
}

static int decode_data(const uint8_t *buf, size_t len, struct homa_packet *pkt)
{
	struct homa_data_hdr *d = &pkt->u.data;

	d->message_length = homa_get_u32(buf + OFF_DATA_MSG_LEN);
	d->incoming = homa_get_u32(buf + OFF_DATA_INCOMING);
	decode_ack_entry(buf + OFF_DATA_ACK, &d->ack);
	d->cutoff_version = homa_get_u16(buf + OFF_DATA_CUTOFF_VERSION);
	d->retransmit = buf[OFF_DATA_RETRANSMIT];
	d->seg_offset = homa_get_u32(buf + OFF_DATA_SEG_OFFSET);
	d->offset = d->seg_offset == HOMA_SEG_OFFSET_IN_SEQUENCE ? pkt->common.sequence
								 : d->seg_offset;
	pkt->payload = buf + HOMA_DATA_HDR_LEN;
	pkt->payload_len = len - HOMA_DATA_HDR_LEN;
	int err = check_data_segment(d, pkt->payload_len);
	if (err)
		return err;
	if (d->incoming > d->message_length)
		d->incoming = d->message_length;
	return 0;
}

static void encode_data(const struct homa_packet *pkt, uint8_t *buf)
{
	const struct homa_data_hdr *d = &pkt->u.data;

	homa_put_u32(buf + OFF_DATA_MSG_LEN, d->message_length);
	homa_put_u32(buf + OFF_DATA_INCOMING, d->incoming);
	encode_ack_entry(&d->ack, buf + OFF_DATA_ACK);
	homa_put_u16(buf + OFF_DATA_CUTOFF_VERSION, d->cutoff_version);
	buf[OFF_DATA_RETRANSMIT] = d->retransmit;
	memset(buf + OFF_DATA_RETRANSMIT + 1, 0,
	       OFF_DATA_SEG_OFFSET - OFF_DATA_RETRANSMIT - 1);
	homa_put_u32(buf + OFF_DATA_SEG_OFFSET, d->seg_offset);
}

static int decode_grant(const uint8_t *buf, size_t len, struct homa_packet *pkt)
{
	(void)len;
	pkt->u.grant.offset = homa_get_u32(buf + OFF_GRANT_OFFSET);
	pkt->u.grant.priority = buf[OFF_GRANT_PRIORITY];
	if (pkt->u.grant.priority >= HOMA_MAX_PRIORITIES)
		return -HOMA_WIRE_ERR_BAD_PRIORITY;
	return 0;
}

static void encode_grant(const struct homa_packet *pkt, uint8_t *buf)
{
	homa_put_u32(buf + OFF_GRANT_OFFSET, pkt->u.grant.offset);
	buf[OFF_GRANT_PRIORITY] = pkt->u.grant.priority;
}

static int decode_resend(const uint8_t *buf, size_t len, struct homa_packet *pkt)
{
	(void)len;
	pkt->u.resend.offset = homa_get_u32(buf + OFF_RESEND_OFFSET);
	pkt->u.resend.length = homa_get_u32(buf + OFF_RESEND_LENGTH);
	pkt->u.resend.priority = buf[OFF_RESEND_PRIORITY];
	if (pkt->u.resend.priority >= HOMA_MAX_PRIORITIES)
		return -HOMA_WIRE_ERR_BAD_PRIORITY;
	return 0;
}

static void encode_resend(const struct homa_packet *pkt, uint8_t *buf)
{
	homa_put_u32(buf + OFF_RESEND_OFFSET, pkt->u.resend.offset);
	homa_put_u32(buf + OFF_RESEND_LENGTH, pkt->u.resend.length);
	buf[OFF_RESEND_PRIORITY] = pkt->u.resend.priority;
}

/*
 * A usable table: entries fit an int, a version is present (0 means "none"
 * in DATA's echo, so a table with version 0 could never be acknowledged), and
 * higher levels serve shorter messages. Entry 0 is not ordered: the reference
 * sends 0 there and every receiver replaces it with INT_MAX; levels at or
 * above num_priorities are 0, which is why zeros are skipped.
 */
static int check_cutoffs(const struct homa_cutoffs_hdr *c)
{
	uint32_t prev = CUTOFF_MAX;

	if (c->cutoff_version == 0)
		return -HOMA_WIRE_ERR_BAD_CUTOFFS;
	for (int i = 0; i < HOMA_MAX_PRIORITIES; i++) {
		uint32_t v = c->unsched_cutoffs[i];

		if (v > CUTOFF_MAX)
			return -HOMA_WIRE_ERR_BAD_CUTOFFS;
		if (i == 0 || v == 0)
			continue;
		if (v > prev)
			return -HOMA_WIRE_ERR_BAD_CUTOFFS;
		prev = v;
	}
	return 0;
}

static int decode_cutoffs(const uint8_t *buf, size_t len, struct homa_packet *pkt)
{
	struct homa_cutoffs_hdr *c = &pkt->u.cutoffs;

	(void)len;
	for (int i = 0; i < HOMA_MAX_PRIORITIES; i++)
		c->unsched_cutoffs[i] = homa_get_u32(buf + OFF_CUTOFFS_TABLE + 4 * i);
	c->cutoff_version = homa_get_u16(buf + OFF_CUTOFFS_VERSION);
	return check_cutoffs(c);
}

static void encode_cutoffs(const struct homa_packet *pkt, uint8_t *buf)
{
	const struct homa_cutoffs_hdr *c = &pkt->u.cutoffs;

	for (int i = 0; i < HOMA_MAX_PRIORITIES; i++)
		homa_put_u32(buf + OFF_CUTOFFS_TABLE + 4 * i, c->unsched_cutoffs[i]);
	homa_put_u16(buf + OFF_CUTOFFS_VERSION, c->cutoff_version);
}

/* All five slots are decoded (unused ones included) so packets round-trip. */
static int decode_ack(const uint8_t *buf, size_t len, struct homa_packet *pkt)
{
	struct homa_ack_hdr *a = &pkt->u.ack;

	(void)len;
	a->num_acks = homa_get_u16(buf + OFF_ACK_NUM);
	for (int i = 0; i < HOMA_MAX_ACKS_PER_PKT; i++)
		decode_ack_entry(buf + OFF_ACK_SLOTS + ACK_SLOT_LEN * i, &a->acks[i]);
	if (a->num_acks > HOMA_MAX_ACKS_PER_PKT)
		return -HOMA_WIRE_ERR_BAD_NUM_ACKS;
	return 0;
}

static void encode_ack(const struct homa_packet *pkt, uint8_t *buf)
{
	const struct homa_ack_hdr *a = &pkt->u.ack;

	homa_put_u16(buf + OFF_ACK_NUM, a->num_acks);
	for (int i = 0; i < HOMA_MAX_ACKS_PER_PKT; i++)
		encode_ack_entry(&a->acks[i], buf + OFF_ACK_SLOTS + ACK_SLOT_LEN * i);
}

int homa_wire_decode(const uint8_t *buf, size_t len, struct homa_packet *pkt)
{
	const struct type_info *t;

	if (buf == NULL || len < HOMA_COMMON_HDR_LEN)
		return -HOMA_WIRE_ERR_TOO_SHORT;
	t = type_lookup(buf[OFF_TYPE]);
	if (t == NULL)
		return -HOMA_WIRE_ERR_BAD_TYPE;
	if (len < t->hdr_len)
		return -HOMA_WIRE_ERR_SHORT_HEADER;
	memset(pkt, 0, sizeof(*pkt));
	decode_common(buf, &pkt->common);
	if (pkt->common.dport == 0)
		return -HOMA_WIRE_ERR_BAD_PORT;
	return t->decode ? t->decode(buf, len, pkt) : 0;
}

int homa_wire_decode_data_split(const uint8_t *hdr, size_t hdr_len, size_t payload_len,
				struct homa_packet *pkt)
{
	int err;

	if (hdr == NULL || hdr_len < HOMA_COMMON_HDR_LEN)
		return -HOMA_WIRE_ERR_TOO_SHORT;
	if (hdr[OFF_TYPE] != HOMA_PKT_DATA)
		return -HOMA_WIRE_ERR_BAD_TYPE;
	if (hdr_len != HOMA_DATA_HDR_LEN)
		return -HOMA_WIRE_ERR_SHORT_HEADER;
	if (payload_len > HOMA_MAX_MESSAGE_LENGTH)
		return -HOMA_WIRE_ERR_BAD_OFFSET;
	memset(pkt, 0, sizeof(*pkt));
	decode_common(hdr, &pkt->common);
	if (pkt->common.dport == 0)
		return -HOMA_WIRE_ERR_BAD_PORT;
	/* decode_data reads the header only; the length gives payload_len. */
	err = decode_data(hdr, HOMA_DATA_HDR_LEN + payload_len, pkt);
	pkt->payload = NULL;
	return err;
}

size_t homa_wire_encode(const struct homa_packet *pkt, uint8_t *buf, size_t cap)
{
	const struct type_info *t = type_lookup(pkt->common.type);

	if (t == NULL || buf == NULL || cap < t->hdr_len)
		return 0;
	encode_common(&pkt->common, buf);
	if (t->encode)
		t->encode(pkt, buf);
	return t->hdr_len;
}

void homa_wire_init(struct homa_packet *pkt, uint8_t type, uint16_t sport, uint16_t dport,
		    uint64_t sender_id)
{
	memset(pkt, 0, sizeof(*pkt));
	pkt->common.sport = sport;
	pkt->common.dport = dport;
	pkt->common.type = type;
	pkt->common.doff = type == HOMA_PKT_DATA ? HOMA_DOFF_DATA : HOMA_DOFF_CONTROL;
	pkt->common.flags = HOMA_FLAGS_HIJACK;
	pkt->common.urgent = HOMA_URGENT_HIJACK;
	pkt->common.sender_id = sender_id;
}
