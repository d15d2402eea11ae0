/*
 * test_peer.c - the peer table, the ack cache and tombstones, driven through
 * their internal interface (homa_peer.h) on a real engine.
 */
#include <stdlib.h>
#include <string.h>

#include "homa_test.h"
#include "homa_internal.h"
#include "homa_peer.h"
#include "homa_rpc.h"

struct sent {
	int packets;
	struct homa_packet last;
	uint8_t bytes[HOMA_MAX_HDR_LEN];
};

static void capture(void *user, struct homa_sock *sock, const struct homa_endpoint *dst,
		    int priority, const uint8_t *hdr, size_t hdr_len,
		    const uint8_t *payload, size_t payload_len)
{
	struct sent *s = user;

	(void)sock, (void)dst, (void)priority, (void)payload, (void)payload_len;
	s->packets++;
	memcpy(s->bytes, hdr, hdr_len);
	assert_int_equal(homa_wire_decode(s->bytes, hdr_len, &s->last), 0);
}

static struct homa_engine *engine(struct sent *out, const struct homa_settings *st)
{
	struct homa_callbacks cb = {capture, NULL, NULL};
	struct homa_settings def;
	struct homa_engine *e;

	memset(out, 0, sizeof(*out));
	if (st == NULL) {
		homa_settings_default(&def);
		st = &def;
	}
	assert_int_equal(homa_engine_new(st, &cb, out, NULL, 7, 0, &e), 0);
	return e;
}

static struct homa_addr addr(uint32_t n)
{
	struct homa_addr a;

	homa_addr_from_ipv4(&a, 0x0a000000u + n);
	return a;
}

static void test_peer__table_grows_and_finds_every_peer(void **state)
{
	struct sent out;
	struct homa_engine *e = engine(&out, NULL);
	struct homa_sock *s;
	struct homa_peer *p[100];
	uint32_t i;

	(void)state;
	assert_int_equal(homa_sock_new(e, &s), 0);
	for (i = 0; i < 100; i++) {
		struct homa_addr a = addr(i);

		p[i] = homa_peer_get(e, &a);
		assert_non_null(p[i]);
	}
	assert_int_equal(homa_engine_num_peers(e), 100);
	for (i = 0; i < 100; i++) {
		struct homa_addr a = addr(i);

		assert_ptr_equal(homa_peer_find(e, &a), p[i]);
		homa_peer_put(e, p[i]);
	}
	/* Idle peers stay while a socket exists, and go with the last one. */
	assert_int_equal(homa_engine_num_peers(e), 100);
	homa_sock_free(s, 0);
	assert_int_equal(homa_engine_num_peers(e), 0);
	assert_int_equal(homa_engine_mem_in_use(e), 0);
	homa_engine_free(e);
}

static void test_peer__max_peers_reclaims_idle_never_busy(void **state)
{
	struct homa_settings st;
	struct sent out;
	struct homa_engine *e;
	struct homa_sock *s;
	struct homa_addr a0 = addr(0), a1 = addr(1), a2 = addr(2);
	struct homa_peer *busy, *idle;

	(void)state;
	homa_settings_default(&st);
	st.max_peers = 2;
	e = engine(&out, &st);
	assert_int_equal(homa_sock_new(e, &s), 0);
	busy = homa_peer_get(e, &a0);
	idle = homa_peer_get(e, &a1);
	homa_peer_put(e, idle);
	assert_non_null(homa_peer_get(e, &a2));
	assert_null(homa_peer_find(e, &a1));
	assert_ptr_equal(homa_peer_find(e, &a0), busy);
	/* Both busy now: no room. */
	assert_null(homa_peer_get(e, &a1));
	homa_engine_free(e);
}

static void test_peer__acks_popped_oldest_first(void **state)
{
	struct sent out;
	struct homa_engine *e = engine(&out, NULL);
	struct homa_sock *s;
	struct homa_addr a = addr(1);
	struct homa_peer *p;
	struct homa_ack ack;

	(void)state;
	assert_int_equal(homa_sock_new(e, &s), 0);
	p = homa_peer_get(e, &a);
	homa_peer_ack_push(e, p, s, 100, 5);
	homa_peer_ack_push(e, p, s, 102, 6);
	homa_peer_ack_pop(p, &ack);
	assert_int_equal(ack.client_id, 100);
	assert_int_equal(ack.server_port, 5);
	homa_peer_ack_pop(p, &ack);
	assert_int_equal(ack.client_id, 102);
	homa_peer_ack_pop(p, &ack);
	assert_int_equal(ack.client_id, 0);
	assert_int_equal(out.packets, 0);
	homa_peer_put(e, p);
	homa_engine_free(e);
}

