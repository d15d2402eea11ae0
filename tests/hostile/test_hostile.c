/*
 * test_hostile.c - a hostile peer against live engines.
 *
 * Three hosts on the test network: host 0 is an honest client, host 1 a
 * server (sockets on SERVER_PORT and SERVER_PORT2), host 2 the attacker, who
 * speaks only through crafted packets (tests/common/homa_pktbuild.h). Its own
 * engine is switched off, so everything the server answers it is seen by the
 * network hook and then vanishes. In every case a correct "bystander" RPC runs
 * beside the attack and must complete, on time and byte for byte, and the
 * attack must show up in the counter that names it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "homa_pktbuild.h"
#include "homa_test.h"
#include "homa_testnet.h"

#define US	     1000ull
#define MS	     1000000ull
#define SERVER_PORT  99
#define SERVER_PORT2 100
#define ATTACKER     2
#define APORT	     40000 /* the attacker's source port */

struct fix {
	struct htn *net;
	struct htn_sock *cli;  /* host 0 */
	struct htn_sock *srv;  /* host 1, SERVER_PORT */
	struct htn_sock *srv2; /* host 1, SERVER_PORT2 */
	struct homa_endpoint srv_ep;
	/* What reached the attacker (host 2), seen by the hook. */
	uint64_t to_attacker[HOMA_PKT_TYPE_COUNT];
	uint64_t data_bytes_to_attacker;
	uint32_t max_data_end_to_attacker;
	uint64_t attacker_requests; /* attacker requests the server app saw */
	/* The bystander RPC. */
	uint64_t by_id;
	size_t by_req, by_resp;
	uint64_t by_start;
	int by_served;
};

static enum htn_verdict hook(void *ctx, struct htn *net, int from, int to,
			     const struct homa_packet *pkt, uint64_t *delay_ns)
{
	struct fix *f = ctx;

	(void)net;
	(void)from;
	(void)delay_ns;
	if (to != ATTACKER)
		return HTN_PASS;
	f->to_attacker[pkt->common.type - HOMA_PKT_TYPE_MIN]++;
	if (pkt->common.type == HOMA_PKT_DATA) {
		uint32_t end = pkt->u.data.offset + (uint32_t)pkt->payload_len;

		f->data_bytes_to_attacker += pkt->payload_len;
		if (end > f->max_data_end_to_attacker)
			f->max_data_end_to_attacker = end;
	}
	return HTN_PASS;
}

static void fix_init_with(struct fix *f, const struct homa_settings *s, int hosts,
			  uint32_t bpages)
{
	int h;

	memset(f, 0, sizeof(*f));
	f->net = htn_new(hosts, s, 1000, 25000);
	f->cli = htn_sock(f->net, 0, 0, 64);
	f->srv = htn_sock(f->net, 1, SERVER_PORT, bpages);
	f->srv2 = htn_sock(f->net, 1, SERVER_PORT2, 64);
	f->srv_ep = htn_endpoint(f->net, 1, f->srv);
	for (h = ATTACKER; h < hosts; h++)
		f->net->hosts[h].dead = 1;
	f->net->hook = hook;
	f->net->hook_ctx = f;
}

static void fix_init(struct fix *f)
{
	fix_init_with(f, NULL, 3, 64);
}

static void fix_done(struct fix *f)
{
	assert_int_equal(htn_free(f->net), 0);
}

static const struct homa_stats *srv_stats(struct fix *f)
{
	return homa_engine_stats(f->net->hosts[1].engine);
}

static const struct homa_stats *cli_stats(struct fix *f)
{
	return homa_engine_stats(f->net->hosts[0].engine);
}

/* Injects bytes from host `from` to host `to` and lets the network settle. */
static void inject(struct fix *f, int from, int to, const uint8_t *b, size_t n)
{
	assert_true(n > 0);
	htn_inject(f->net, from, to, b, n);
}

static void inject_pkt(struct fix *f, int to, struct homa_packet *p)
{
	uint8_t buf[2048];
	size_t n = hpb_encode(p, NULL, p->payload_len, buf, sizeof(buf));

	inject(f, ATTACKER, to, buf, n);
}

/* A DATA packet of the attacker toward the server for its own request id. */
static void attack_data(struct fix *f, uint64_t id, uint32_t msg_len, uint32_t off,
			uint32_t len)
{
	uint8_t buf[2048];
	size_t n =
	    hpb_build_data(buf, sizeof(buf), APORT, SERVER_PORT, id, msg_len, off, len);

	inject(f, ATTACKER, 1, buf, n);
}

/* ------------------------------------------------------------ bystander */

static int readable(void *ctx)
{
	return homa_sock_readable(((struct htn_sock *)ctx)->sock);
}

/* Starts the honest RPC: a request long enough to need grants. */
static void by_start(struct fix *f, size_t req, size_t resp)
{
	uint8_t *b = malloc(req);
	struct homa_iov iov = {b, req};

	hpb_pattern_fill(b, 0, req);
	f->by_req = req;
	f->by_resp = resp;
	f->by_start = f->net->now;
	f->by_served = 0;
	assert_int_equal(homa_sock_send_request(f->cli->sock, &f->srv_ep, &iov, 1, 5, 0,
						f->net->now, &f->by_id),
			 0);
	free(b);
}

static void reply_pattern(struct fix *f, const struct homa_recv_msg *m, size_t len)
{
	uint8_t *b = malloc(len);
	struct homa_iov iov = {b, len};

	hpb_pattern_fill(b, 0, len);
	assert_int_equal(
	    homa_sock_reply(f->srv->sock, m->id, &m->peer, &iov, 1, f->net->now), 0);
	free(b);
}

static void reply_pattern(struct fix *f, const struct homa_recv_msg *m, size_t len);

/* The server application got the bystander's request: check it, answer it. */
static void by_serve(struct fix *f, const struct homa_recv_msg *m, const uint8_t *got)
{
	assert_int_equal(m->length, f->by_req);
	assert_int_equal(hpb_pattern_check(got, 0, m->length), m->length);
	reply_pattern(f, m, f->by_resp);
	f->by_served = 1;
}

static int from_bystander(const struct fix *f, const struct homa_recv_msg *m)
{
	return homa_addr_equal(&m->peer.addr, &f->net->hosts[0].addr);
}

/*
 * Serves requests at the server until the bystander's has been answered:
 * the attacker's complete requests get a reply of attack_resp bytes (0: they
 * are left in service). Then waits for the bystander's response at the
 * client and checks it. Everything within limit_ns of its start.
 */
