/*
 * test_wire.c - the wire codec against the kernel's bytes, every validation
 * rule, and a seeded round-trip property over every packet type.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "homa/homa_wire.h"
#include "homa_pktbuild.h"
#include "homa_test.h"

#define BUF_CAP 4096

/* ---- Helpers ------------------------------------------------------------- */

/* Reads tests/vectors/<name>: hex byte pairs, '#' lines skipped. */
static size_t load_vector(const char *name, uint8_t *out, size_t cap)
{
	char path[512], line[1024];
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/tests/vectors/%s", HOMA_SOURCE_DIR, name);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		char *p = line;

		if (line[0] == '#')
			continue;
		for (;;) {
			char *end;
			unsigned long v = strtoul(p, &end, 16);

			if (end == p)
				break;
			assert_true(v <= 0xff);
			assert_true(n < cap);
			out[n++] = (uint8_t)v;
			p = end;
		}
	}
	fclose(f);
	return n;
}

/* Decodes header + extra synthetic payload bytes (for vectors that omit it). */
static void decode_vector(const char *name, size_t payload_len, size_t expect_hdr,
			  struct homa_packet *pkt, uint8_t *buf, size_t *hdr_len)
{
	*hdr_len = load_vector(name, buf, BUF_CAP);
	assert_int_equal(*hdr_len, expect_hdr);
	memset(buf + *hdr_len, 0, payload_len);
	assert_int_equal(homa_wire_decode(buf, *hdr_len + payload_len, pkt), 0);
}

/* Re-encoding must give the captured bytes back exactly. */
static void assert_reencodes(const struct homa_packet *pkt, const uint8_t *buf,
			     size_t len)
{
	uint8_t out[BUF_CAP];

	assert_int_equal(homa_wire_encode(pkt, out, sizeof(out)), len);
	assert_memory_equal(out, buf, len);
}

static void assert_common(const struct homa_packet *pkt, uint16_t sport, uint16_t dport,
			  uint32_t sequence, uint8_t type, uint8_t doff, uint64_t id)
{
	assert_int_equal(pkt->common.sport, sport);
	assert_int_equal(pkt->common.dport, dport);
	assert_int_equal(pkt->common.sequence, sequence);
	assert_int_equal(pkt->common.type, type);
	assert_int_equal(pkt->common.doff, doff);
	assert_int_equal(pkt->common.flags, 0x06);
	assert_int_equal(pkt->common.window, 0);
	assert_int_equal(pkt->common.urgent, 0xb97d);
	assert_int_equal(pkt->common.sender_id, id);
}

static void assert_data(const struct homa_packet *pkt, uint32_t length, uint32_t incoming,
			uint64_t ack_id, uint16_t ack_port, uint32_t seg_offset,
			uint32_t offset)
{
	assert_int_equal(pkt->u.data.message_length, length);
	assert_int_equal(pkt->u.data.incoming, incoming);
	assert_int_equal(pkt->u.data.ack.client_id, ack_id);
	assert_int_equal(pkt->u.data.ack.server_port, ack_port);
	assert_int_equal(pkt->u.data.cutoff_version, 0);
	assert_int_equal(pkt->u.data.retransmit, 0);
	assert_int_equal(pkt->u.data.seg_offset, seg_offset);
	assert_int_equal(pkt->u.data.offset, offset);
}

static void assert_packets_equal(const struct homa_packet *a, const struct homa_packet *b)
{
	const struct homa_common_hdr *x = &a->common, *y = &b->common;

	assert_int_equal(x->sport, y->sport);
	assert_int_equal(x->dport, y->dport);
	assert_int_equal(x->sequence, y->sequence);
	assert_int_equal(x->type, y->type);
	assert_int_equal(x->doff, y->doff);
	assert_int_equal(x->flags, y->flags);
	assert_int_equal(x->window, y->window);
	assert_int_equal(x->checksum, y->checksum);
	assert_int_equal(x->urgent, y->urgent);
	assert_int_equal(x->sender_id, y->sender_id);
	assert_int_equal(a->payload_len, b->payload_len);
	switch (x->type) {
	case HOMA_PKT_DATA:
		assert_int_equal(a->u.data.message_length, b->u.data.message_length);
		assert_int_equal(a->u.data.incoming, b->u.data.incoming);
		assert_int_equal(a->u.data.ack.client_id, b->u.data.ack.client_id);
		assert_int_equal(a->u.data.ack.server_port, b->u.data.ack.server_port);
		assert_int_equal(a->u.data.cutoff_version, b->u.data.cutoff_version);
		assert_int_equal(a->u.data.retransmit, b->u.data.retransmit);
		assert_int_equal(a->u.data.seg_offset, b->u.data.seg_offset);
		assert_int_equal(a->u.data.offset, b->u.data.offset);
		break;
	case HOMA_PKT_GRANT:
		assert_int_equal(a->u.grant.offset, b->u.grant.offset);
		assert_int_equal(a->u.grant.priority, b->u.grant.priority);
		break;
	case HOMA_PKT_RESEND:
		assert_int_equal(a->u.resend.offset, b->u.resend.offset);
		assert_int_equal(a->u.resend.length, b->u.resend.length);
		assert_int_equal(a->u.resend.priority, b->u.resend.priority);
		break;
	case HOMA_PKT_CUTOFFS:
		assert_memory_equal(a->u.cutoffs.unsched_cutoffs,
				    b->u.cutoffs.unsched_cutoffs,
				    sizeof(a->u.cutoffs.unsched_cutoffs));
		assert_int_equal(a->u.cutoffs.cutoff_version,
				 b->u.cutoffs.cutoff_version);
		break;
	case HOMA_PKT_ACK:
		assert_int_equal(a->u.ack.num_acks, b->u.ack.num_acks);
		for (int i = 0; i < HOMA_MAX_ACKS_PER_PKT; i++) {
			assert_int_equal(a->u.ack.acks[i].client_id,
					 b->u.ack.acks[i].client_id);
			assert_int_equal(a->u.ack.acks[i].server_port,
					 b->u.ack.acks[i].server_port);
		}
		break;
	default:
		break;
	}
}

