/*
 * test_engine.c - end-to-end behaviour of the protocol engine, two or more
 * engines joined by the test network (tests/common/homa_testnet.h).
 */
#include <errno.h>
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

/* ------------------------------------------------------------ faults */

/* A hook that acts on the nth..(n+count-1)th packets of one type from one host. */
struct fault {
	uint8_t type;
	int from;  /* -1: any */
	int skip;  /* matching packets let through first */
	int count; /* matching packets acted on */
	enum htn_verdict verdict;
	uint64_t delay_ns;
	int32_t offset; /* DATA only: -1 any, else this offset only */
	int seen, hit;
};

static enum htn_verdict fault_hook(void *ctx, struct htn *net, int from, int to,
				   const struct homa_packet *pkt, uint64_t *delay_ns)
{
	struct fault *f = ctx;

	(void)net;
	(void)to;
	if (pkt->common.type != f->type || (f->from >= 0 && from != f->from))
		return HTN_PASS;
	if (f->type == HOMA_PKT_DATA && f->offset >= 0 &&
	    pkt->u.data.offset != (uint32_t)f->offset)
		return HTN_PASS;
	if (f->seen++ < f->skip || f->hit >= f->count)
		return HTN_PASS;
	f->hit++;
	*delay_ns = f->delay_ns;
	return f->verdict;
}

static void add_fault(struct fix *f, struct fault *flt)
{
	f->net->hook = fault_hook;
	f->net->hook_ctx = flt;
}

static const struct homa_stats *stats(struct fix *f, int h)
{
	return homa_engine_stats(f->net->hosts[h].engine);
}

static void finish_idle(struct fix *f)
{
	htn_run_for(f->net, 500 * MS);
	assert_int_equal(homa_engine_num_rpcs(f->net->hosts[0].engine), 0);
	assert_int_equal(homa_engine_num_rpcs(f->net->hosts[1].engine), 0);
}

static void test_loss__lost_data_recovered_by_resend(void **state)
{
	struct fault flt = {HOMA_PKT_DATA, 0, 0, 1, HTN_DROP, 0, 2 * 1416, 0, 0};
	struct fix f;
	uint64_t id;

	(void)state;
	fix_init(&f, NULL);
	add_fault(&f, &flt);
	id = send_req(&f, 20000);
	serve(&f, 20000, 100);
	collect(&f, id, 100);
	assert_int_equal(flt.hit, 1);
	assert_true(stats(&f, 1)->tx_resend >= 1);
	assert_true(stats(&f, 0)->tx_resent_packets >= 1);
	assert_true(stats(&f, 1)->gaps_created >= 1);
	finish_idle(&f);
	fix_done(&f);
}

static void test_loss__lost_grant_recovered(void **state)
{
	struct fault flt = {HOMA_PKT_GRANT, 1, 0, 1, HTN_DROP, 0, -1, 0, 0};
	struct fix f;
	uint64_t id;

	(void)state;
	fix_init(&f, NULL);
	add_fault(&f, &flt);
	id = send_req(&f, 200000);
	serve(&f, 200000, 10);
	collect(&f, id, 10);
	assert_int_equal(flt.hit, 1);
	assert_true(stats(&f, 1)->tx_resend >= 1);
	finish_idle(&f);
	fix_done(&f);
}

static void test_loss__lost_request_restarts_via_rpc_unknown(void **state)
{
	struct fault flt = {HOMA_PKT_DATA, 0, 0, 1, HTN_DROP, 0, -1, 0, 0};
	struct fix f;
	uint64_t id;

	(void)state;
	fix_init(&f, NULL);
	add_fault(&f, &flt);
	id = send_req(&f, 500);
	serve(&f, 500, 500);
	collect(&f, id, 500);
	assert_int_equal(stats(&f, 1)->tx_rpc_unknown, 1);
	assert_int_equal(stats(&f, 0)->rpc_restarts, 1);
	finish_idle(&f);
	fix_done(&f);
}

static void test_loss__lost_response_recovered(void **state)
{
	struct fault flt = {HOMA_PKT_DATA, 1, 0, 1, HTN_DROP, 0, -1, 0, 0};
	struct fix f;
	uint64_t id;

	(void)state;
	fix_init(&f, NULL);
	add_fault(&f, &flt);
	id = send_req(&f, 100);
	serve(&f, 100, 100);
	collect(&f, id, 100);
	assert_int_equal(flt.hit, 1);
	assert_true(stats(&f, 1)->tx_resent_packets >= 1);
	finish_idle(&f);
	fix_done(&f);
}

