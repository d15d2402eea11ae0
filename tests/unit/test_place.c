/*
 * test_place.c - receive placement: homa_engine_rx_place() says where a DATA
 * packet's payload would go, homa_engine_input_placed() takes a packet whose
 * payload was received there.
 *
 * Host 1 runs a server socket; host 0 is switched off and only lends its
 * address: the tests speak for it with crafted packets (grants the server
 * sends it vanish). A "placed" delivery does what the runtime does: ask for
 * the spans, write the payload into them (the scattering recvmsg), hand the
 * header over.
 */
#include <stdlib.h>
#include <string.h>

#include "homa_pktbuild.h"
#include "homa_test.h"
#include "homa_testnet.h"

#define MS	    1000000ull
#define SERVER_PORT 99
#define CPORT	    40000
#define CLIENT_ID   1000 /* the client's (even) id; the server's is 1001 */
#define MSG_LEN	    200000
#define MAX_PKT	    (HOMA_DATA_HDR_LEN + 65000)

struct fix {
	struct htn *net;
	struct htn_sock *srv;
	struct homa_engine *e; /* the server's */
	struct homa_addr cli;  /* host 0's address */
	uint8_t *buf;
};

static void fix_init(struct fix *f)
{
	f->net = htn_new(2, NULL, 1000, 25000);
	f->net->hosts[0].dead = 1;
	f->srv = htn_sock(f->net, 1, SERVER_PORT, 64);
	f->e = f->net->hosts[1].engine;
	f->cli = f->net->hosts[0].addr;
	f->buf = malloc(MAX_PKT);
}

static void fix_done(struct fix *f)
{
	free(f->buf);
	assert_int_equal(htn_free(f->net), 0);
}

/* DATA [off, off+len) of the client's MSG_LEN-byte request, in f->buf. */
static size_t data(struct fix *f, uint32_t off, uint32_t len)
{
	size_t n = hpb_build_data(f->buf, MAX_PKT, CPORT, SERVER_PORT, CLIENT_ID, MSG_LEN,
				  off, len);

	assert_int_equal(n, HOMA_DATA_HDR_LEN + len);
	return n;
}

static int place(struct fix *f, size_t n, struct homa_place *pl)
{
	return homa_engine_rx_place(f->e, &f->cli, f->buf, n, n, pl);
}

/* The normal path. */
static void input(struct fix *f, uint32_t off, uint32_t len)
{
	size_t n = data(f, off, len);

	homa_engine_input(f->e, &f->cli, f->buf, n, f->net->now);
}

/* The placed path: spans asked for, payload scattered into them, header in. */
static void input_placed(struct fix *f, uint32_t off, uint32_t len, unsigned int spans)
{
	size_t n = data(f, off, len), done = HOMA_DATA_HDR_LEN;
	struct homa_place pl;

	assert_int_equal(place(f, n, &pl), (int)spans);
	assert_int_equal(pl.num_spans, spans);
	assert_int_equal(pl.hdr_len, HOMA_DATA_HDR_LEN);
	assert_int_equal(pl.payload_len, len);
	for (unsigned int i = 0; i < pl.num_spans; i++) {
		uint8_t *region = f->srv->region;

		assert_true(pl.spans[i].base >= region);
		assert_true(pl.spans[i].base + pl.spans[i].len <=
			    region + f->srv->region_len);
		memcpy(pl.spans[i].base, f->buf + done, pl.spans[i].len);
		done += pl.spans[i].len;
	}
	assert_int_equal(done, n);
	homa_engine_input_placed(f->e, &f->cli, f->buf, HOMA_DATA_HDR_LEN, &pl,
				 f->net->now);
}

/* The server application takes the request; its bytes must be the pattern. */
static void expect_request(struct fix *f)
{
	struct homa_recv_msg m;
	uint8_t *got = malloc(MSG_LEN);

	assert_int_equal(htn_recv(f->net, f->srv, 0, &m, got, MSG_LEN), 0);
	assert_int_equal(m.error, 0);
	assert_int_equal(m.length, MSG_LEN);
	assert_int_equal(hpb_pattern_check(got, 0, MSG_LEN), MSG_LEN);
	free(got);
}