static int decode_built(const struct homa_packet *pkt, size_t payload_len)
{
	uint8_t buf[BUF_CAP];
	struct homa_packet out;
	size_t n = hpb_encode(pkt, NULL, payload_len, buf, sizeof(buf));

	assert_true(n > 0);
	return homa_wire_decode(buf, n, &out);
}

/* ---- Kernel vectors ---------------------------------------------------- */

static const char *const vector_files[] = {
    "ack_empty.hex",
    "cutoffs.hex",
    "data_gso_segment.hex",
    "data_main_offset_in_sequence.hex",
    "data_response_with_ack.hex",
    "data_single_100.hex",
    "grant.hex",
    "grant_main.hex",
};

static void test_vectors__every_file_has_a_test(void **state)
{
	char path[512];
	struct dirent *e;
	size_t found = 0, known = sizeof(vector_files) / sizeof(vector_files[0]);
	DIR *d;

	(void)state;
	snprintf(path, sizeof(path), "%s/tests/vectors", HOMA_SOURCE_DIR);
	d = opendir(path);
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name), i;

		if (len < 4 || strcmp(e->d_name + len - 4, ".hex") != 0)
			continue;
		for (i = 0; i < known; i++) {
			if (strcmp(vector_files[i], e->d_name) == 0)
				break;
		}
		if (i == known)
			fail_msg("vector %s has no test", e->d_name);
		found++;
	}
	closedir(d);
	assert_int_equal(found, known);
}

static void test_vector__ack_empty(void **state)
{
	uint8_t buf[BUF_CAP];
	struct homa_packet pkt;
	size_t len;

	(void)state;
	decode_vector("ack_empty.hex", 0, 80, &pkt, buf, &len);
	assert_common(&pkt, 40000, 4000, 0, HOMA_PKT_ACK, 0x50, 1000);
	assert_int_equal(pkt.u.ack.num_acks, 0);
	for (int i = 0; i < HOMA_MAX_ACKS_PER_PKT; i++) {
		assert_int_equal(pkt.u.ack.acks[i].client_id, 0);
		assert_int_equal(pkt.u.ack.acks[i].server_port, 0);
	}
	assert_null(pkt.payload);
	assert_reencodes(&pkt, buf, len);
}

static void test_vector__cutoffs(void **state)
{
	static const uint32_t expect[8] = {0, 0, 0, 0, 1000000, 15000, 2800, 200};
	uint8_t buf[BUF_CAP];
	struct homa_packet pkt;
	size_t len;

	(void)state;
	decode_vector("cutoffs.hex", 0, 62, &pkt, buf, &len);
	assert_common(&pkt, 32769, 4000, 0, HOMA_PKT_CUTOFFS, 0x50, 2);
	assert_memory_equal(pkt.u.cutoffs.unsched_cutoffs, expect, sizeof(expect));
	assert_int_equal(pkt.u.cutoffs.cutoff_version, 1);
	assert_reencodes(&pkt, buf, len);
}

static void test_vector__data_gso_segment(void **state)
{
	uint8_t buf[BUF_CAP];
	struct homa_packet pkt;
	size_t len;

	(void)state;
	decode_vector("data_gso_segment.hex", 1424, 56, &pkt, buf, &len);
	assert_common(&pkt, 32770, 4000, 0, HOMA_PKT_DATA, 0xd0, 4);
	assert_data(&pkt, 200000, 40000, 2, 4000, 0, 0);
	assert_ptr_equal(pkt.payload, buf + 56);
	assert_int_equal(pkt.payload_len, 1424);
	assert_reencodes(&pkt, buf, len);
}

static void test_vector__data_main_offset_in_sequence(void **state)
{
	uint8_t buf[BUF_CAP];
	struct homa_packet pkt;
	size_t len;

	(void)state;
	/* The file omits the payload; a full 1424-byte segment follows offset 1424. */
	decode_vector("data_main_offset_in_sequence.hex", 1424, 56, &pkt, buf, &len);
	assert_common(&pkt, 32770, 4000, 1424, HOMA_PKT_DATA, 0xe0, 4);
	assert_int_equal(pkt.common.checksum, 0x153f);
	assert_data(&pkt, 200000, 40000, 2, 4000, 0xffffffff, 1424);
	assert_int_equal(pkt.payload_len, 1424);
	assert_reencodes(&pkt, buf, len);
}

static void test_vector__data_response_with_ack(void **state)
{
	uint8_t buf[BUF_CAP];
	struct homa_packet pkt;
	size_t len;

	(void)state;
	decode_vector("data_response_with_ack.hex", 100, 56, &pkt, buf, &len);
	assert_common(&pkt, 4000, 40000, 0, HOMA_PKT_DATA, 0xe0, 1001);
	assert_data(&pkt, 100, 100, 4, 4000, 0xffffffff, 0);
	assert_int_equal(pkt.payload_len, 100);
	assert_reencodes(&pkt, buf, len);
}

static void test_vector__data_single_100(void **state)
{
	uint8_t buf[BUF_CAP];
	struct homa_packet pkt;
	size_t len;

	(void)state;
	decode_vector("data_single_100.hex", 100, 56, &pkt, buf, &len);
	assert_common(&pkt, 32769, 4000, 0, HOMA_PKT_DATA, 0xe0, 2);
	assert_int_equal(pkt.common.checksum, 0);
	assert_data(&pkt, 100, 100, 0, 0, 0xffffffff, 0);
	assert_int_equal(pkt.payload_len, 100);
	assert_reencodes(&pkt, buf, len);
}

