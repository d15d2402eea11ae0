/*
 * fuzz_decode.c - libFuzzer target for the wire decoder.
 *
 * FUZZ_SOURCES: src/core/homa_wire.c
 *
 * For any input: decoding must not read outside the buffer (ASan) or hit
 * undefined behaviour (UBSan). When it accepts, what it hands out must hold
 * the promises callers rely on (segment inside the message, priorities and
 * ack counts in range), and encoding the result then decoding it again must
 * give the same packet and, re-encoded, the same header bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "homa/homa_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                      \
	do {                                                                             \
		if (!(cond))                                                             \
			abort();                                                         \
	} while (0)

static void check_promises(const struct homa_packet *p, const uint8_t *buf, size_t len)
{
	CHECK(homa_wire_header_len(p->common.type) != 0);
	CHECK(p->common.dport != 0);
	switch (p->common.type) {
	case HOMA_PKT_DATA:
		CHECK(p->payload == buf + HOMA_DATA_HDR_LEN);
		CHECK(p->payload_len > 0 && HOMA_DATA_HDR_LEN + p->payload_len == len);
		CHECK(p->u.data.message_length >= 1);
		CHECK(p->u.data.message_length <= HOMA_MAX_MESSAGE_LENGTH);
		CHECK((uint64_t)p->u.data.offset + p->payload_len <=
		      p->u.data.message_length);
		CHECK(p->u.data.incoming <= p->u.data.message_length);
		CHECK(p->u.data.retransmit <= 1);
		break;
	case HOMA_PKT_GRANT:
		CHECK(p->u.grant.priority < HOMA_MAX_PRIORITIES);
		break;
	case HOMA_PKT_RESEND:
		CHECK(p->u.resend.priority < HOMA_MAX_PRIORITIES);
		break;
	case HOMA_PKT_ACK:
		CHECK(p->u.ack.num_acks <= HOMA_MAX_ACKS_PER_PKT);
		break;
	case HOMA_PKT_CUTOFFS:
		CHECK(p->u.cutoffs.cutoff_version != 0);
		break;
	default:
		CHECK(p->payload == NULL && p->payload_len == 0);
		break;
	}
}

static void check_same(const struct homa_packet *a, const struct homa_packet *b)
{
	CHECK(memcmp(&a->common, &b->common, sizeof(a->common)) == 0);
	CHECK(a->payload_len == b->payload_len);
	switch (a->common.type) {
	case HOMA_PKT_DATA:
		CHECK(memcmp(&a->u.data, &b->u.data, sizeof(a->u.data)) == 0);
		CHECK(memcmp(a->payload, b->payload, a->payload_len) == 0);
		break;
	case HOMA_PKT_GRANT:
		CHECK(memcmp(&a->u.grant, &b->u.grant, sizeof(a->u.grant)) == 0);
		break;
	case HOMA_PKT_RESEND:
		CHECK(memcmp(&a->u.resend, &b->u.resend, sizeof(a->u.resend)) == 0);
		break;
	case HOMA_PKT_CUTOFFS:
		CHECK(memcmp(&a->u.cutoffs, &b->u.cutoffs, sizeof(a->u.cutoffs)) == 0);
		break;
	case HOMA_PKT_ACK:
		CHECK(memcmp(&a->u.ack, &b->u.ack, sizeof(a->u.ack)) == 0);
		break;
	default:
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct homa_packet a, b;
	uint8_t hdr[HOMA_MAX_HDR_LEN], hdr2[HOMA_MAX_HDR_LEN];
	uint8_t *again;
	size_t n;

	/* decode zeroes *pkt first, so memcmp of the parts it fills is exact. */
	if (homa_wire_decode(data, size, &a) != 0)
		return 0;
	check_promises(&a, data, size);
	n = homa_wire_encode(&a, hdr, sizeof(hdr));
	CHECK(n == homa_wire_header_len(a.common.type));
	again = malloc(n + a.payload_len);
	CHECK(again != NULL);
	memcpy(again, hdr, n);
	if (a.payload_len)
		memcpy(again + n, a.payload, a.payload_len);
	CHECK(homa_wire_decode(again, n + a.payload_len, &b) == 0);
	check_same(&a, &b);
	CHECK(homa_wire_encode(&b, hdr2, sizeof(hdr2)) == n);
	CHECK(memcmp(hdr, hdr2, n) == 0);
	free(again);
	return 0;
}