static void test_place__unknown_rpc_port_or_first_packet_not_placed(void **state)
{
	struct homa_place pl;
	struct fix f;
	size_t n;

	(void)state;
	fix_init(&f);
	/* No RPC yet: the first packet creates it and gets the buffers. */
	n = data(&f, 0, 10000);
	assert_int_equal(place(&f, n, &pl), 0);
	/* Unknown port. */
	hpb_poke_u16(f.buf, HPB_OFF_DPORT, SERVER_PORT + 1);
	assert_int_equal(place(&f, n, &pl), 0);
	/* A response for a client RPC this host never sent. */
	n = hpb_build_data(f.buf, MAX_PKT, CPORT, SERVER_PORT, CLIENT_ID + 1, MSG_LEN, 0,
			   1000);
	assert_int_equal(place(&f, n, &pl), 0);
	fix_done(&f);
}

static void test_place__pure_changes_nothing(void **state)
{
	struct homa_stats before, after;
	struct homa_place pl;
	struct fix f;
	size_t mem, n;

	(void)state;
	fix_init(&f);
	input(&f, 0, 10000);
	before = *homa_engine_stats(f.e);
	mem = homa_engine_mem_in_use(f.e);
	n = data(&f, 30000, 10000);
	assert_int_equal(place(&f, n, &pl), 1);
	assert_int_equal(place(&f, n, &pl), 1); /* again: same answer */
	after = *homa_engine_stats(f.e);
	assert_memory_equal(&before, &after, sizeof(before));
	assert_int_equal(homa_engine_mem_in_use(f.e), mem);
	fix_done(&f);
}

static void test_place__received_bytes_never_placed(void **state)
{
	struct homa_place pl;
	struct fix f;

	(void)state;
	fix_init(&f);
	input(&f, 0, 10000);
	input(&f, 30000, 10000); /* leaves a gap [10000, 30000) */
	/* Duplicates and partial overlaps, below and inside recv_end. */
	assert_int_equal(place(&f, data(&f, 0, 10000), &pl), 0);
	assert_int_equal(place(&f, data(&f, 5000, 10000), &pl), 0);
	assert_int_equal(place(&f, data(&f, 25000, 10000), &pl), 0);
	assert_int_equal(place(&f, data(&f, 35000, 10000), &pl), 0);
	assert_int_equal(place(&f, data(&f, 30000, 10000), &pl), 0);
	/* Wholly missing: inside the gap, filling it exactly, past recv_end. */
	assert_int_equal(place(&f, data(&f, 12000, 1000), &pl), 1);
	assert_int_equal(place(&f, data(&f, 10000, 20000), &pl), 1);
	assert_int_equal(place(&f, data(&f, 40000, 10000), &pl), 1);
	assert_int_equal(place(&f, data(&f, 50000, 10000), &pl), 1);
	fix_done(&f);
}

static void test_place__straddling_bpages_then_exact_delivery(void **state)
{
	const struct homa_stats *st;
	struct homa_place pl;
	struct fix f;
	uint32_t off;

	(void)state;
	fix_init(&f);
	input(&f, 0, 40000);
	/* [60000, 70000) crosses the bpage boundary at 65536. */
	assert_int_equal(place(&f, data(&f, 60000, 10000), &pl), 2);
	assert_int_equal(pl.spans[0].len, 65536 - 60000);
	assert_int_equal(pl.spans[1].len, 70000 - 65536);
	/* Out of order, every packet placed, some across boundaries. */
	input_placed(&f, 60000, 10000, 2);
	input_placed(&f, 40000, 20000, 1);
	for (off = 70000; off < MSG_LEN; off += 65000) {
		uint32_t len = MSG_LEN - off < 65000 ? MSG_LEN - off : 65000;
		unsigned int spans = (off >> 16) != ((off + len - 1) >> 16) ? 2 : 1;

		input_placed(&f, off, len, spans);
	}
	st = homa_engine_stats(f.e);
	assert_int_equal(st->rx_data, 1 + 2 + 2);
	assert_int_equal(st->rx_data_bytes, MSG_LEN);
	assert_int_equal(st->server_requests_done, 1);
	/* Complete: ready for the application, nothing more placed. */
	assert_int_equal(place(&f, data(&f, 100000, 1000), &pl), 0);
	expect_request(&f);
	/* In service now, its bpages handed back: still nothing. */
	assert_int_equal(place(&f, data(&f, 100000, 1000), &pl), 0);
	fix_done(&f);
}