static void test_vector__grant(void **state)
{
	uint8_t buf[BUF_CAP];
	struct homa_packet pkt;
	size_t len;

	(void)state;
	decode_vector("grant.hex", 0, 33, &pkt, buf, &len);
	assert_common(&pkt, 32770, 4000, 0, HOMA_PKT_GRANT, 0x50, 4);
	assert_int_equal(pkt.u.grant.offset, 21392);
	assert_int_equal(pkt.u.grant.priority, 0);
	assert_reencodes(&pkt, buf, len);
}

static void test_vector__grant_main(void **state)
{
	uint8_t buf[BUF_CAP];
	struct homa_packet pkt;
	size_t len;

	(void)state;
	decode_vector("grant_main.hex", 0, 33, &pkt, buf, &len);
	assert_common(&pkt, 32770, 4000, 0, HOMA_PKT_GRANT, 0x50, 4);
	assert_int_equal(pkt.common.checksum, 0x14c4);
	assert_int_equal(pkt.u.grant.offset, 200000);
	assert_int_equal(pkt.u.grant.priority, 0);
	assert_reencodes(&pkt, buf, len);
}

/* A vector's DATA header is only valid with the payload it describes. */
static void test_vector__data_without_its_payload_is_empty_data(void **state)
{
	uint8_t buf[BUF_CAP];
	struct homa_packet pkt;
	size_t len = load_vector("data_single_100.hex", buf, BUF_CAP);

	(void)state;
	assert_int_equal(homa_wire_decode(buf, len, &pkt), -HOMA_WIRE_ERR_EMPTY_DATA);
}

/* ---- Names and header lengths --------------------------------------------- */

static void test_header_len__every_type(void **state)
{
	(void)state;
	assert_int_equal(homa_wire_header_len(HOMA_PKT_DATA), 56);
	assert_int_equal(homa_wire_header_len(HOMA_PKT_GRANT), 33);
	assert_int_equal(homa_wire_header_len(HOMA_PKT_RESEND), 37);
	assert_int_equal(homa_wire_header_len(HOMA_PKT_RPC_UNKNOWN), 28);
	assert_int_equal(homa_wire_header_len(HOMA_PKT_BUSY), 28);
	assert_int_equal(homa_wire_header_len(HOMA_PKT_CUTOFFS), 62);
	assert_int_equal(homa_wire_header_len(HOMA_PKT_FREEZE), 28);
	assert_int_equal(homa_wire_header_len(HOMA_PKT_NEED_ACK), 28);
	assert_int_equal(homa_wire_header_len(HOMA_PKT_ACK), 80);
	assert_int_equal(homa_wire_header_len(0x0f), 0);
	assert_int_equal(homa_wire_header_len(0x19), 0);
}

static void test_type_name__known_and_unknown(void **state)
{
	(void)state;
	assert_string_equal(homa_wire_type_name(HOMA_PKT_DATA), "DATA");
	assert_string_equal(homa_wire_type_name(HOMA_PKT_RPC_UNKNOWN), "RPC_UNKNOWN");
	assert_string_equal(homa_wire_type_name(HOMA_PKT_NEED_ACK), "NEED_ACK");
	assert_string_equal(homa_wire_type_name(HOMA_PKT_ACK), "ACK");
	assert_string_equal(homa_wire_type_name(0), "UNKNOWN");
	assert_string_equal(homa_wire_type_name(0xff), "UNKNOWN");
}

static void test_error_name__either_sign_and_out_of_range(void **state)
{
	(void)state;
	assert_string_equal(homa_wire_error_name(-HOMA_WIRE_ERR_TOO_SHORT), "too_short");
	assert_string_equal(homa_wire_error_name(HOMA_WIRE_ERR_BAD_PORT), "bad_port");
	assert_string_equal(homa_wire_error_name(0), "ok");
	assert_string_equal(homa_wire_error_name(-HOMA_WIRE_ERR_COUNT), "unknown");
	assert_string_equal(homa_wire_error_text(-HOMA_WIRE_ERR_BAD_CUTOFFS),
			    "CUTOFFS entries not a valid cutoff table");
	assert_string_equal(homa_wire_error_text(1000), "unknown error");
}

/* ---- Decode validation -------------------------------------------------- */

static void test_decode__too_short(void **state)
{
	uint8_t buf[BUF_CAP];
	struct homa_packet pkt;

	(void)state;
	hpb_busy(&pkt, 1, 2, 3);
	assert_int_equal(hpb_encode(&pkt, NULL, 0, buf, sizeof(buf)), 28);
	assert_int_equal(homa_wire_decode(buf, 27, &pkt), -HOMA_WIRE_ERR_TOO_SHORT);
	assert_int_equal(homa_wire_decode(buf, 0, &pkt), -HOMA_WIRE_ERR_TOO_SHORT);
	assert_int_equal(homa_wire_decode(NULL, 100, &pkt), -HOMA_WIRE_ERR_TOO_SHORT);
	assert_int_equal(homa_wire_decode(buf, 28, &pkt), 0);
}

static void test_decode__bad_type(void **state)
{
	static const uint8_t bad[] = {0x00, 0x0f, 0x19, 0x20, 0xff};
	struct homa_packet pkt;

	(void)state;
	for (size_t i = 0; i < sizeof(bad); i++) {
		hpb_busy(&pkt, 1, 2, 3);
		pkt.common.type = bad[i];
		assert_int_equal(decode_built(&pkt, 200), -HOMA_WIRE_ERR_BAD_TYPE);
	}
}