static void by_finish(struct fix *f, size_t attack_resp, uint64_t limit_ns)
{
	struct homa_recv_msg m;
	uint8_t *got = malloc(f->by_req > f->by_resp ? f->by_req : f->by_resp);
	while (!f->by_served) {
		assert_true(
		    htn_run_until(f->net, readable, f->srv, f->by_start + limit_ns));
		assert_int_equal(htn_recv(f->net, f->srv, 0, &m, got, f->by_req), 0);
		assert_int_equal(m.error, 0);
		if (from_bystander(f, &m)) {
			by_serve(f, &m, got);
		} else {
			f->attacker_requests++;
			if (attack_resp != 0)
				reply_pattern(f, &m, attack_resp);
		}
	}
	assert_true(htn_run_until(f->net, readable, f->cli, f->by_start + limit_ns));
	assert_int_equal(htn_recv(f->net, f->cli, 0, &m, got, f->by_resp), 0);
	assert_int_equal(m.error, 0);
	assert_int_equal(m.id, f->by_id);
	assert_int_equal(m.completion_cookie, 5);
	assert_int_equal(m.length, f->by_resp);
	assert_int_equal(hpb_pattern_check(got, 0, m.length), m.length);
	free(got);
}

/* Takes every request the attacker completed and answers it (or not). */
static void serve_attacker(struct fix *f, size_t resp)
{
	struct homa_recv_msg m;
	uint8_t *got = malloc(f->by_req + 1);

	while (htn_recv(f->net, f->srv, 0, &m, got, f->by_req) == 0) {
		assert_int_equal(m.error, 0);
		if (from_bystander(f, &m)) {
			by_serve(f, &m, got);
			continue;
		}
		f->attacker_requests++;
		if (resp != 0)
			reply_pattern(f, &m, resp);
	}
	free(got);
}

/* --------------------------------------------------- fields out of range */

static void test_data__every_bad_field_dropped_and_counted(void **state)
{
	struct fix f;
	uint8_t buf[2048];
	size_t n;
	const struct homa_stats *st;

	(void)state;
	fix_init(&f);
	by_start(&f, 60000, 30000);
	htn_run_for(f.net, 2 * US);
	/* message_length 0 and above the maximum. */
	n = hpb_build_data(buf, sizeof(buf), APORT, SERVER_PORT, 10, 1000, 0, 100);
	hpb_poke_u32(buf, HPB_OFF_DATA_MESSAGE_LENGTH, 0);
	inject(&f, ATTACKER, 1, buf, n);
	hpb_poke_u32(buf, HPB_OFF_DATA_MESSAGE_LENGTH, HOMA_MAX_MESSAGE_LENGTH + 1);
	inject(&f, ATTACKER, 1, buf, n);
	hpb_poke_u32(buf, HPB_OFF_DATA_MESSAGE_LENGTH, 0xffffffffu);
	inject(&f, ATTACKER, 1, buf, n);
	/* Offsets: at the end, straddling it, near 2^32 (wrap), through seg.offset. */
	n = hpb_build_data(buf, sizeof(buf), APORT, SERVER_PORT, 12, 1000, 1000, 100);
	inject(&f, ATTACKER, 1, buf, n);
	n = hpb_build_data(buf, sizeof(buf), APORT, SERVER_PORT, 12, 1000, 950, 100);
	inject(&f, ATTACKER, 1, buf, n);
	n = hpb_build_data(buf, sizeof(buf), APORT, SERVER_PORT, 12, 1000, 0, 100);
	hpb_poke_u32(buf, HPB_OFF_SEQUENCE, 0xffffffc0u);
	inject(&f, ATTACKER, 1, buf, n);
	hpb_poke_u32(buf, HPB_OFF_DATA_SEG_OFFSET, 0xfffffffeu);
	inject(&f, ATTACKER, 1, buf, n);
	/* No payload. */
	n = hpb_build_data(buf, sizeof(buf), APORT, SERVER_PORT, 14, 1000, 0, 100);
	inject(&f, ATTACKER, 1, buf, HOMA_DATA_HDR_LEN);
	/* retransmit flag 2 and 255. */
	hpb_poke_u8(buf, HPB_OFF_DATA_RETRANSMIT, 2);
	inject(&f, ATTACKER, 1, buf, n);
	hpb_poke_u8(buf, HPB_OFF_DATA_RETRANSMIT, 255);
	inject(&f, ATTACKER, 1, buf, n);
	/* Destination port 0. */
	n = hpb_build_data(buf, sizeof(buf), APORT, 0, 16, 1000, 0, 100);
	inject(&f, ATTACKER, 1, buf, n);
	/* Unchecked fields hold garbage: accepted (a 1-packet request). */
	n = hpb_build_data(buf, sizeof(buf), APORT, SERVER_PORT, 18, 100, 0, 100);
	hpb_poke_u8(buf, HPB_OFF_DOFF, 0xff);
	hpb_poke_u8(buf, HPB_OFF_FLAGS, 0xff);
	hpb_poke_u16(buf, HPB_OFF_WINDOW, 0xffff);
	hpb_poke_u16(buf, HPB_OFF_CHECKSUM, 0xffff);
	hpb_poke_u16(buf, HPB_OFF_URGENT, 0);
	hpb_poke_u8(buf, HPB_OFF_ACK3, 0xff);
	hpb_poke_u8(buf, HPB_OFF_DATA_PAD, 0xff);
	hpb_poke_u32(buf, HPB_OFF_DATA_INCOMING, 0xffffffffu);
	hpb_poke_u16(buf, HPB_OFF_DATA_CUTOFF_VERSION, 0xffff);
	inject(&f, ATTACKER, 1, buf, n);
	by_finish(&f, 10, 50 * MS);
	st = srv_stats(&f);
	assert_int_equal(st->drop_bad_length, 3);
	assert_int_equal(st->drop_bad_offset, 4);
	assert_int_equal(st->drop_empty_data, 1);
	assert_int_equal(st->drop_bad_retransmit, 2);
	assert_int_equal(st->drop_bad_port, 1);
	assert_int_equal(f.attacker_requests, 1);
	fix_done(&f);
}