static void test_place__hostile_headers_get_no_span(void **state)
{
	struct homa_addr other;
	struct homa_place pl;
	struct fix f;
	size_t n;

	(void)state;
	fix_init(&f);
	input(&f, 0, 10000);
	n = data(&f, 20000, 10000);
	assert_int_equal(place(&f, n, &pl), 1);
	/* Too little header, or no payload. */
	assert_int_equal(homa_engine_rx_place(f.e, &f.cli, f.buf, 55, n, &pl), 0);
	assert_int_equal(homa_engine_rx_place(f.e, &f.cli, f.buf, n, 56, &pl), 0);
	assert_int_equal(homa_engine_rx_place(f.e, &f.cli, f.buf, 10, 10, &pl), 0);
	/* A claimed length running past the message. */
	assert_int_equal(homa_engine_rx_place(f.e, &f.cli, f.buf, n,
					      HOMA_DATA_HDR_LEN + MSG_LEN - 19999, &pl),
			 0);
	assert_int_equal(homa_engine_rx_place(f.e, &f.cli, f.buf, n, (size_t)-1, &pl), 0);
	/* Offsets: past the end, wrapping. */
	hpb_poke_u32(f.buf, HPB_OFF_SEQUENCE, MSG_LEN - 100);
	assert_int_equal(place(&f, n, &pl), 0);
	hpb_poke_u32(f.buf, HPB_OFF_SEQUENCE, 0xfffffff0u);
	assert_int_equal(place(&f, n, &pl), 0);
	hpb_poke_u32(f.buf, HPB_OFF_SEQUENCE, 20000);
	/* The message length changed. */
	hpb_poke_u32(f.buf, HPB_OFF_DATA_MESSAGE_LENGTH, MSG_LEN + 1);
	assert_int_equal(place(&f, n, &pl), 0);
	hpb_poke_u32(f.buf, HPB_OFF_DATA_MESSAGE_LENGTH, 0);
	assert_int_equal(place(&f, n, &pl), 0);
	hpb_poke_u32(f.buf, HPB_OFF_DATA_MESSAGE_LENGTH, MSG_LEN);
	/* Another type with DATA's size; a wrong port or source. */
	hpb_poke_u8(f.buf, HPB_OFF_TYPE, HOMA_PKT_GRANT);
	assert_int_equal(place(&f, n, &pl), 0);
	hpb_poke_u8(f.buf, HPB_OFF_TYPE, HOMA_PKT_DATA);
	hpb_poke_u16(f.buf, HPB_OFF_SPORT, CPORT + 1);
	assert_int_equal(place(&f, n, &pl), 0);
	hpb_poke_u16(f.buf, HPB_OFF_SPORT, CPORT);
	homa_addr_from_ipv4(&other, 0x0a0000fe);
	assert_int_equal(homa_engine_rx_place(f.e, &other, f.buf, n, n, &pl), 0);
	assert_int_equal(place(&f, n, &pl), 1); /* all restored */
	fix_done(&f);
}

/* Spans that do not add up are an embedder bug: dropped and counted. */
static void test_place__inconsistent_spans_dropped(void **state)
{
	struct homa_place pl;
	struct fix f;
	uint64_t bad;
	size_t n;

	(void)state;
	fix_init(&f);
	input(&f, 0, 10000);
	n = data(&f, 20000, 10000);
	assert_int_equal(place(&f, n, &pl), 1);
	bad = homa_engine_stats(f.e)->drop_too_short;
	pl.spans[0].len--;
	homa_engine_input_placed(f.e, &f.cli, f.buf, HOMA_DATA_HDR_LEN, &pl, f.net->now);
	assert_int_equal(homa_engine_stats(f.e)->drop_too_short, bad + 1);
	assert_int_equal(homa_engine_stats(f.e)->rx_data, 1);
	fix_done(&f);
}