static void test_decode__short_header_for_every_type(void **state)
{
	uint8_t buf[BUF_CAP];
	struct homa_packet pkt;

	(void)state;
	for (int t = HOMA_PKT_TYPE_MIN; t <= HOMA_PKT_TYPE_MAX; t++) {
		size_t hdr = homa_wire_header_len((uint8_t)t);

		hpb_init(&pkt, (uint8_t)t, 1, 2, 3);
		memset(buf, 0, sizeof(buf));
		assert_int_equal(hpb_encode(&pkt, NULL, 0, buf, sizeof(buf)), hdr);
		if (hdr > HOMA_COMMON_HDR_LEN)
			assert_int_equal(homa_wire_decode(buf, hdr - 1, &pkt),
					 -HOMA_WIRE_ERR_SHORT_HEADER);
	}
}

static void test_decode__dport_zero_is_bad_port(void **state)
{
	struct homa_packet pkt;

	(void)state;
	hpb_need_ack(&pkt, 4000, 0, 5);
	assert_int_equal(decode_built(&pkt, 0), -HOMA_WIRE_ERR_BAD_PORT);
	hpb_need_ack(&pkt, 0, 1, 5);
	assert_int_equal(decode_built(&pkt, 0), 0);
}

static void test_decode__data_message_length_zero(void **state)
{
	struct homa_packet pkt;

	(void)state;
	hpb_data(&pkt, 1, 2, 4, 0, 0, 0);
	assert_int_equal(decode_built(&pkt, 10), -HOMA_WIRE_ERR_BAD_LENGTH);
}

static void test_decode__data_message_length_above_max(void **state)
{
	struct homa_packet pkt;

	(void)state;
	hpb_data(&pkt, 1, 2, 4, HOMA_MAX_MESSAGE_LENGTH + 1, 0, 100);
	assert_int_equal(decode_built(&pkt, 10), -HOMA_WIRE_ERR_BAD_LENGTH);
	hpb_data(&pkt, 1, 2, 4, 0xffffffff, 0, 100);
	assert_int_equal(decode_built(&pkt, 10), -HOMA_WIRE_ERR_BAD_LENGTH);
	hpb_data(&pkt, 1, 2, 4, HOMA_MAX_MESSAGE_LENGTH, HOMA_MAX_MESSAGE_LENGTH - 10,
		 100);
	assert_int_equal(decode_built(&pkt, 10), 0);
}

static void test_decode__data_without_payload(void **state)
{
	struct homa_packet pkt;

	(void)state;
	hpb_data(&pkt, 1, 2, 4, 100, 0, 100);
	assert_int_equal(decode_built(&pkt, 0), -HOMA_WIRE_ERR_EMPTY_DATA);
}

static void test_decode__data_offset_at_message_end(void **state)
{
	struct homa_packet pkt;

	(void)state;
	hpb_data(&pkt, 1, 2, 4, 100, 100, 100);
	assert_int_equal(decode_built(&pkt, 1), -HOMA_WIRE_ERR_BAD_OFFSET);
}

static void test_decode__data_overlaps_message_end(void **state)
{
	struct homa_packet pkt;

	(void)state;
	hpb_data(&pkt, 1, 2, 4, 100, 50, 100);
	assert_int_equal(decode_built(&pkt, 51), -HOMA_WIRE_ERR_BAD_OFFSET);
	assert_int_equal(decode_built(&pkt, 50), 0);
}

/* An offset near 2^32 must not wrap around into "inside the message". */
static void test_decode__data_offset_near_u32_max(void **state)
{
	struct homa_packet pkt;

	(void)state;
	hpb_data(&pkt, 1, 2, 4, 1000, 0, 1000);
	pkt.u.data.seg_offset = 0xfffffff0;
	assert_int_equal(decode_built(&pkt, 0x20), -HOMA_WIRE_ERR_BAD_OFFSET);
}

static void test_decode__data_seg_offset_wins_over_sequence(void **state)
{
	uint8_t buf[BUF_CAP];
	struct homa_packet pkt;
	size_t n;

	(void)state;
	hpb_data(&pkt, 1, 2, 4, 5000, 0, 5000);
	pkt.common.sequence = 999999; /* only the first GSO segment has it right */
	pkt.u.data.seg_offset = 2848;
	n = hpb_encode(&pkt, NULL, 1424, buf, sizeof(buf));
	assert_int_equal(homa_wire_decode(buf, n, &pkt), 0);
	assert_int_equal(pkt.u.data.offset, 2848);
	assert_int_equal(pkt.common.sequence, 999999);
}

static void test_decode__data_offset_from_sequence_checked_too(void **state)
{
	struct homa_packet pkt;

	(void)state;
	hpb_data(&pkt, 1, 2, 4, 5000, 0, 5000);
	pkt.common.sequence = 5000;
	assert_int_equal(decode_built(&pkt, 1), -HOMA_WIRE_ERR_BAD_OFFSET);
}

static void test_decode__data_retransmit_above_one(void **state)
{
	struct homa_packet pkt;

	(void)state;
	hpb_data(&pkt, 1, 2, 4, 100, 0, 100);
	pkt.u.data.retransmit = 2;
	assert_int_equal(decode_built(&pkt, 100), -HOMA_WIRE_ERR_BAD_RETRANSMIT);
	pkt.u.data.retransmit = 0xff;
	assert_int_equal(decode_built(&pkt, 100), -HOMA_WIRE_ERR_BAD_RETRANSMIT);
	pkt.u.data.retransmit = 1;
	assert_int_equal(decode_built(&pkt, 100), 0);
}