static void test_common__short_unknown_type_and_truncated_headers(void **state)
{
	static const uint8_t bad_types[] = {0x00, 0x0f, 0x19, 0x20, 0xff};
	struct fix f;
	struct homa_packet p;
	uint8_t buf[256];
	size_t n, i;
	uint8_t t;

	(void)state;
	fix_init(&f);
	by_start(&f, 60000, 30000);
	htn_run_for(f.net, 2 * US);
	memset(buf, 0xa5, sizeof(buf));
	for (n = 0; n < HOMA_COMMON_HDR_LEN; n++)
		htn_inject(f.net, ATTACKER, 1, buf, n);
	for (i = 0; i < sizeof(bad_types); i++) {
		hpb_init(&p, bad_types[i], APORT, SERVER_PORT, 20);
		n = hpb_encode(&p, NULL, 0, buf, sizeof(buf));
		inject(&f, ATTACKER, 1, buf, n);
	}
	/* Every known type, one byte short of its header. */
	for (t = HOMA_PKT_TYPE_MIN; t <= HOMA_PKT_TYPE_MAX; t++) {
		size_t hl = homa_wire_header_len(t);

		hpb_init(&p, t, APORT, SERVER_PORT, 21);
		n = hpb_encode(&p, NULL, t == HOMA_PKT_DATA ? 10 : 0, buf, sizeof(buf));
		assert_true(n >= hl);
		if (hl > HOMA_COMMON_HDR_LEN)
			inject(&f, ATTACKER, 1, buf, hl - 1);
	}
	by_finish(&f, 10, 50 * MS);
	assert_int_equal(srv_stats(&f)->drop_too_short, HOMA_COMMON_HDR_LEN);
	assert_int_equal(srv_stats(&f)->drop_bad_type, sizeof(bad_types));
	/* DATA, GRANT, RESEND, CUTOFFS, ACK have more than the common header. */
	assert_int_equal(srv_stats(&f)->drop_short_header, 5);
	fix_done(&f);
}

static void test_control__bad_priority_num_acks_and_cutoffs(void **state)
{
	struct fix f;
	struct homa_packet p;
	uint32_t cut[HOMA_MAX_PRIORITIES] = {0, 0, 0, 0, 1000000, 15000, 2800, 200};
	struct homa_ack acks[HOMA_MAX_ACKS_PER_PKT];
	const struct homa_stats *st;

	(void)state;
	fix_init(&f);
	memset(acks, 0, sizeof(acks));
	by_start(&f, 60000, 30000);
	htn_run_for(f.net, 2 * US);
	/* Priorities 8 and 255 in GRANT and RESEND. */
	hpb_grant(&p, APORT, SERVER_PORT, 30, 1000, 8);
	inject_pkt(&f, 1, &p);
	p.u.grant.priority = 255;
	inject_pkt(&f, 1, &p);
	hpb_resend(&p, APORT, SERVER_PORT, 30, 0, 100, 8);
	inject_pkt(&f, 1, &p);
	p.u.resend.priority = 0x80;
	inject_pkt(&f, 1, &p);
	/* ACK with 6 and 65535 entries. */
	hpb_ack(&p, APORT, SERVER_PORT, 30, acks, 6);
	inject_pkt(&f, 1, &p);
	p.u.ack.num_acks = 0xffff;
	inject_pkt(&f, 1, &p);
	/* CUTOFFS: version 0, an entry above INT_MAX, rising entries. */
	hpb_cutoffs(&p, APORT, SERVER_PORT, 30, cut, 0);
	inject_pkt(&f, 1, &p);
	hpb_cutoffs(&p, APORT, SERVER_PORT, 30, cut, 7);
	p.u.cutoffs.unsched_cutoffs[5] = 0x80000000u;
	inject_pkt(&f, 1, &p);
	hpb_cutoffs(&p, APORT, SERVER_PORT, 30, cut, 7);
	p.u.cutoffs.unsched_cutoffs[7] = 20000;
	inject_pkt(&f, 1, &p);
	by_finish(&f, 10, 50 * MS);
	st = srv_stats(&f);
	assert_int_equal(st->drop_bad_priority, 4);
	assert_int_equal(st->drop_bad_num_acks, 2);
	assert_int_equal(st->drop_bad_cutoffs, 3);
	assert_int_equal(st->rx_grant + st->rx_resend + st->rx_ack + st->rx_cutoffs,
			 /* the bystander's own control traffic only */
			 homa_engine_stats(f.net->hosts[0].engine)->tx_grant +
			     homa_engine_stats(f.net->hosts[0].engine)->tx_resend +
			     homa_engine_stats(f.net->hosts[0].engine)->tx_ack +
			     homa_engine_stats(f.net->hosts[0].engine)->tx_cutoffs);
	fix_done(&f);
}

/* ------------------------------------------------------ message lengths */

static void test_data__length_changing_between_packets_dropped(void **state)
{
	struct fix f;
	uint8_t buf[2048];
	size_t n;

	(void)state;
	fix_init(&f);
	by_start(&f, 60000, 30000);
	htn_run_for(f.net, 2 * US);
	attack_data(&f, 40, 3000, 0, 1000);
	attack_data(&f, 40, 5000, 1000, 1000);	  /* longer */
	attack_data(&f, 40, 1500, 1000, 500);	  /* shorter, ends at its own end */
	attack_data(&f, 40, 1000000, 2000, 1000); /* maximum */
	/* The original length still completes the message, bytes intact. */
	attack_data(&f, 40, 3000, 1000, 1000);
	n = hpb_build_data(buf, sizeof(buf), APORT, SERVER_PORT, 40, 3000, 2000, 1000);
	inject(&f, ATTACKER, 1, buf, n);
	by_finish(&f, 10, 50 * MS);
	assert_int_equal(srv_stats(&f)->drop_length_changed, 3);
	assert_int_equal(f.attacker_requests, 1);
	fix_done(&f);
}

/* The attacker's complete request is handed over with every byte right. */
static void check_attacker_request(struct fix *f, uint32_t len)
{
	struct homa_recv_msg m;
	uint8_t *got = malloc(len > f->by_req ? len : f->by_req);

	htn_run_for(f->net, 10 * US);
	assert_int_equal(htn_recv(f->net, f->srv, 0, &m, got, len), 0);
	if (from_bystander(f, &m)) {
		by_serve(f, &m, got);
		assert_int_equal(htn_recv(f->net, f->srv, 0, &m, got, len), 0);
	}
	assert_int_equal(m.error, 0);
	assert_int_equal(m.length, len);
	assert_int_equal(hpb_pattern_check(got, 0, len), len);
	free(got);
	reply_pattern(f, &m, 10);
}