static void test_failure__server_dies_client_times_out(void **state)
{
	struct homa_recv_msg m;
	struct fix f;
	uint64_t id;

	(void)state;
	fix_init(&f, NULL);
	f.net->hosts[1].dead = 1;
	id = send_req(&f, 100);
	assert_true(htn_run_until(f.net, readable, f.cli, 1000 * MS));
	assert_int_equal(homa_sock_recv(f.cli->sock, 0, f.net->now, &m), 0);
	assert_int_equal(m.id, id);
	assert_int_equal(m.error, ETIMEDOUT);
	assert_int_equal(m.completion_cookie, 77);
	assert_int_equal(stats(&f, 0)->client_rpc_timeouts, 1);
	/* Around timeout_ticks of silence, not much more. */
	assert_true(f.net->now >= 100 * MS && f.net->now <= 110 * MS);
	assert_int_equal(homa_engine_num_rpcs(f.net->hosts[0].engine), 0);
	htn_run_for(f.net, 10 * MS);
	assert_int_equal(homa_engine_next_timeout(f.net->hosts[0].engine), UINT64_MAX);
	fix_done(&f);
}

static int srv_idle(void *ctx)
{
	return homa_engine_num_rpcs(((struct fix *)ctx)->net->hosts[1].engine) == 0;
}

static void test_failure__client_dies_server_reclaims_after_need_ack(void **state)
{
	struct fix f;

	(void)state;
	fix_init(&f, NULL);
	send_req(&f, 100);
	serve(&f, 100, 100);
	f.net->hosts[0].dead = 1;
	assert_true(htn_run_until(f.net, srv_idle, &f, f.net->now + 1000 * MS));
	assert_int_equal(stats(&f, 1)->need_ack_giveups, 1);
	assert_true(stats(&f, 1)->tx_need_ack >= 2);
	/* Spaced by resend_interval, not one per tick. */
	assert_true(stats(&f, 1)->tx_need_ack <= 25);
	f.net->hosts[0].dead = 0;
	fix_done(&f);
}

static void test_at_most_once__delayed_duplicate_request_not_run_twice(void **state)
{
	/* The copy of the request arrives long after the RPC completed and was acked. */
	struct fault flt = {HOMA_PKT_DATA, 0, 0, 1, HTN_DUP, 50 * MS, -1, 0, 0};
	struct fix f;
	uint64_t id;

	(void)state;
	fix_init(&f, NULL);
	add_fault(&f, &flt);
	id = send_req(&f, 100);
	serve(&f, 100, 100);
	collect(&f, id, 100);
	htn_run_for(f.net, 20 * MS);
	assert_int_equal(homa_engine_num_rpcs(f.net->hosts[1].engine), 0);
	finish_idle(&f);
	assert_int_equal(flt.hit, 1);
	assert_int_equal(stats(&f, 1)->drop_tombstone, 1);
	assert_int_equal(stats(&f, 1)->server_requests_done, 1);
	assert_false(homa_sock_readable(f.srv->sock));
	fix_done(&f);
}

static void test_at_most_once__tombstone_drops_late_copy(void **state)
{
	struct fix f;
	uint64_t id;
	uint8_t copy[256];
	size_t n;

	(void)state;
	fix_init(&f, NULL);
	id = send_req(&f, 100);
	serve(&f, 100, 100);
	collect(&f, id, 100);
	/* Let the ack reach the server (NEED_ACK round trip). */
	htn_run_for(f.net, 20 * MS);
	assert_int_equal(homa_engine_num_rpcs(f.net->hosts[1].engine), 0);
	n = hpb_build_data(copy, sizeof(copy), homa_sock_port(f.cli->sock), SERVER_PORT,
			   id, 100, 0, 100);
	htn_inject(f.net, 0, 1, copy, n);
	htn_run_for(f.net, 1 * MS);
	assert_int_equal(stats(&f, 1)->drop_tombstone, 1);
	assert_false(homa_sock_readable(f.srv->sock));
	assert_int_equal(stats(&f, 1)->server_requests_done, 1);
	fix_done(&f);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_rpc__1_byte_each_way),
    cmocka_unit_test(test_rpc__100_bytes_each_way),
    cmocka_unit_test(test_rpc__1_mb_each_way_with_grants),
    cmocka_unit_test(test_rpc__unscheduled_boundary_sizes),
    cmocka_unit_test(test_loss__lost_data_recovered_by_resend),
    cmocka_unit_test(test_loss__lost_grant_recovered),
    cmocka_unit_test(test_loss__lost_request_restarts_via_rpc_unknown),
    cmocka_unit_test(test_loss__lost_response_recovered),
    cmocka_unit_test(test_failure__server_dies_client_times_out),
    cmocka_unit_test(test_failure__client_dies_server_reclaims_after_need_ack),
    cmocka_unit_test(test_at_most_once__delayed_duplicate_request_not_run_twice),
    cmocka_unit_test(test_at_most_once__tombstone_drops_late_copy),
};

HOMA_TEST_MAIN(tests)