static void test_decode__data_incoming_clamped_to_message_length(void **state)
{
	uint8_t buf[BUF_CAP];
	struct homa_packet pkt;
	size_t n;

	(void)state;
	hpb_data(&pkt, 1, 2, 4, 100, 0, 0xffffffff);
	n = hpb_encode(&pkt, NULL, 100, buf, sizeof(buf));
	assert_int_equal(homa_wire_decode(buf, n, &pkt), 0);
	assert_int_equal(pkt.u.data.incoming, 100);
}

static void test_decode__data_ignores_pad_and_unused_common_bytes(void **state)
{
	uint8_t buf[BUF_CAP];
	struct homa_packet pkt;
	size_t n;

	(void)state;
	hpb_data(&pkt, 1, 2, 4, 100, 0, 100);
	n = hpb_encode(&pkt, NULL, 100, buf, sizeof(buf));
	memset(buf + HPB_OFF_DATA_PAD, 0xaa, 3);
	memset(buf + HPB_OFF_ACK3, 0xbb, 3);
	assert_int_equal(homa_wire_decode(buf, n, &pkt), 0);
	assert_int_equal(pkt.payload_len, 100);
	assert_int_equal(hpb_pattern_check(pkt.payload, 0, 100), 100);
}

static void test_decode__grant_priority_eight_or_more(void **state)
{
	struct homa_packet pkt;

	(void)state;
	hpb_grant(&pkt, 1, 2, 5, 10000, 8);
	assert_int_equal(decode_built(&pkt, 0), -HOMA_WIRE_ERR_BAD_PRIORITY);
	hpb_grant(&pkt, 1, 2, 5, 10000, 255);
	assert_int_equal(decode_built(&pkt, 0), -HOMA_WIRE_ERR_BAD_PRIORITY);
	hpb_grant(&pkt, 1, 2, 5, 10000, 7);
	assert_int_equal(decode_built(&pkt, 0), 0);
}

static void test_decode__resend_priority_eight_or_more(void **state)
{
	struct homa_packet pkt;

	(void)state;
	hpb_resend(&pkt, 1, 2, 5, 0, HOMA_RESEND_ALL, 8);
	assert_int_equal(decode_built(&pkt, 0), -HOMA_WIRE_ERR_BAD_PRIORITY);
	hpb_resend(&pkt, 1, 2, 5, 0, HOMA_RESEND_ALL, 7);
	assert_int_equal(decode_built(&pkt, 0), 0);
}

static void test_decode__ack_num_acks_above_five(void **state)
{
	struct homa_packet pkt;

	(void)state;
	hpb_ack(&pkt, 1, 2, 6, NULL, 6);
	assert_int_equal(decode_built(&pkt, 0), -HOMA_WIRE_ERR_BAD_NUM_ACKS);
	hpb_ack(&pkt, 1, 2, 6, NULL, 0xffff);
	assert_int_equal(decode_built(&pkt, 0), -HOMA_WIRE_ERR_BAD_NUM_ACKS);
}

static void test_decode__ack_five_entries(void **state)
{
	static const struct homa_ack acks[5] = {
	    {2, 100}, {4, 101}, {6, 102}, {8, 103}, {10, 104}};
	uint8_t buf[BUF_CAP];
	struct homa_packet pkt;
	size_t n;

	(void)state;
	hpb_ack(&pkt, 1, 2, 6, acks, 5);
	n = hpb_encode(&pkt, NULL, 0, buf, sizeof(buf));
	assert_int_equal(homa_wire_decode(buf, n, &pkt), 0);
	assert_int_equal(pkt.u.ack.num_acks, 5);
	assert_int_equal(pkt.u.ack.acks[4].client_id, 10);
	assert_int_equal(pkt.u.ack.acks[4].server_port, 104);
}

static void test_decode__cutoffs_entry_above_int_max(void **state)
{
	uint32_t c[8] = {0, 0, 0, 0, 1000000, 15000, 2800, 200};
	struct homa_packet pkt;

	(void)state;
	c[0] = 0x80000000u;
	hpb_cutoffs(&pkt, 1, 2, 7, c, 1);
	assert_int_equal(decode_built(&pkt, 0), -HOMA_WIRE_ERR_BAD_CUTOFFS);
	c[0] = 0x7fffffff; /* what the reference stores for level 0 */
	hpb_cutoffs(&pkt, 1, 2, 7, c, 1);
	assert_int_equal(decode_built(&pkt, 0), 0);
	c[7] = 0xffffffff;
	hpb_cutoffs(&pkt, 1, 2, 7, c, 1);
	assert_int_equal(decode_built(&pkt, 0), -HOMA_WIRE_ERR_BAD_CUTOFFS);
}

static void test_decode__cutoffs_version_zero(void **state)
{
	struct homa_packet pkt;

	(void)state;
	hpb_cutoffs(&pkt, 1, 2, 7, NULL, 0);
	assert_int_equal(decode_built(&pkt, 0), -HOMA_WIRE_ERR_BAD_CUTOFFS);
}

static void test_decode__cutoffs_rising_with_level(void **state)
{
	uint32_t c[8] = {0, 0, 0, 0, 1000000, 2800, 15000, 200};
	struct homa_packet pkt;

	(void)state;
	hpb_cutoffs(&pkt, 1, 2, 7, c, 3);
	assert_int_equal(decode_built(&pkt, 0), -HOMA_WIRE_ERR_BAD_CUTOFFS);
}

/* Zeros mark levels above num_priorities (or unused): they are skipped. */
static void test_decode__cutoffs_zeros_between_entries_allowed(void **state)
{
	uint32_t c[8] = {0x7fffffff, 1000000, 0, 5000, 5000, 0, 0, 0};
	struct homa_packet pkt;

	(void)state;
	hpb_cutoffs(&pkt, 1, 2, 7, c, 3);
	assert_int_equal(decode_built(&pkt, 0), 0);
	c[5] = 6000; /* rises past 5000 across the zero */
	hpb_cutoffs(&pkt, 1, 2, 7, c, 3);
	assert_int_equal(decode_built(&pkt, 0), -HOMA_WIRE_ERR_BAD_CUTOFFS);
}