static void test_data__overlaps_and_duplicates_keep_bytes_right(void **state)
{
	struct fix f;
	uint8_t buf[2048];
	size_t n;
	uint32_t off;
	uint64_t x = 12345;

	(void)state;
	fix_init(&f);
	by_start(&f, 60000, 30000);
	htn_run_for(f.net, 2 * US);
	/* Exact duplicate, overlap at the front, at the back, and contained. */
	attack_data(&f, 50, 4000, 1000, 1000);
	attack_data(&f, 50, 4000, 1000, 1000);
	attack_data(&f, 50, 4000, 500, 1000);
	attack_data(&f, 50, 4000, 1800, 1000);
	attack_data(&f, 50, 4000, 1200, 100);
	/* Hostile bytes in an overlap: the bytes first received stay. */
	n = hpb_build_data(buf, sizeof(buf), APORT, SERVER_PORT, 50, 4000, 1000, 1000);
	memset(buf + HOMA_DATA_HDR_LEN, 0xee, 1000);
	inject(&f, ATTACKER, 1, buf, n);
	attack_data(&f, 50, 4000, 0, 1000);
	attack_data(&f, 50, 4000, 2500, 1500);
	check_attacker_request(&f, 4000);
	assert_true(srv_stats(&f)->drop_duplicate_data >= 3);
	/* Random overlapping pieces of a 100000-byte message, 1400 bytes at most. */
	for (off = 0; off < 100000;) {
		uint32_t len, start;

		x = x * 6364136223846793005ull + 1442695040888963407ull;
		len = 1 + (uint32_t)((x >> 33) % 1400);
		start = off > 700 ? off - (uint32_t)((x >> 20) % 700) : 0;
		if (start + len > 100000)
			len = 100000 - start;
		attack_data(&f, 52, 100000, start, len);
		if (start + len > off)
			off = start + len;
		htn_run_for(f.net, 200);
	}
	check_attacker_request(&f, 100000);
	by_finish(&f, 10, 50 * MS);
	fix_done(&f);
}

static void test_data__gap_storm_bounded(void **state)
{
	struct fix f;
	size_t before, after;
	uint32_t off;

	(void)state;
	fix_init(&f);
	by_start(&f, 60000, 30000);
	htn_run_for(f.net, 2 * US);
	before = homa_engine_mem_in_use(f.net->hosts[1].engine);
	/* One byte out of every two of a 1 MB message: 500000 gaps if unbounded. */
	for (off = 1; off < 1000000; off += 2 * 97)
		attack_data(&f, 60, 1000000, off, 1);
	htn_run_for(f.net, 1 * MS);
	after = homa_engine_mem_in_use(f.net->hosts[1].engine);
	print_message(
	    "gap storm: %zu bytes of engine state (before %zu), peer-limit drops "
	    "%llu\n",
	    after, before, (unsigned long long)srv_stats(&f)->drop_peer_limit);
	assert_true(after - before < 64 * 1024);
	assert_true(srv_stats(&f)->drop_peer_limit > 0);
	by_finish(&f, 10, 50 * MS);
	fix_done(&f);
}

/* ---------------------------------------------------- grants and resends */

/*
 * The attacker's request is answered with a 200000-byte response; the
 * attacker then grants nonsense. Returns the id it used.
 */
static uint64_t attacker_gets_big_response(struct fix *f, uint32_t resp)
{
	uint64_t id = 70;

	attack_data(f, id, 100, 0, 100);
	htn_run_for(f->net, 10 * US);
	serve_attacker(f, resp);
	htn_run_for(f->net, 200 * US);
	/* Only the unscheduled part went out. */
	assert_int_equal(f->max_data_end_to_attacker, 40000);
	return id;
}

static void test_grant__beyond_length_and_backwards_ignored(void **state)
{
	struct fix f;
	struct homa_packet p;
	uint64_t id;

	(void)state;
	fix_init(&f);
	by_start(&f, 60000, 30000);
	id = attacker_gets_big_response(&f, 200000);
	/* Backwards and equal grants send nothing new. */
	hpb_grant(&p, APORT, SERVER_PORT, id, 1000, 0);
	inject_pkt(&f, 1, &p);
	hpb_grant(&p, APORT, SERVER_PORT, id, 40000, 0);
	inject_pkt(&f, 1, &p);
	htn_run_for(f.net, 100 * US);
	assert_int_equal(f.max_data_end_to_attacker, 40000);
	/* Beyond the length: clamped to it. */
	hpb_grant(&p, APORT, SERVER_PORT, id, 0xffffffffu, 7);
	inject_pkt(&f, 1, &p);
	htn_run_for(f.net, 1 * MS);
	assert_int_equal(f.max_data_end_to_attacker, 200000);
	assert_int_equal(f.data_bytes_to_attacker, 200000);
	/* Then backwards again: nothing. */
	hpb_grant(&p, APORT, SERVER_PORT, id, 5, 0);
	inject_pkt(&f, 1, &p);
	htn_run_for(f.net, 100 * US);
	assert_int_equal(f.data_bytes_to_attacker, 200000);
	by_finish(&f, 10, 50 * MS);
	fix_done(&f);
}

static void test_resend__ranges_beyond_or_wrapping_send_nothing_extra(void **state)
{
	struct fix f;
	struct homa_packet p;
	uint64_t id, sent;

	(void)state;
	fix_init(&f);
	by_start(&f, 60000, 30000);
	id = attacker_gets_big_response(&f, 200000);
	sent = f.data_bytes_to_attacker;
	/* Offsets past the end, ranges that wrap 2^32. */
	hpb_resend(&p, APORT, SERVER_PORT, id, 300000, 1000, 0);
	inject_pkt(&f, 1, &p);
	hpb_resend(&p, APORT, SERVER_PORT, id, 0xfffffff0u, 0x20, 0);
	inject_pkt(&f, 1, &p);
	hpb_resend(&p, APORT, SERVER_PORT, id, 0xffffffffu, HOMA_RESEND_ALL, 0);
	inject_pkt(&f, 1, &p);
	htn_run_for(f.net, 1 * MS);
	/* A RESEND past the grant means "a GRANT was lost" (4.4): the rest of the
	 * response goes, once, and nothing beyond the message. */
	assert_int_equal(f.max_data_end_to_attacker, 200000);
	assert_int_equal(f.data_bytes_to_attacker, 200000);
	(void)sent;
	/* A resend of what was sent resends exactly that segment. */
	hpb_resend(&p, APORT, SERVER_PORT, id, 0, 1000, 0);
	inject_pkt(&f, 1, &p);
	htn_run_for(f.net, 100 * US);
	assert_true(f.data_bytes_to_attacker - 200000 <= 1500);
	assert_true(f.data_bytes_to_attacker - 200000 >= 1000);
	assert_int_equal(f.max_data_end_to_attacker, 200000);
	by_finish(&f, 10, 50 * MS);
	fix_done(&f);
}