/* Payload handed over from anywhere (here: the packet buffer) is copied. */
static void test_place__spans_outside_the_region_are_copied(void **state)
{
	struct homa_place pl;
	struct fix f;
	uint32_t off;

	(void)state;
	fix_init(&f);
	input(&f, 0, 10000);
	for (off = 10000; off < MSG_LEN; off += 50000) {
		uint32_t len = MSG_LEN - off < 50000 ? MSG_LEN - off : 50000;
		size_t n = data(&f, off, len);

		pl.hdr_len = HOMA_DATA_HDR_LEN;
		pl.payload_len = len;
		pl.num_spans = 2;
		pl.spans[0].base = f.buf + HOMA_DATA_HDR_LEN;
		pl.spans[0].len = 7;
		pl.spans[1].base = f.buf + HOMA_DATA_HDR_LEN + 7;
		pl.spans[1].len = n - HOMA_DATA_HDR_LEN - 7;
		homa_engine_input_placed(f.e, &f.cli, f.buf, HOMA_DATA_HDR_LEN, &pl,
					 f.net->now);
	}
	expect_request(&f);
	fix_done(&f);
}

/* A placed packet lost after its bytes were written (loss injection, or the
 * read returned another datagram): the real data overwrites them later. */
static void test_place__bytes_of_a_lost_placed_packet_are_overwritten(void **state)
{
	struct homa_place pl;
	struct fix f;
	size_t n;

	(void)state;
	fix_init(&f);
	input(&f, 0, 40000);
	n = data(&f, 40000, 60000);
	assert_int_equal(place(&f, n, &pl), 2);
	memset(pl.spans[0].base, 0xee, pl.spans[0].len); /* garbage, never input */
	memset(pl.spans[1].base, 0xee, pl.spans[1].len);
	input(&f, 100000, 60000);
	input(&f, 40000, 60000); /* the retransmission, normal path */
	input_placed(&f, 160000, 40000, 2);
	expect_request(&f);
	fix_done(&f);
}

/* The split decode validates exactly like the whole-packet decode. */
static void test_place__split_decode_matches_whole_decode(void **state)
{
	struct homa_packet a, b;
	struct fix f;
	size_t n;

	(void)state;
	fix_init(&f);
	n = data(&f, 30000, 1000);
	assert_int_equal(homa_wire_decode(f.buf, n, &a), 0);
	assert_int_equal(homa_wire_decode_data_split(f.buf, HOMA_DATA_HDR_LEN, 1000, &b),
			 0);
	assert_null(b.payload);
	assert_int_equal(b.payload_len, 1000);
	b.payload = a.payload;
	assert_memory_equal(&a, &b, sizeof(a));
	for (uint32_t len = 0; len < 200000; len += 997) {
		int whole = homa_wire_decode(f.buf, HOMA_DATA_HDR_LEN + len, &a);

		if (HOMA_DATA_HDR_LEN + len > n)
			break;
		assert_int_equal(
		    homa_wire_decode_data_split(f.buf, HOMA_DATA_HDR_LEN, len, &b),
		    whole);
	}
	assert_int_equal(
	    homa_wire_decode_data_split(f.buf, HOMA_DATA_HDR_LEN, 170001, &b),
	    -HOMA_WIRE_ERR_BAD_OFFSET);
	assert_int_equal(
	    homa_wire_decode_data_split(f.buf, HOMA_DATA_HDR_LEN - 1, 10, &b),
	    -HOMA_WIRE_ERR_SHORT_HEADER);
	assert_int_equal(homa_wire_decode_data_split(f.buf, 10, 10, &b),
			 -HOMA_WIRE_ERR_TOO_SHORT);
	assert_int_equal(homa_wire_decode_data_split(NULL, 56, 10, &b),
			 -HOMA_WIRE_ERR_TOO_SHORT);
	hpb_poke_u8(f.buf, HPB_OFF_TYPE, HOMA_PKT_ACK);
	assert_int_equal(homa_wire_decode_data_split(f.buf, HOMA_DATA_HDR_LEN, 10, &b),
			 -HOMA_WIRE_ERR_BAD_TYPE);
	fix_done(&f);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_place__unknown_rpc_port_or_first_packet_not_placed),
    cmocka_unit_test(test_place__pure_changes_nothing),
    cmocka_unit_test(test_place__received_bytes_never_placed),
    cmocka_unit_test(test_place__straddling_bpages_then_exact_delivery),
    cmocka_unit_test(test_place__hostile_headers_get_no_span),
    cmocka_unit_test(test_place__inconsistent_spans_dropped),
    cmocka_unit_test(test_place__spans_outside_the_region_are_copied),
    cmocka_unit_test(test_place__bytes_of_a_lost_placed_packet_are_overwritten),
    cmocka_unit_test(test_place__split_decode_matches_whole_decode),
};

HOMA_TEST_MAIN(tests)