static void test_decode__control_trailing_padding_accepted(void **state)
{
	uint8_t buf[BUF_CAP];
	struct homa_packet pkt;
	size_t n;

	(void)state;
	hpb_grant(&pkt, 1, 2, 5, 777, 3);
	n = hpb_encode(&pkt, NULL, 31, buf, sizeof(buf));
	assert_int_equal(n, 33 + 31);
	assert_int_equal(homa_wire_decode(buf, n, &pkt), 0);
	assert_int_equal(pkt.u.grant.offset, 777);
	assert_null(pkt.payload);
	assert_int_equal(pkt.payload_len, 0);
}

/* ---- Encode ------------------------------------------------------------- */

static void test_encode__refuses_too_small_buffer(void **state)
{
	uint8_t buf[BUF_CAP];
	struct homa_packet pkt;

	(void)state;
	for (int t = HOMA_PKT_TYPE_MIN; t <= HOMA_PKT_TYPE_MAX; t++) {
		size_t hdr = homa_wire_header_len((uint8_t)t);

		hpb_init(&pkt, (uint8_t)t, 1, 2, 3);
		memset(buf, 0x5a, sizeof(buf));
		assert_int_equal(homa_wire_encode(&pkt, buf, hdr - 1), 0);
		assert_int_equal(buf[0], 0x5a); /* nothing written */
		assert_int_equal(homa_wire_encode(&pkt, buf, hdr), hdr);
	}
	assert_int_equal(homa_wire_encode(&pkt, NULL, 100), 0);
}

static void test_encode__unknown_type_returns_zero(void **state)
{
	uint8_t buf[BUF_CAP];
	struct homa_packet pkt;

	(void)state;
	hpb_init(&pkt, 0x42, 1, 2, 3);
	assert_int_equal(homa_wire_encode(&pkt, buf, sizeof(buf)), 0);
}

static void test_init__reference_full_build_fields(void **state)
{
	struct homa_packet pkt;

	(void)state;
	memset(&pkt, 0xee, sizeof(pkt));
	homa_wire_init(&pkt, HOMA_PKT_DATA, 32768, 4000, 42);
	assert_common(&pkt, 32768, 4000, 0, HOMA_PKT_DATA, 0xe0, 42);
	assert_int_equal(pkt.common.checksum, 0);
	assert_int_equal(pkt.u.data.message_length, 0);
	assert_null(pkt.payload);
	assert_int_equal(pkt.payload_len, 0);
	homa_wire_init(&pkt, HOMA_PKT_GRANT, 4000, 32768, 43);
	assert_common(&pkt, 4000, 32768, 0, HOMA_PKT_GRANT, 0x50, 43);
}

/* What we send must match what the kernel sends for the same packet. */
static void test_encode__matches_kernel_grant_bytes(void **state)
{
	uint8_t ref[BUF_CAP], out[BUF_CAP];
	struct homa_packet pkt;
	size_t len = load_vector("grant.hex", ref, sizeof(ref));

	(void)state;
	hpb_grant(&pkt, 32770, 4000, 4, 21392, 0);
	assert_int_equal(hpb_encode(&pkt, NULL, 0, out, sizeof(out)), len);
	assert_memory_equal(out, ref, len);
}

static void test_encode__matches_kernel_data_bytes(void **state)
{
	uint8_t ref[BUF_CAP], out[BUF_CAP];
	struct homa_packet pkt;
	size_t len = load_vector("data_single_100.hex", ref, sizeof(ref));

	(void)state;
	hpb_data(&pkt, 32769, 4000, 2, 100, 0, 100);
	assert_int_equal(homa_wire_encode(&pkt, out, sizeof(out)), len);
	assert_memory_equal(out, ref, len);
}

/* ---- The test packet builder ----------------------------------------------- */

static void test_pktbuild__unknown_type_gets_bare_common_header(void **state)
{
	uint8_t buf[BUF_CAP];
	struct homa_packet pkt;

	(void)state;
	hpb_init(&pkt, 0x42, 7, 8, 9);
	assert_int_equal(hpb_encode(&pkt, NULL, 5, buf, sizeof(buf)), 28 + 5);
	assert_int_equal(buf[HPB_OFF_TYPE], 0x42);
	assert_int_equal(homa_get_u64(buf + HPB_OFF_SENDER_ID), 9);
	assert_int_equal(homa_wire_decode(buf, 33, &pkt), -HOMA_WIRE_ERR_BAD_TYPE);
}

static void test_pktbuild__refuses_payload_beyond_cap(void **state)
{
	uint8_t buf[100];
	struct homa_packet pkt;

	(void)state;
	hpb_data(&pkt, 1, 2, 4, 1000, 0, 1000);
	assert_int_equal(hpb_encode(&pkt, NULL, 45, buf, sizeof(buf)), 0);
	assert_int_equal(hpb_encode(&pkt, NULL, 44, buf, sizeof(buf)), 100);
	assert_int_equal(hpb_encode(&pkt, NULL, 0, buf, 55), 0);
}

static void test_pktbuild__pattern_catches_shifted_bytes(void **state)
{
	uint8_t a[300];

	(void)state;
	hpb_pattern_fill(a, 1000, sizeof(a));
	assert_int_equal(hpb_pattern_check(a, 1000, sizeof(a)), sizeof(a));
	assert_int_equal(hpb_pattern_check(a, 1001, sizeof(a)), 0);
	assert_int_equal(hpb_pattern_check(a + 1, 1000, 10), 0);
	a[123] ^= 1;
	assert_int_equal(hpb_pattern_check(a, 1000, sizeof(a)), 123);
}