/* ------------------------------------------------------------------ ids */

static void test_ids__wrong_parity_or_unknown_dropped(void **state)
{
	struct fix f;
	struct homa_packet p;
	const struct homa_stats *st;
	uint64_t before_unknown;

	(void)state;
	fix_init(&f);
	by_start(&f, 60000, 30000);
	htn_run_for(f.net, 2 * US);
	before_unknown = srv_stats(&f)->tx_rpc_unknown;
	/* ACK must carry a client's (even) id; NEED_ACK a server's (odd). */
	hpb_ack(&p, APORT, SERVER_PORT, 81, NULL, 0);
	inject_pkt(&f, 1, &p);
	hpb_need_ack(&p, APORT, SERVER_PORT, 80);
	inject_pkt(&f, 1, &p);
	/* DATA with an odd id is a response: the server has no such client RPC. */
	attack_data(&f, 83, 100, 0, 100);
	/* Control packets for ids nobody knows, both parities. */
	hpb_grant(&p, APORT, SERVER_PORT, 84, 5000, 0);
	inject_pkt(&f, 1, &p);
	hpb_busy(&p, APORT, SERVER_PORT, 86);
	inject_pkt(&f, 1, &p);
	hpb_rpc_unknown(&p, APORT, SERVER_PORT, 88);
	inject_pkt(&f, 1, &p);
	/* The bystander's id, from the attacker: not its RPC. */
	hpb_rpc_unknown(&p, APORT, SERVER_PORT, f.by_id);
	inject_pkt(&f, 1, &p);
	hpb_grant(&p, SERVER_PORT, homa_sock_port(f.cli->sock), f.by_id | 1, 60000, 0);
	inject_pkt(&f, 0, &p);
	/* A RESEND for an unknown RPC is answered with RPC_UNKNOWN. */
	hpb_resend(&p, APORT, SERVER_PORT, 90, 0, 100, 0);
	inject_pkt(&f, 1, &p);
	htn_run_for(f.net, 10 * US);
	st = srv_stats(&f);
	assert_int_equal(st->drop_bad_id_parity, 2);
	assert_int_equal(st->drop_unknown_rpc, 5);
	assert_int_equal(cli_stats(&f)->drop_wrong_peer, 1);
	assert_int_equal(st->tx_rpc_unknown - before_unknown, 1);
	assert_int_equal(f.to_attacker[HOMA_PKT_RPC_UNKNOWN - HOMA_PKT_TYPE_MIN], 1);
	assert_int_equal(homa_engine_num_rpcs(f.net->hosts[1].engine), 1);
	by_finish(&f, 10, 50 * MS);
	fix_done(&f);
}

/* ----------------------------------------------------------------- acks */

static int srv_readable(void *ctx)
{
	return homa_sock_readable(((struct fix *)ctx)->srv->sock);
}

static void test_acks__for_rpcs_of_another_socket_or_peer_ignored(void **state)
{
	struct fix f;
	struct homa_packet p;
	struct homa_ack acks[3];
	struct homa_recv_msg m;

	(void)state;
	fix_init(&f);
	by_start(&f, 1000, 500);
	assert_true(htn_run_until(f.net, srv_readable, &f, f.net->now + 10 * MS));
	assert_int_equal(htn_recv(f.net, f.srv, 0, &m, NULL, 0), 0);
	/* The bystander's request is in service at SERVER_PORT. The attacker acks it
	 * by every route: in the ack list toward either socket, and as the ACK's
	 * own RPC at either socket. */
	acks[0].client_id = f.by_id;
	acks[0].server_port = SERVER_PORT;
	acks[1].client_id = f.by_id;
	acks[1].server_port = SERVER_PORT2;
	acks[2].client_id = f.by_id | 1;
	acks[2].server_port = SERVER_PORT;
	hpb_ack(&p, APORT, SERVER_PORT2, f.by_id, acks, 3);
	inject_pkt(&f, 1, &p);
	hpb_ack(&p, APORT, SERVER_PORT, f.by_id, acks, 3);
	inject_pkt(&f, 1, &p);
	/* Piggybacked on a DATA too. */
	hpb_data(&p, APORT, SERVER_PORT, 92, 100, 0, 100);
	p.u.data.ack = acks[0];
	p.payload_len = 100;
	inject_pkt(&f, 1, &p);
	htn_run_for(f.net, 10 * US);
	assert_int_equal(homa_engine_num_rpcs(f.net->hosts[1].engine), 2);
	assert_true(srv_stats(&f)->acks_unknown >= 7);
	/* The bystander's RPC is intact: the reply goes out and completes. */
	reply_pattern(&f, &m, 500);
	assert_true(htn_run_until(f.net, readable, f.cli, f.net->now + 10 * MS));
	assert_int_equal(htn_recv(f.net, f.cli, 0, &m, NULL, 0), 0);
	assert_int_equal(m.error, 0);
	assert_int_equal(m.id, f.by_id);
	assert_int_equal(m.length, 500);
	fix_done(&f);
}

/* -------------------------------------------------------------- cutoffs */

static void test_cutoffs__odd_tables_from_attacker_do_not_touch_others(void **state)
{
	struct fix f;
	struct homa_packet p;
	uint32_t tiny[HOMA_MAX_PRIORITIES] = {5, 1, 1, 1, 1, 1, 1, 1};
	uint32_t huge[HOMA_MAX_PRIORITIES] = {0x7fffffff, 0x7fffffff, 0x7fffffff,
					      0x7fffffff, 0x7fffffff, 0x7fffffff,
					      0x7fffffff, 0x7fffffff};
	int prio_before;

	(void)state;
	fix_init(&f);
	/* A first exchange with the bystander so both know each other's cutoffs. */
	by_start(&f, 1000, 1000);
	by_finish(&f, 10, 50 * MS);
	prio_before = f.net->hosts[1].last_priority[0];
	/* Unknown host: no peer record is made for it. */
	hpb_cutoffs(&p, APORT, SERVER_PORT, 94, tiny, 3);
	inject_pkt(&f, 1, &p);
	htn_run_for(f.net, 10 * US);
	assert_int_equal(homa_engine_num_peers(f.net->hosts[1].engine), 1);
	/* Known attacker (it sent a request): odd but valid tables are stored for
	 * it alone; to a port nobody holds they count as no socket. */
	attack_data(&f, 96, 100, 0, 100);
	hpb_cutoffs(&p, APORT, SERVER_PORT, 96, huge, 0xffff);
	inject_pkt(&f, 1, &p);
	hpb_cutoffs(&p, APORT, 4444, 96, tiny, 1);
	inject_pkt(&f, 1, &p);
	htn_run_for(f.net, 10 * US);
	assert_int_equal(srv_stats(&f)->drop_no_socket, 1);
	serve_attacker(&f, 3000);
	htn_run_for(f.net, 100 * US);
	/* The bystander's next response is sent as before. */
	by_start(&f, 1000, 1000);
	by_finish(&f, 10, 50 * MS);
	assert_int_equal(f.net->hosts[1].last_priority[0], prio_before);
	fix_done(&f);
}