/* A full cache: the new ack and the five oldest leave in one ACK packet. */
static void test_peer__ack_into_full_cache_sends_it_with_five_oldest(void **state)
{
	struct sent out;
	struct homa_engine *e = engine(&out, NULL);
	struct homa_sock *s;
	struct homa_addr a = addr(1);
	struct homa_peer *p;
	struct homa_ack ack;
	uint64_t id;

	(void)state;
	assert_int_equal(homa_sock_new(e, &s), 0);
	p = homa_peer_get(e, &a);
	/* Wrap the ring first: pushes and pops interleaved keep FIFO order. */
	for (id = 2; id < 12; id += 2)
		homa_peer_ack_push(e, p, s, id, 7);
	for (id = 2; id < 10; id += 2) {
		homa_peer_ack_pop(p, &ack);
		assert_int_equal(ack.client_id, id);
	}
	for (id = 100; id < 100 + 2 * (HOMA_PEER_ACKS - 1); id += 2)
		homa_peer_ack_push(e, p, s, id, 7);
	assert_int_equal(p->num_acks, HOMA_PEER_ACKS);
	assert_int_equal(out.packets, 0);
	homa_peer_ack_push(e, p, s, 1000, 8);
	assert_int_equal(out.packets, 1);
	assert_int_equal(out.last.common.type, HOMA_PKT_ACK);
	assert_int_equal(out.last.common.sender_id, 1000);
	assert_int_equal(out.last.common.dport, 8);
	assert_int_equal(out.last.common.sport, homa_sock_port(s));
	assert_int_equal(out.last.u.ack.num_acks, 5);
	assert_int_equal(out.last.u.ack.acks[0].client_id, 10);
	assert_int_equal(out.last.u.ack.acks[1].client_id, 100);
	assert_int_equal(out.last.u.ack.acks[4].client_id, 106);
	assert_int_equal(p->num_acks, HOMA_PEER_ACKS - 5);
	assert_int_equal(homa_engine_stats(e)->ack_overflows, 1);
	homa_peer_ack_pop(p, &ack);
	assert_int_equal(ack.client_id, 108);
	homa_peer_put(e, p);
	homa_engine_free(e);
}

/*
 * A flush sends acks only once the oldest one left is min_age ticks old, and
 * then fills each ACK packet with newer ones; every ack has its own age.
 */
static void test_peer__flush_waits_for_the_oldest_ack_own_age(void **state)
{
	struct sent out;
	struct homa_engine *e = engine(&out, NULL);
	struct homa_sock *s;
	struct homa_addr a = addr(1);
	struct homa_peer *p;
	struct homa_ack ack;

	(void)state;
	assert_int_equal(homa_sock_new(e, &s), 0);
	p = homa_peer_get(e, &a);
	e->tick_count = 10;
	homa_peer_ack_push(e, p, s, 100, 5);
	e->tick_count = 15;
	homa_peer_ack_push(e, p, s, 102, 5);
	homa_peer_ack_push(e, p, s, 104, 5);
	e->tick_count = 19;
	homa_peer_flush_acks(e, NULL, 10);
	assert_int_equal(out.packets, 0);
	/* 100 is old enough: one packet carries it and the two younger ones. */
	e->tick_count = 20;
	homa_peer_flush_acks(e, NULL, 10);
	assert_int_equal(out.packets, 1);
	assert_int_equal(out.last.common.type, HOMA_PKT_ACK);
	assert_int_equal(out.last.common.sender_id, 100);
	assert_int_equal(out.last.u.ack.num_acks, 2);
	assert_int_equal(p->num_acks, 0);

	/* The oldest left a DATA packet: the next one's age counts from its push. */
	homa_peer_ack_push(e, p, s, 106, 5);
	e->tick_count = 25;
	homa_peer_ack_push(e, p, s, 108, 5);
	homa_peer_ack_pop(p, &ack);
	assert_int_equal(ack.client_id, 106);
	e->tick_count = 34;
	homa_peer_flush_acks(e, NULL, 10);
	assert_int_equal(out.packets, 1);
	e->tick_count = 35;
	homa_peer_flush_acks(e, NULL, 10);
	assert_int_equal(out.packets, 2);
	assert_int_equal(out.last.common.sender_id, 108);
	assert_int_equal(p->num_acks, 0);
	homa_peer_put(e, p);
	homa_engine_free(e);
}

static void test_peer__tombstones_bounded_per_peer_oldest_dropped(void **state)
{
	struct homa_settings st;
	struct sent out;
	struct homa_engine *e;
	struct homa_sock *s;
	struct homa_addr a = addr(1), b = addr(2);
	struct homa_peer *p, *q;
	uint64_t id;

	(void)state;
	homa_settings_default(&st);
	st.max_tombstones_per_peer = 3;
	e = engine(&out, &st);
	assert_int_equal(homa_sock_new(e, &s), 0);
	p = homa_peer_get(e, &a);
	q = homa_peer_get(e, &b);
	for (id = 1; id <= 9; id += 2)
		homa_peer_tomb_add(e, p, id, 99, 0);
	homa_peer_tomb_add(e, q, 1, 99, 0);
	assert_false(homa_peer_tomb_find(e, p, 1));
	assert_false(homa_peer_tomb_find(e, p, 3));
	assert_true(homa_peer_tomb_find(e, p, 5));
	assert_true(homa_peer_tomb_find(e, p, 9));
	assert_false(homa_peer_tomb_find(e, p, 11));
	/* Another peer's tombstones are its own. */
	assert_true(homa_peer_tomb_find(e, q, 1));
	homa_peer_put(e, p);
	homa_peer_put(e, q);
	homa_engine_free(e);
}