static void test_pktbuild__data_payload_is_pattern_at_its_offset(void **state)
{
	uint8_t buf[BUF_CAP];
	struct homa_packet pkt;
	size_t n = hpb_build_data(buf, sizeof(buf), 1, 2, 4, 5000, 1424, 1000);

	(void)state;
	assert_int_equal(n, 56 + 1000);
	assert_int_equal(homa_wire_decode(buf, n, &pkt), 0);
	assert_int_equal(pkt.u.data.offset, 1424);
	assert_int_equal(hpb_pattern_check(pkt.payload, 1424, 1000), 1000);
}

static void test_pktbuild__ack_keeps_raw_count_copies_five(void **state)
{
	struct homa_ack acks[9];
	struct homa_packet pkt;

	(void)state;
	for (int i = 0; i < 9; i++)
		acks[i] = (struct homa_ack){(uint64_t)i + 100, (uint16_t)i};
	hpb_ack(&pkt, 1, 2, 3, acks, 9);
	assert_int_equal(pkt.u.ack.num_acks, 9);
	assert_int_equal(pkt.u.ack.acks[4].client_id, 104);
}

static void test_pktbuild__poke_writes_big_endian(void **state)
{
	uint8_t b[8] = {0};

	(void)state;
	hpb_poke_u32(b, 1, 0x01020304);
	assert_int_equal(b[1], 1);
	assert_int_equal(b[4], 4);
	hpb_poke_u16(b, 6, 0xabcd);
	assert_int_equal(b[6], 0xab);
	hpb_poke_u64(b, 0, 0x1122334455667788ull);
	assert_int_equal(b[0], 0x11);
	assert_int_equal(b[7], 0x88);
	hpb_poke_u8(b, 3, 0xee);
	assert_int_equal(b[3], 0xee);
}

/* ---- Property: round trip of random packets ---------------------------------- */

