/*
 * Memory footprint of the engine's state, measured through
 * homa_engine_mem_in_use(): what a socket, a peer and an outstanding RPC
 * cost. The figures are printed (docs/perf.md quotes them) and bounded so a
 * change that bloats per-RPC state fails here.
 */
#include "homa_test.h"

#include "homa/homa_core.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static void drop_packet(void *user, struct homa_sock *sock,
			const struct homa_endpoint *dst, int priority, const uint8_t *hdr,
			size_t hdr_len, const uint8_t *payload, size_t payload_len)
{
	(void)user, (void)sock, (void)dst, (void)priority, (void)hdr;
	(void)hdr_len, (void)payload, (void)payload_len;
}

static struct homa_engine *new_engine(void)
{
	struct homa_callbacks cb = {.send = drop_packet};
	struct homa_settings s;
	struct homa_engine *e;

	homa_settings_default(&s);
	assert_int_equal(homa_engine_new(&s, &cb, NULL, NULL, 1, 0, &e), 0);
	return e;
}

static uint64_t send_one(struct homa_sock *s, uint32_t ipv4, uint64_t now)
{
	static const char byte = 'x';
	struct homa_iov iov = {&byte, 1};
	struct homa_endpoint dst = {.port = 1000};
	uint64_t id;

	homa_addr_from_ipv4(&dst.addr, ipv4);
	assert_int_equal(homa_sock_send_request(s, &dst, &iov, 1, 0, 0, now, &id), 0);
	return id;
}

static void test_footprint__socket_peer_and_rpc_costs_are_small(void **state)
{
	struct homa_engine *e = new_engine();
	struct homa_sock *s;
	size_t base, with_sock, first, more;
	const int n = 1000, peers = 200;
	size_t rpc_cost, peer_cost;

	(void)state;
	base = homa_engine_mem_in_use(e);
	assert_int_equal(homa_sock_new(e, &s), 0);
	with_sock = homa_engine_mem_in_use(e);

	/* n requests to one peer: the per-RPC cost (a 1-byte message each). */
	send_one(s, 0x0a000001, 0);
	first = homa_engine_mem_in_use(e);
	for (int i = 1; i < n; i++)
		send_one(s, 0x0a000001, 0);
	more = homa_engine_mem_in_use(e);
	rpc_cost = (more - first) / (n - 1);

	/* One request to each of many new peers: RPC + peer. */
	for (int i = 0; i < peers; i++)
		send_one(s, 0x0b000000 + (uint32_t)i, 0);
	peer_cost = (homa_engine_mem_in_use(e) - more) / peers - rpc_cost;

	print_message("footprint: socket %zu B (no receive region), "
		      "outstanding RPC %zu B (1-byte request), peer %zu B\n",
		      with_sock - base, rpc_cost, peer_cost);
	assert_true(with_sock - base < 64 * 1024);
	assert_true(rpc_cost < 2048);
	assert_true(peer_cost < 4096);

	homa_sock_free(s, 0);
	assert_int_equal(homa_engine_num_rpcs(e), 0);
	homa_engine_free(e);
}

static void test_footprint__receive_region_bookkeeping_per_bpage(void **state)
{
	struct homa_engine *e = new_engine();
	struct homa_sock *s;
	size_t len = 64u << 20; /* 1024 bpages */
	void *region = aligned_alloc(HOMA_BPAGE_SIZE, len);
	size_t before;

	(void)state;
	assert_non_null(region);
	assert_int_equal(homa_sock_new(e, &s), 0);
	before = homa_engine_mem_in_use(e);
	assert_int_equal(homa_sock_set_rcvbuf(s, region, len), 0);
	print_message("footprint: receive pool bookkeeping %zu B for %zu bpages\n",
		      homa_engine_mem_in_use(e) - before, len / HOMA_BPAGE_SIZE);
	assert_true(homa_engine_mem_in_use(e) - before <=
		    16 * (len / HOMA_BPAGE_SIZE) + 256);
	homa_sock_free(s, 0);
	homa_engine_free(e);
	free(region);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_footprint__socket_peer_and_rpc_costs_are_small),
    cmocka_unit_test(test_footprint__receive_region_bookkeeping_per_bpage),
};

HOMA_TEST_MAIN(tests)