static void test_peer__tombstones_found_out_of_order_across_table_growth(void **state)
{
	static const uint64_t ids[] = {41, 7, 99, 3, 57, 15, 77, 1, 63, 29};
	struct homa_settings st;
	struct sent out;
	struct homa_engine *e;
	struct homa_sock *s;
	struct homa_addr a = addr(1);
	struct homa_peer *p;
	size_t i, n = sizeof(ids) / sizeof(ids[0]);

	(void)state;
	homa_settings_default(&st);
	st.max_tombstones_per_peer = 6;
	e = engine(&out, &st);
	assert_int_equal(homa_sock_new(e, &s), 0);
	p = homa_peer_get(e, &a);
	/* Ids arrive in no order (several client engines share an address),
	 * the table grows under them, and the oldest are dropped from the
	 * middle of hash chains: every survivor is still found, and a lower
	 * id than the highest ever added is looked up, not assumed absent. */
	for (i = 0; i < 200; i++)
		homa_peer_tomb_add(e, p, 1001 + 2 * i, 99, 0);
	for (i = 0; i < n; i++)
		homa_peer_tomb_add(e, p, ids[i], 99, 0);
	for (i = 0; i < n; i++) {
		if (i < n - 6)
			assert_false(homa_peer_tomb_find(e, p, ids[i]));
		else
			assert_true(homa_peer_tomb_find(e, p, ids[i]));
	}
	assert_false(homa_peer_tomb_find(e, p, 1399));
	assert_false(homa_peer_tomb_find(e, p, 5001));
	homa_peer_tomb_expire(e, UINT64_MAX);
	for (i = 0; i < n; i++)
		assert_false(homa_peer_tomb_find(e, p, ids[i]));
	homa_peer_put(e, p);
	homa_engine_free(e);
}

static void test_peer__tombstones_expire_after_tombstone_ns(void **state)
{
	struct sent out;
	struct homa_engine *e = engine(&out, NULL);
	struct homa_sock *s;
	struct homa_addr a = addr(1);
	struct homa_peer *p;

	(void)state;
	assert_int_equal(homa_sock_new(e, &s), 0);
	p = homa_peer_get(e, &a);
	homa_peer_tomb_add(e, p, 1, 99, 1000);
	homa_peer_tomb_add(e, p, 3, 99, 5000);
	homa_peer_tomb_expire(e, 1000 + 2000000000ull);
	assert_false(homa_peer_tomb_find(e, p, 1));
	assert_true(homa_peer_tomb_find(e, p, 3));
	/* The idle engine wakes up just for the next expiry. */
	assert_int_equal(homa_engine_next_timeout(e), 5000 + 2000000000ull);
	homa_peer_tomb_drop_port(e, 99);
	assert_false(homa_peer_tomb_find(e, p, 3));
	homa_peer_put(e, p);
	homa_sock_free(s, 0);
	assert_int_equal(homa_engine_mem_in_use(e), 0);
	homa_engine_free(e);
}

static void test_rpc__table_grows_and_finds_every_rpc(void **state)
{
	struct sent out;
	struct homa_engine *e = engine(&out, NULL);
	struct homa_sock *s;
	struct homa_endpoint dst = {addr(1), 99};
	uint64_t ids[500];
	int i;

	(void)state;
	assert_int_equal(homa_sock_new(e, &s), 0);
	for (i = 0; i < 500; i++) {
		struct homa_rpc *rpc;

		assert_int_equal(homa_rpc_new_client(s, &dst, 0, &rpc), 0);
		ids[i] = rpc->id;
	}
	assert_true(s->nbuckets >= 500);
	for (i = 0; i < 500; i++)
		assert_non_null(homa_rpc_find_client(s, ids[i]));
	assert_null(homa_rpc_find_client(s, ids[499] + 2));
	assert_null(homa_rpc_find_client(s, ids[0] | 1));
	for (i = 0; i < 500; i += 2)
		homa_rpc_end(homa_rpc_find_client(s, ids[i]), 0);
	for (i = 0; i < 500; i++)
		assert_true((homa_rpc_find_client(s, ids[i]) != NULL) == (i % 2 == 1));
	homa_sock_free(s, 0);
	assert_int_equal(homa_engine_mem_in_use(e), 0);
	homa_engine_free(e);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_peer__table_grows_and_finds_every_peer),
    cmocka_unit_test(test_peer__max_peers_reclaims_idle_never_busy),
    cmocka_unit_test(test_peer__acks_popped_oldest_first),
    cmocka_unit_test(test_peer__ack_into_full_cache_sends_it_with_five_oldest),
    cmocka_unit_test(test_peer__flush_waits_for_the_oldest_ack_own_age),
    cmocka_unit_test(test_peer__tombstones_bounded_per_peer_oldest_dropped),
    cmocka_unit_test(test_peer__tombstones_found_out_of_order_across_table_growth),
    cmocka_unit_test(test_peer__tombstones_expire_after_tombstone_ns),
    cmocka_unit_test(test_rpc__table_grows_and_finds_every_rpc),
};

HOMA_TEST_MAIN(tests)