static uint64_t rng_next(uint64_t *s)
{
	/* xorshift64*: deterministic, good enough to spread field values. */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

static uint32_t rng_below(uint64_t *s, uint32_t n)
{
	return (uint32_t)(rng_next(s) % n);
}

static void random_data(struct homa_packet *p, uint64_t *s, size_t *payload_len)
{
	struct homa_data_hdr *d = &p->u.data;
	uint32_t room;

	d->message_length = 1 + rng_below(s, HOMA_MAX_MESSAGE_LENGTH);
	d->offset = rng_below(s, d->message_length);
	room = d->message_length - d->offset;
	*payload_len = 1 + rng_below(s, room < 1500 ? room : 1500);
	d->incoming = rng_below(s, d->message_length + 1);
	d->ack.client_id = rng_next(s);
	d->ack.server_port = (uint16_t)rng_next(s);
	d->cutoff_version = (uint16_t)rng_next(s);
	d->retransmit = (uint8_t)rng_below(s, 2);
	if (rng_below(s, 2)) {
		d->seg_offset = HOMA_SEG_OFFSET_IN_SEQUENCE;
		p->common.sequence = d->offset;
	} else {
		d->seg_offset = d->offset;
		p->common.sequence = (uint32_t)rng_next(s);
	}
}

static void random_cutoffs(struct homa_cutoffs_hdr *c, uint64_t *s)
{
	uint32_t prev = 0x7fffffff;

	c->unsched_cutoffs[0] = rng_below(s, 0x80000000u);
	for (int i = 1; i < HOMA_MAX_PRIORITIES; i++) {
		if (rng_below(s, 4) == 0) {
			c->unsched_cutoffs[i] = 0;
			continue;
		}
		prev = 1 + rng_below(s, prev);
		c->unsched_cutoffs[i] = prev;
	}
	c->cutoff_version = (uint16_t)(1 + rng_below(s, 0xffff));
}

static void random_packet(struct homa_packet *p, uint64_t *s, size_t *payload_len)
{
	uint8_t type = (uint8_t)(HOMA_PKT_TYPE_MIN + rng_below(s, HOMA_PKT_TYPE_COUNT));

	hpb_init(p, type, (uint16_t)rng_next(s), (uint16_t)(1 + rng_below(s, 0xffff)),
		 rng_next(s));
	p->common.doff = (uint8_t)rng_next(s);
	p->common.flags = (uint8_t)rng_next(s);
	p->common.window = (uint16_t)rng_next(s);
	p->common.checksum = (uint16_t)rng_next(s);
	p->common.urgent = (uint16_t)rng_next(s);
	*payload_len = 0;
	switch (type) {
	case HOMA_PKT_DATA:
		random_data(p, s, payload_len);
		break;
	case HOMA_PKT_GRANT:
		p->u.grant.offset = (uint32_t)rng_next(s);
		p->u.grant.priority = (uint8_t)rng_below(s, 8);
		break;
	case HOMA_PKT_RESEND:
		p->u.resend.offset = (uint32_t)rng_next(s);
		p->u.resend.length = (uint32_t)rng_next(s);
		p->u.resend.priority = (uint8_t)rng_below(s, 8);
		break;
	case HOMA_PKT_CUTOFFS:
		random_cutoffs(&p->u.cutoffs, s);
		break;
	case HOMA_PKT_ACK:
		p->u.ack.num_acks = (uint16_t)rng_below(s, 6);
		for (int i = 0; i < HOMA_MAX_ACKS_PER_PKT; i++) {
			p->u.ack.acks[i].client_id = rng_next(s);
			p->u.ack.acks[i].server_port = (uint16_t)rng_next(s);
		}
		break;
	default:
		break;
	}
}

static void test_roundtrip__random_packets_of_every_type(void **state)
{
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	int per_type[HOMA_PKT_TYPE_COUNT] = {0};

	(void)state;
	for (int iter = 0; iter < 5000; iter++) {
		uint8_t buf[BUF_CAP], again[BUF_CAP];
		struct homa_packet in, out;
		size_t payload_len, n;

		random_packet(&in, &seed, &payload_len);
		n = hpb_encode(&in, NULL, payload_len, buf, sizeof(buf));
		assert_int_equal(n, homa_wire_header_len(in.common.type) + payload_len);
		assert_int_equal(homa_wire_decode(buf, n, &out), 0);
		if (in.common.type == HOMA_PKT_DATA)
			in.payload_len = payload_len;
		assert_packets_equal(&in, &out);
		assert_int_equal(homa_wire_encode(&out, again, sizeof(again)),
				 n - payload_len);
		assert_memory_equal(again, buf, n - payload_len);
		per_type[in.common.type - HOMA_PKT_TYPE_MIN]++;
	}
	for (int t = 0; t < HOMA_PKT_TYPE_COUNT; t++)
		assert_true(per_type[t] > 100);
}

/* Random bytes: decode must never read out of bounds, and what decodes re-encodes. */
static void test_roundtrip__random_bytes_never_crash(void **state)
{
	uint64_t seed = 12345;
	int accepted = 0;

	(void)state;
	for (int iter = 0; iter < 20000; iter++) {
		size_t len = rng_below(&seed, 120);
		uint8_t *buf = malloc(len ? len : 1);
		struct homa_packet a, b;
		uint8_t again[BUF_CAP];

		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)rng_next(&seed);
		if (len > 11) /* aim most at real types so checks past the type run */
			buf[11] = (uint8_t)(0x10 + rng_below(&seed, 10));
		if (homa_wire_decode(buf, len, &a) == 0) {
			size_t n = homa_wire_encode(&a, again, sizeof(again));

			assert_true(n > 0);
			memcpy(again + n, a.payload ? a.payload : buf, a.payload_len);
			assert_int_equal(homa_wire_decode(again, n + a.payload_len, &b),
					 0);
			assert_packets_equal(&a, &b);
			accepted++;
		}
		free(buf);
	}
	assert_true(accepted > 0);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_vectors__every_file_has_a_test),
    cmocka_unit_test(test_vector__ack_empty),
    cmocka_unit_test(test_vector__cutoffs),
    cmocka_unit_test(test_vector__data_gso_segment),
    cmocka_unit_test(test_vector__data_main_offset_in_sequence),
    cmocka_unit_test(test_vector__data_response_with_ack),
    cmocka_unit_test(test_vector__data_single_100),
    cmocka_unit_test(test_vector__grant),
    cmocka_unit_test(test_vector__grant_main),
    cmocka_unit_test(test_vector__data_without_its_payload_is_empty_data),
    cmocka_unit_test(test_header_len__every_type),
    cmocka_unit_test(test_type_name__known_and_unknown),
    cmocka_unit_test(test_error_name__either_sign_and_out_of_range),
    cmocka_unit_test(test_decode__too_short),
    cmocka_unit_test(test_decode__bad_type),
    cmocka_unit_test(test_decode__short_header_for_every_type),
    cmocka_unit_test(test_decode__dport_zero_is_bad_port),
    cmocka_unit_test(test_decode__data_message_length_zero),
    cmocka_unit_test(test_decode__data_message_length_above_max),
    cmocka_unit_test(test_decode__data_without_payload),
    cmocka_unit_test(test_decode__data_offset_at_message_end),
    cmocka_unit_test(test_decode__data_overlaps_message_end),
    cmocka_unit_test(test_decode__data_offset_near_u32_max),
    cmocka_unit_test(test_decode__data_seg_offset_wins_over_sequence),
    cmocka_unit_test(test_decode__data_offset_from_sequence_checked_too),
    cmocka_unit_test(test_decode__data_retransmit_above_one),
    cmocka_unit_test(test_decode__data_incoming_clamped_to_message_length),
    cmocka_unit_test(test_decode__data_ignores_pad_and_unused_common_bytes),
    cmocka_unit_test(test_decode__grant_priority_eight_or_more),
    cmocka_unit_test(test_decode__resend_priority_eight_or_more),
    cmocka_unit_test(test_decode__ack_num_acks_above_five),
    cmocka_unit_test(test_decode__ack_five_entries),
    cmocka_unit_test(test_decode__cutoffs_entry_above_int_max),
    cmocka_unit_test(test_decode__cutoffs_version_zero),
    cmocka_unit_test(test_decode__cutoffs_rising_with_level),
    cmocka_unit_test(test_decode__cutoffs_zeros_between_entries_allowed),
    cmocka_unit_test(test_decode__control_trailing_padding_accepted),
    cmocka_unit_test(test_encode__refuses_too_small_buffer),
    cmocka_unit_test(test_encode__unknown_type_returns_zero),
    cmocka_unit_test(test_init__reference_full_build_fields),
    cmocka_unit_test(test_encode__matches_kernel_grant_bytes),
    cmocka_unit_test(test_encode__matches_kernel_data_bytes),
    cmocka_unit_test(test_pktbuild__unknown_type_gets_bare_common_header),
    cmocka_unit_test(test_pktbuild__refuses_payload_beyond_cap),
    cmocka_unit_test(test_pktbuild__pattern_catches_shifted_bytes),
    cmocka_unit_test(test_pktbuild__data_payload_is_pattern_at_its_offset),
    cmocka_unit_test(test_pktbuild__ack_keeps_raw_count_copies_five),
    cmocka_unit_test(test_pktbuild__poke_writes_big_endian),
    cmocka_unit_test(test_roundtrip__random_packets_of_every_type),
    cmocka_unit_test(test_roundtrip__random_bytes_never_crash),
};

HOMA_TEST_MAIN(tests)