/* ---------------------------------------------------------------- demux */

static void test_demux__response_from_other_address_or_port_refused(void **state)
{
	struct fix f;
	uint8_t buf[2048];
	size_t n;
	uint16_t cport;

	(void)state;
	fix_init(&f);
	cport = homa_sock_port(f.cli->sock);
	by_start(&f, 1000, 1000);
	htn_run_for(f.net, 1 * US);
	/* A whole 1000-byte "response" from the attacker's address... */
	n = hpb_build_data(buf, sizeof(buf), SERVER_PORT, cport, f.by_id | 1, 1000, 0,
			   1000);
	memset(buf + HOMA_DATA_HDR_LEN, 0x66, 1000);
	inject(&f, ATTACKER, 0, buf, n);
	/* ...and from the server's address but another port. */
	hpb_poke_u16(buf, HPB_OFF_SPORT, SERVER_PORT2);
	inject(&f, 1, 0, buf, n);
	/* RESEND, BUSY and GRANT from the wrong address too. */
	{
		struct homa_packet p;

		hpb_busy(&p, SERVER_PORT, cport, f.by_id | 1);
		inject_pkt(&f, 0, &p);
		hpb_resend(&p, SERVER_PORT, cport, f.by_id | 1, 0, 1000, 0);
		inject_pkt(&f, 0, &p);
	}
	htn_run_for(f.net, 10 * US);
	assert_int_equal(cli_stats(&f)->drop_wrong_peer, 4);
	by_finish(&f, 10, 50 * MS);
	fix_done(&f);
}

static void test_demux__request_to_non_server_socket_refused(void **state)
{
	struct fix f;
	uint8_t buf[2048];
	size_t n;
	struct homa_packet p;
	uint16_t cport;

	(void)state;
	fix_init(&f);
	cport = homa_sock_port(f.cli->sock);
	by_start(&f, 60000, 30000);
	htn_run_for(f.net, 1 * US);
	n = hpb_build_data(buf, sizeof(buf), APORT, cport, 100, 100, 0, 100);
	inject(&f, ATTACKER, 0, buf, n);
	hpb_resend(&p, APORT, cport, 100, 0, 100, 0);
	inject_pkt(&f, 0, &p);
	hpb_ack(&p, APORT, cport, 100, NULL, 0);
	inject_pkt(&f, 0, &p);
	htn_run_for(f.net, 10 * US);
	assert_int_equal(cli_stats(&f)->drop_not_server, 3);
	assert_false(homa_sock_readable(f.cli->sock));
	assert_int_equal(homa_engine_num_rpcs(f.net->hosts[0].engine), 1);
	by_finish(&f, 10, 50 * MS);
	fix_done(&f);
}

/* --------------------------------------------------------------- floods */

static void test_flood__request_flood_capped_per_peer_memory_bounded(void **state)
{
	struct homa_settings st;
	struct fix f;
	size_t mem_at_cap = 0, mem_max = 0;
	uint64_t i;

	(void)state;
	homa_settings_default(&st);
	st.max_server_rpcs_per_peer = 16;
	fix_init_with(&f, &st, 3, 256);
	by_start(&f, 60000, 30000);
	for (i = 0; i < 5000; i++) {
		size_t m;

		/* First packet of a 5000-byte request that never completes. */
		attack_data(&f, 1000 + 2 * i, 5000, 0, 1000);
		if (i % 50 == 49)
			htn_run_for(f.net, 1 * US);
		m = homa_engine_mem_in_use(f.net->hosts[1].engine);
		if (i == 100)
			mem_at_cap = m;
		if (m > mem_max)
			mem_max = m;
	}
	htn_run_for(f.net, 1 * US);
	print_message(
	    "request flood: engine memory at the cap %zu, max %zu; %llu reclaimed, "
	    "%llu refused\n",
	    mem_at_cap, mem_max, (unsigned long long)srv_stats(&f)->rpcs_reclaimed_limit,
	    (unsigned long long)srv_stats(&f)->drop_peer_limit);
	assert_true(homa_engine_num_rpcs(f.net->hosts[1].engine) <= 16 + 1);
	/* Each request past the cap ends the attacker's oldest half request. */
	assert_int_equal(srv_stats(&f)->rpcs_reclaimed_limit, 5000 - 16);
	assert_true(mem_max <= mem_at_cap + 4096);
	by_finish(&f, 10, 20 * MS);
	/* Everything the attacker left half-sent is reclaimed in time. */
	htn_run_for(f.net, 300 * MS);
	assert_int_equal(homa_engine_num_rpcs(f.net->hosts[1].engine), 0);
	assert_int_equal(srv_stats(&f)->server_rpc_timeouts, 16);
	fix_done(&f);
}

