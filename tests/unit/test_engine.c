/*
 * test_engine.c - end-to-end behaviour of the protocol engine, two or more
 * engines joined by the test network (tests/common/homa_testnet.h).
 */
#include <stdlib.h>
#include <string.h>

#include "homa_test.h"
#include "homa_testnet.h"
#include "homa_pktbuild.h"

#define MS	    1000000ull
#define SERVER_PORT 99

struct fix {
	struct htn *net;
	struct htn_sock *cli; /* host 0 */
	struct htn_sock *srv; /* host 1, bound to SERVER_PORT */
	struct homa_endpoint srv_ep;
};

static void fix_init(struct fix *f, const struct homa_settings *s)
{
	f->net = htn_new(2, s, 1000, 25000);
	f->cli = htn_sock(f->net, 0, 0, 64);
	f->srv = htn_sock(f->net, 1, SERVER_PORT, 64);
	f->srv_ep = htn_endpoint(f->net, 1, f->srv);
}

static void fix_done(struct fix *f)
{
	assert_int_equal(htn_free(f->net), 0);
}

static int readable(void *ctx)
{
	return homa_sock_readable(((struct htn_sock *)ctx)->sock);
}

static uint8_t *pattern(size_t len)
{
	uint8_t *b = malloc(len);

	hpb_pattern_fill(b, 0, len);
	return b;
}

static uint64_t send_req(struct fix *f, size_t len)
{
	uint8_t *b = pattern(len);
	struct homa_iov iov = {b, len};
	uint64_t id = 0;

	assert_int_equal(homa_sock_send_request(f->cli->sock, &f->srv_ep, &iov, 1, 77, 0,
						f->net->now, &id),
			 0);
	free(b);
	return id;
}

/* Server side: takes the request, checks it, answers with reply_len bytes. */
static void serve(struct fix *f, size_t req_len, size_t reply_len)
{
	struct homa_recv_msg m;
	uint8_t *got = malloc(req_len), *b;
	struct homa_iov iov;

	assert_true(htn_run_until(f->net, readable, f->srv, f->net->now + 500 * MS));
	assert_int_equal(htn_recv(f->net, f->srv, 0, &m, got, req_len), 0);
	assert_int_equal(m.error, 0);
	assert_int_equal(m.length, req_len);
	assert_true(m.id & 1);
	assert_int_equal(hpb_pattern_check(got, 0, req_len), req_len);
	free(got);
	b = pattern(reply_len);
	iov.base = b;
	iov.len = reply_len;
	assert_int_equal(
	    homa_sock_reply(f->srv->sock, m.id, &m.peer, &iov, 1, f->net->now), 0);
	free(b);
}

static void collect(struct fix *f, uint64_t id, size_t reply_len)
{
	struct homa_recv_msg m;
	uint8_t *got = malloc(reply_len);

	assert_true(htn_run_until(f->net, readable, f->cli, f->net->now + 500 * MS));
	assert_int_equal(htn_recv(f->net, f->cli, 0, &m, got, reply_len), 0);
	assert_int_equal(m.error, 0);
	assert_int_equal(m.id, id);
	assert_int_equal(m.completion_cookie, 77);
	assert_int_equal(m.length, reply_len);
	assert_int_equal(hpb_pattern_check(got, 0, reply_len), reply_len);
	free(got);
}

static void round_trip(size_t req_len, size_t reply_len)
{
	struct fix f;
	uint64_t id;

	fix_init(&f, NULL);
	id = send_req(&f, req_len);
	assert_true((id & 1) == 0);
	serve(&f, req_len, reply_len);
	collect(&f, id, reply_len);
	htn_run_for(f.net, 300 * MS);
	assert_int_equal(homa_engine_num_rpcs(f.net->hosts[0].engine), 0);
	assert_int_equal(homa_engine_num_rpcs(f.net->hosts[1].engine), 0);
	fix_done(&f);
}

static void test_rpc__1_byte_each_way(void **state)
{
	(void)state;
	round_trip(1, 1);
}

static void test_rpc__100_bytes_each_way(void **state)
{
	(void)state;
	round_trip(100, 100);
}

static void test_rpc__1_mb_each_way_with_grants(void **state)
{
	(void)state;
	round_trip(1000000, 1000000);
}

static void test_rpc__unscheduled_boundary_sizes(void **state)
{
	(void)state;
	round_trip(40000, 40001);
	round_trip(1416, 1417);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_rpc__1_byte_each_way),
    cmocka_unit_test(test_rpc__100_bytes_each_way),
    cmocka_unit_test(test_rpc__1_mb_each_way_with_grants),
    cmocka_unit_test(test_rpc__unscheduled_boundary_sizes),
};

HOMA_TEST_MAIN(tests)