static void test_flood__never_acked_responses_reclaimed(void **state)
{
	struct homa_settings st;
	struct fix f;
	uint64_t i;
	size_t base;

	(void)state;
	homa_settings_default(&st);
	st.max_server_rpcs_per_peer = 16;
	fix_init_with(&f, &st, 3, 64);
	base = homa_engine_mem_in_use(f.net->hosts[1].engine);
	/* Whole one-packet requests, answered by the server, never acked. */
	for (i = 0; i < 200; i++) {
		attack_data(&f, 2000 + 2 * i, 100, 0, 100);
		htn_run_for(f.net, 10 * US);
		serve_attacker(&f, 2000);
	}
	assert_true(homa_engine_num_rpcs(f.net->hosts[1].engine) <= 16);
	/* Past the cap, the oldest answered-but-unacked RPC makes room. */
	assert_true(srv_stats(&f)->rpcs_reclaimed_limit >= 200 - 16);
	by_start(&f, 60000, 30000);
	by_finish(&f, 10, 20 * MS);
	/* NEED_ACKs go unanswered; the server gives up and keeps tombstones. */
	htn_run_for(f.net, 300 * MS);
	assert_int_equal(homa_engine_num_rpcs(f.net->hosts[1].engine), 0);
	assert_true(srv_stats(&f)->need_ack_giveups >= 16);
	assert_true(f.to_attacker[HOMA_PKT_NEED_ACK - HOMA_PKT_TYPE_MIN] > 0);
	/* The attacker's peer is reclaimable: once the tombstones expire, the
	 * server's memory is back where it started (plus the bystander's peer). */
	htn_run_for(f.net, 3000 * MS);
	print_message("never-acked flood: engine memory %zu at start, %zu at the end\n",
		      base, homa_engine_mem_in_use(f.net->hosts[1].engine));
	assert_true(homa_engine_mem_in_use(f.net->hosts[1].engine) <= base + 4096);
	fix_done(&f);
}

static void test_flood__incomplete_messages_oldest_reclaimed_first(void **state)
{
	struct homa_settings st;
	struct fix f;
	uint64_t i;
	struct homa_sock_info info;
	struct homa_rpc_info ri[16];
	size_t n, k;

	(void)state;
	homa_settings_default(&st);
	st.max_server_rpcs_per_peer = 8;
	fix_init_with(&f, &st, 3, 64);
	for (i = 0; i < 8; i++) {
		attack_data(&f, 3000 + 2 * i, 5000, 0, 1000);
		htn_run_for(f.net, 1 * MS);
	}
	/* A complete request goes to the application: not reclaimable. */
	attack_data(&f, 2990, 100, 0, 100);
	htn_run_for(f.net, 10 * US);
	assert_int_equal(homa_engine_num_rpcs(f.net->hosts[1].engine), 8);
	for (i = 8; i < 12; i++)
		attack_data(&f, 3000 + 2 * i, 5000, 0, 1000);
	htn_run_for(f.net, 10 * US);
	/* The oldest five half requests made room for the newest four + the
	 * whole one. */
	assert_int_equal(srv_stats(&f)->rpcs_reclaimed_limit, 5);
	homa_sock_get_info(f.srv->sock, &info, ri, 16, &n);
	assert_int_equal(n, 8);
	for (k = 0; k < n; k++)
		assert_true((ri[k].id & ~1ull) >= 3010 || (ri[k].id & ~1ull) == 2990);
	serve_attacker(&f, 0); /* now in service, held by the application */
	assert_int_equal(f.attacker_requests, 1);
	by_start(&f, 60000, 30000);
	by_finish(&f, 10, 20 * MS);
	fix_done(&f);
}

static void test_flood__many_peers_meet_the_socket_cap_others_served(void **state)
{
	struct homa_settings st;
	struct fix f;
	uint64_t i;
	int h;

	(void)state;
	homa_settings_default(&st);
	st.max_server_rpcs_per_peer = 8;
	st.max_rpcs_per_socket = 24;
	fix_init_with(&f, &st, 7, 64);
	/* Five attackers, 100 half requests each: 40 would fit the peer caps. */
	for (i = 0; i < 100; i++)
		for (h = 2; h < 7; h++) {
			uint8_t buf[2048];
			size_t n = hpb_build_data(buf, sizeof(buf), APORT, SERVER_PORT,
						  5000 + 2 * i, 5000, 0, 1000);

			inject(&f, h, 1, buf, n);
		}
	htn_run_for(f.net, 10 * US);
	assert_int_equal(homa_engine_num_rpcs(f.net->hosts[1].engine), 24);
	assert_int_equal(srv_stats(&f)->rpcs_reclaimed_limit, 500 - 24);
	by_start(&f, 60000, 30000);
	by_finish(&f, 10, 20 * MS);
	htn_run_for(f.net, 300 * MS);
	assert_int_equal(homa_engine_num_rpcs(f.net->hosts[1].engine), 0);
	fix_done(&f);
}

/*
 * The same, but the attackers keep opening requests while the honest one is
 * being received: at the socket cap the oldest receiving RPC of the socket
 * is reclaimed, whoever's it is, so it must not be the honest peer's each
 * time (the largest holders should pay first).
 */
static void test_flood__socket_cap_flood_does_not_evict_honest_peer(void **state)
{
	struct homa_settings st;
	struct fix f;
	uint64_t i = 0;
	int h;

	(void)state;
	homa_settings_default(&st);
	st.max_server_rpcs_per_peer = 8;
	st.max_rpcs_per_socket = 24;
	fix_init_with(&f, &st, 7, 64);
	/* The attackers fill the socket first, then keep going. */
	for (i = 0; i < 5; i++)
		for (h = 2; h < 7; h++) {
			uint8_t buf[2048];
			size_t n = hpb_build_data(buf, sizeof(buf), APORT, SERVER_PORT,
						  4000 + 2 * i, 5000, 0, 1000);

			inject(&f, h, 1, buf, n);
		}
	htn_run_for(f.net, 10 * US);
	by_start(&f, 500000, 30000);
	while (f.net->now < f.by_start + 30 * MS) {
		for (h = 2; h < 7; h++) {
			uint8_t buf[2048];
			size_t n = hpb_build_data(buf, sizeof(buf), APORT, SERVER_PORT,
						  5000 + 2 * i, 5000, 0, 1000);

			inject(&f, h, 1, buf, n);
		}
		i++;
		htn_run_for(f.net, 20 * US);
		if (homa_sock_readable(f.srv->sock))
			serve_attacker(&f, 0);
	}
	print_message("socket-cap flood: %llu reclaimed, client restarts %llu, bystander "
		      "served during the flood: %d\n",
		      (unsigned long long)srv_stats(&f)->rpcs_reclaimed_limit,
		      (unsigned long long)cli_stats(&f)->rpc_restarts, f.by_served);
	/* 30 ms is a hundred times what the request needs on an idle network. */
	assert_true(f.by_served);
	by_finish(&f, 10, 40 * MS);
	fix_done(&f);
}

/*
 * Attackers from as many addresses as the peer table holds keep every peer
 * busy with a half request each; a new honest peer must still get in (a
 * busy peer's unfinished request can be reclaimed like any other).
 */
static void test_flood__peer_table_full_of_attackers_others_served(void **state)
{
	struct homa_settings st;
	struct fix f;
	int h;

	(void)state;
	homa_settings_default(&st);
	st.max_peers = 4;
	fix_init_with(&f, &st, 7, 64);
	for (h = 2; h < 7; h++) {
		uint8_t buf[2048];
		size_t n = hpb_build_data(buf, sizeof(buf), APORT, SERVER_PORT, 7000,
					  5000, 0, 1000);

		inject(&f, h, 1, buf, n);
	}
	htn_run_for(f.net, 10 * US);
	print_message("peer table: %zu peers, %zu RPCs, %llu refused for memory\n",
		      homa_engine_num_peers(f.net->hosts[1].engine),
		      homa_engine_num_rpcs(f.net->hosts[1].engine),
		      (unsigned long long)srv_stats(&f)->drop_no_memory);
	assert_true(homa_engine_num_peers(f.net->hosts[1].engine) <= 4);
	/* The half requests time out after 100 ms: being served within 20 ms
	 * means the honest peer did not merely wait for that. */
	by_start(&f, 60000, 30000);
	by_finish(&f, 10, 20 * MS);
	fix_done(&f);
}

static void test_flood__large_partial_messages_do_not_starve_others(void **state)
{
	struct fix f;
	uint64_t i;

	(void)state;
	fix_init(&f); /* 64 bpages at the server */
	/* First packet of eight 1 MB requests: 128 bpages wanted, 64 exist. */
	for (i = 0; i < 8; i++)
		attack_data(&f, 6000 + 2 * i, 1000000, 0, 1400);
	htn_run_for(f.net, 10 * US);
	print_message("big partial requests: %llu buffer allocation failures\n",
		      (unsigned long long)srv_stats(&f)->buffer_alloc_failures);
	/* The honest 60 KB request must not wait for the attacker's to time out
	 * (timeout_ticks, 100 ms): a peer's memory is bounded. */
	by_start(&f, 60000, 30000);
	by_finish(&f, 10, 20 * MS);
	fix_done(&f);
}

/* ------------------------------------------------------------ randomness */

static void nop_send(void *user, struct homa_sock *sock, const struct homa_endpoint *dst,
		     int priority, const uint8_t *hdr, size_t hdr_len,
		     const uint8_t *payload, size_t payload_len)
{
	(void)user, (void)sock, (void)dst, (void)priority, (void)hdr, (void)hdr_len;
	(void)payload, (void)payload_len;
}

/* First client port and first RPC id of an engine made with seed. */
static void first_port_and_id(uint64_t seed, uint16_t *port, uint64_t *id)
{
	struct homa_callbacks cb = {nop_send, NULL, NULL};
	struct homa_settings st;
	struct homa_engine *e;
	struct homa_sock *s;
	struct homa_endpoint dst;
	uint8_t b = 1;
	struct homa_iov iov = {&b, 1};

	memset(&dst, 0, sizeof(dst));
	homa_addr_from_ipv4(&dst.addr, 0x0a000002u);
	dst.port = SERVER_PORT;
	homa_settings_default(&st);
	assert_int_equal(homa_engine_new(&st, &cb, NULL, NULL, seed, 0, &e), 0);
	assert_int_equal(homa_sock_new(e, &s), 0);
	*port = homa_sock_port(s);
	assert_true(*port >= HOMA_MIN_DEFAULT_PORT);
	assert_int_equal(homa_sock_send_request(s, &dst, &iov, 1, 0, 0, 0, id), 0);
	assert_int_equal(*id & 1, 0);
	homa_sock_free(s, 0);
	homa_engine_free(e);
}

static void test_random__client_ports_and_id_bases_depend_on_seed(void **state)
{
	uint16_t ports[8], p2;
	uint64_t ids[8], id2;
	int i, j, same_port = 0, same_id = 0;

	(void)state;
	for (i = 0; i < 8; i++)
		first_port_and_id(0x9e3779b97f4a7c15ull * (uint64_t)(i + 1), &ports[i],
				  &ids[i]);
	for (i = 0; i < 8; i++)
		for (j = i + 1; j < 8; j++) {
			same_port += ports[i] == ports[j];
			same_id += ids[i] == ids[j];
		}
	/* Eight draws from 32768 ports and 2^63 ids: a repeat is a bug. */
	assert_true(same_port <= 1);
	assert_int_equal(same_id, 0);
	/* Not the reference's sequential start either. */
	for (i = 0; i < 8; i++)
		assert_true(ids[i] > 1000000);
	/* Same seed, same values (the simulator relies on it). */
	first_port_and_id(0x9e3779b97f4a7c15ull, &p2, &id2);
	assert_int_equal(p2, ports[0]);
	assert_int_equal(id2, ids[0]);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_data__every_bad_field_dropped_and_counted),
    cmocka_unit_test(test_common__short_unknown_type_and_truncated_headers),
    cmocka_unit_test(test_control__bad_priority_num_acks_and_cutoffs),
    cmocka_unit_test(test_data__length_changing_between_packets_dropped),
    cmocka_unit_test(test_data__overlaps_and_duplicates_keep_bytes_right),
    cmocka_unit_test(test_data__gap_storm_bounded),
    cmocka_unit_test(test_grant__beyond_length_and_backwards_ignored),
    cmocka_unit_test(test_resend__ranges_beyond_or_wrapping_send_nothing_extra),
    cmocka_unit_test(test_ids__wrong_parity_or_unknown_dropped),
    cmocka_unit_test(test_acks__for_rpcs_of_another_socket_or_peer_ignored),
    cmocka_unit_test(test_cutoffs__odd_tables_from_attacker_do_not_touch_others),
    cmocka_unit_test(test_demux__response_from_other_address_or_port_refused),
    cmocka_unit_test(test_demux__request_to_non_server_socket_refused),
    cmocka_unit_test(test_flood__request_flood_capped_per_peer_memory_bounded),
    cmocka_unit_test(test_flood__never_acked_responses_reclaimed),
    cmocka_unit_test(test_flood__incomplete_messages_oldest_reclaimed_first),
    cmocka_unit_test(test_flood__many_peers_meet_the_socket_cap_others_served),
    cmocka_unit_test(test_flood__socket_cap_flood_does_not_evict_honest_peer),
    cmocka_unit_test(test_flood__peer_table_full_of_attackers_others_served),
    cmocka_unit_test(test_flood__large_partial_messages_do_not_starve_others),
    cmocka_unit_test(test_random__client_ports_and_id_bases_depend_on_seed),
};

HOMA_TEST_MAIN(tests)
