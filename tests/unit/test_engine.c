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

static uint64_t homa_hash64_for_tests(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
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

static void finish_idle_one(struct fix *f)
{
	htn_run_for(f->net, 500 * MS);
	assert_int_equal(homa_engine_num_rpcs(f->net->hosts[0].engine), 0);
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

/* ------------------------------------------------------------- demux */

static void test_demux__response_from_wrong_peer_dropped(void **state)
{
	struct fix f;
	uint8_t pkt[256];
	size_t n;
	uint64_t id;

	(void)state;
	f.net = htn_new(3, NULL, 1000, 25000);
	f.cli = htn_sock(f.net, 0, 0, 64);
	f.srv = htn_sock(f.net, 1, SERVER_PORT, 64);
	f.srv_ep = htn_endpoint(f.net, 1, f.srv);
	f.net->hosts[1].dead = 1; /* the real server stays silent */
	id = send_req(&f, 100);
	htn_run_for(f.net, 1 * MS);
	/* Host 2 answers with the right id and port: not where the request went. */
	n = hpb_build_data(pkt, sizeof(pkt), SERVER_PORT, homa_sock_port(f.cli->sock),
			   id | 1, 100, 0, 100);
	htn_inject(f.net, 2, 0, pkt, n);
	/* So does the right host from the wrong port. */
	n = hpb_build_data(pkt, sizeof(pkt), SERVER_PORT + 1, homa_sock_port(f.cli->sock),
			   id | 1, 100, 0, 100);
	htn_inject(f.net, 1, 0, pkt, n);
	htn_run_for(f.net, 1 * MS);
	assert_int_equal(stats(&f, 0)->drop_wrong_peer, 2);
	assert_false(homa_sock_readable(f.cli->sock));
	f.net->hosts[1].dead = 0;
	fix_done(&f);
}

static void test_demux__request_to_non_server_socket_dropped(void **state)
{
	struct fix f;
	struct htn_sock *plain;
	uint8_t pkt[256];
	size_t n;

	(void)state;
	fix_init(&f, NULL);
	plain = htn_sock(f.net, 1, 0, 64);
	n = hpb_build_data(pkt, sizeof(pkt), homa_sock_port(f.cli->sock),
			   homa_sock_port(plain->sock), 1000, 100, 0, 100);
	htn_inject(f.net, 0, 1, pkt, n);
	htn_run_for(f.net, 1 * MS);
	assert_int_equal(stats(&f, 1)->drop_not_server, 1);
	assert_int_equal(homa_engine_num_rpcs(f.net->hosts[1].engine), 0);
	/* Once it is a server, the same request is accepted. */
	assert_int_equal(homa_sock_set_server(plain->sock, 1), 0);
	htn_inject(f.net, 0, 1, pkt, n);
	htn_run_for(f.net, 1 * MS);
	assert_true(homa_sock_readable(plain->sock));
	fix_done(&f);
}

static void test_demux__wrong_parity_and_unknown_port_dropped(void **state)
{
	struct fix f;
	struct homa_packet p;
	uint8_t buf[256];
	size_t n;
	uint16_t cport;

	(void)state;
	fix_init(&f, NULL);
	cport = homa_sock_port(f.cli->sock);
	/* An ACK must come from a client: sender id odd means it came from a server. */
	hpb_ack(&p, cport, SERVER_PORT, 1001, NULL, 0);
	n = hpb_encode(&p, NULL, 0, buf, sizeof(buf));
	htn_inject(f.net, 0, 1, buf, n);
	/* A NEED_ACK must come from a server. */
	hpb_need_ack(&p, SERVER_PORT, cport, 1000);
	n = hpb_encode(&p, NULL, 0, buf, sizeof(buf));
	htn_inject(f.net, 1, 0, buf, n);
	/* Nobody listens on port 4242. */
	n = hpb_build_data(buf, sizeof(buf), cport, 4242, 1000, 100, 0, 100);
	htn_inject(f.net, 0, 1, buf, n);
	/* Too short to be anything. */
	htn_inject(f.net, 0, 1, buf, 10);
	htn_run_for(f.net, 1 * MS);
	assert_int_equal(stats(&f, 1)->drop_bad_id_parity, 1);
	assert_int_equal(stats(&f, 0)->drop_bad_id_parity, 1);
	assert_int_equal(stats(&f, 1)->drop_no_socket, 1);
	assert_int_equal(stats(&f, 1)->drop_too_short, 1);
	fix_done(&f);
}

static void test_demux__length_change_dropped(void **state)
{
	struct fix f;
	uint8_t buf[2048];
	size_t n;
	uint16_t cport;

	(void)state;
	fix_init(&f, NULL);
	cport = homa_sock_port(f.cli->sock);
	n = hpb_build_data(buf, sizeof(buf), cport, SERVER_PORT, 1000, 3000, 0, 1000);
	htn_inject(f.net, 0, 1, buf, n);
	n = hpb_build_data(buf, sizeof(buf), cport, SERVER_PORT, 1000, 5000, 1000, 1000);
	htn_inject(f.net, 0, 1, buf, n);
	n = hpb_build_data(buf, sizeof(buf), cport, SERVER_PORT, 1000, 3000, 0, 1000);
	htn_inject(f.net, 0, 1, buf, n);
	htn_run_for(f.net, 1 * MS);
	assert_int_equal(stats(&f, 1)->drop_length_changed, 1);
	assert_int_equal(stats(&f, 1)->drop_duplicate_data, 1);
	f.net->hosts[0].dead = 1;
	fix_done(&f);
}

/* ----------------------------------------------------------- private */

static void test_private__only_recv_by_id_returns_it(void **state)
{
	struct fix f;
	struct homa_recv_msg m;
	uint8_t b[100];
	struct homa_iov iov = {b, sizeof(b)};
	uint64_t id;

	(void)state;
	fix_init(&f, NULL);
	hpb_pattern_fill(b, 0, sizeof(b));
	assert_int_equal(homa_sock_send_request(f.cli->sock, &f.srv_ep, &iov, 1, 5,
						HOMA_SENDMSG_PRIVATE, 0, &id),
			 0);
	serve(&f, 100, 100);
	htn_run_for(f.net, 1 * MS);
	assert_int_equal(f.cli->private_ready, 1);
	assert_int_equal(f.cli->last_private_id, id);
	assert_int_equal(f.cli->ready_calls, 0);
	assert_false(homa_sock_readable(f.cli->sock));
	assert_int_equal(homa_sock_recv(f.cli->sock, 0, f.net->now, &m), -EAGAIN);
	assert_int_equal(homa_sock_recv(f.cli->sock, id + 2, f.net->now, &m), -EINVAL);
	assert_string_not_equal(homa_sock_error_msg(f.cli->sock), "");
	assert_int_equal(htn_recv(f.net, f.cli, id, &m, NULL, 0), 0);
	assert_int_equal(m.id, id);
	assert_int_equal(m.completion_cookie, 5);
	assert_int_equal(m.length, 100);
	finish_idle(&f);
	fix_done(&f);
}

/* ------------------------------------------------------------- abort */

static void test_abort__without_error_rpc_vanishes(void **state)
{
	struct fix f;
	struct homa_recv_msg m;
	uint64_t id;

	(void)state;
	fix_init(&f, NULL);
	f.net->hosts[1].dead = 1;
	id = send_req(&f, 100);
	assert_int_equal(homa_sock_abort(f.cli->sock, id, 0, f.net->now), 0);
	assert_int_equal(homa_engine_num_rpcs(f.net->hosts[0].engine), 0);
	assert_int_equal(homa_sock_recv(f.cli->sock, 0, f.net->now, &m), -EAGAIN);
	assert_int_equal(homa_sock_abort(f.cli->sock, id, 0, f.net->now), -EINVAL);
	assert_int_equal(stats(&f, 0)->rpc_aborts, 1);
	fix_done(&f);
}

static void test_abort__with_error_overrides_unread_response(void **state)
{
	struct fix f;
	struct homa_recv_msg m;
	struct homa_sock_info si;
	uint64_t id;

	(void)state;
	fix_init(&f, NULL);
	id = send_req(&f, 100);
	serve(&f, 100, 100000);
	assert_true(htn_run_until(f.net, readable, f.cli, f.net->now + 100 * MS));
	assert_int_equal(homa_sock_abort(f.cli->sock, id, ECANCELED, f.net->now), 0);
	homa_sock_get_info(f.cli->sock, &si, NULL, 0, NULL);
	assert_int_equal(si.bpool_avail_bytes, 64ull << 16); /* its bpages went back */
	assert_int_equal(homa_sock_recv(f.cli->sock, 0, f.net->now, &m), 0);
	assert_int_equal(m.id, id);
	assert_int_equal(m.error, ECANCELED);
	assert_int_equal(m.num_bpages, 0);
	fix_done(&f);
}

static void test_abort__with_error_completes_every_client_rpc(void **state)
{
	struct fix f;
	struct homa_recv_msg m;
	uint64_t a, b;

	(void)state;
	fix_init(&f, NULL);
	f.net->hosts[1].dead = 1;
	a = send_req(&f, 100);
	b = send_req(&f, 100);
	assert_int_equal(homa_sock_abort(f.cli->sock, 0, ECANCELED, f.net->now), 0);
	assert_int_equal(f.cli->ready_calls, 2);
	assert_int_equal(homa_sock_recv(f.cli->sock, 0, f.net->now, &m), 0);
	assert_int_equal(m.id, a);
	assert_int_equal(m.error, ECANCELED);
	assert_int_equal(homa_sock_recv(f.cli->sock, 0, f.net->now, &m), 0);
	assert_int_equal(m.id, b);
	assert_int_equal(m.error, ECANCELED);
	assert_int_equal(homa_engine_num_rpcs(f.net->hosts[0].engine), 0);
	fix_done(&f);
}

/* ----------------------------------------------------------- buffers */

static void test_buffers__pool_exhaustion_stalls_then_restarts(void **state)
{
	struct fix f;
	struct homa_recv_msg m1, m2;
	struct homa_rpc_info info[4];
	struct homa_sock_info si;
	size_t count;

	(void)state;
	f.net = htn_new(2, NULL, 1000, 25000);
	f.cli = htn_sock(f.net, 0, 0, 64);
	f.srv = htn_sock(f.net, 1, SERVER_PORT, 17); /* room for one 1 MB message */
	f.srv_ep = htn_endpoint(f.net, 1, f.srv);
	send_req(&f, 1000000);
	send_req(&f, 1000000);
	assert_true(htn_run_until(f.net, readable, f.srv, 500 * MS));
	htn_run_for(f.net, 5 * MS);
	assert_int_equal(stats(&f, 1)->buffer_alloc_failures, 1);
	assert_true(stats(&f, 1)->drop_no_buffers >= 1);
	homa_sock_get_info(f.srv->sock, &si, info, 4, &count);
	assert_int_equal(count, 2);
	assert_true((info[0].flags | info[1].flags) & HOMA_RPC_BUF_STALL);
	/* Taking the first message and returning its bpages restarts the second. */
	assert_int_equal(homa_sock_recv(f.srv->sock, 0, f.net->now, &m1), 0);
	assert_int_equal(
	    homa_sock_release_bpages(f.srv->sock, m1.bpage_offsets, m1.num_bpages), 0);
	assert_int_equal(stats(&f, 1)->buffer_stall_restarts, 1);
	assert_true(htn_run_until(f.net, readable, f.srv, f.net->now + 500 * MS));
	assert_int_equal(htn_recv(f.net, f.srv, 0, &m2, NULL, 0), 0);
	assert_int_equal(m2.length, 1000000);
	assert_int_not_equal(m1.id, m2.id);
	f.net->hosts[0].dead = 1;
	fix_done(&f);
}

static void test_buffers__stalled_rpc_eventually_times_out(void **state)
{
	struct fix f;
	struct homa_recv_msg m1;
	size_t count;

	(void)state;
	f.net = htn_new(2, NULL, 1000, 25000);
	f.cli = htn_sock(f.net, 0, 0, 64);
	f.srv = htn_sock(f.net, 1, SERVER_PORT, 17);
	f.srv_ep = htn_endpoint(f.net, 1, f.srv);
	send_req(&f, 1000000);
	send_req(&f, 1000000);
	assert_true(htn_run_until(f.net, readable, f.srv, 500 * MS));
	/* The application holds the first message's bpages forever. */
	assert_int_equal(homa_sock_recv(f.srv->sock, 0, f.net->now, &m1), 0);
	htn_run_for(f.net, 150 * MS);
	/* The stalled request was reclaimed; its client restarted it. */
	assert_int_equal(stats(&f, 1)->server_rpc_timeouts, 1);
	assert_int_equal(stats(&f, 0)->rpc_restarts, 1);
	homa_sock_get_info(f.srv->sock, NULL, NULL, 0, &count);
	assert_int_equal(count, 2);
	f.net->hosts[0].dead = 1;
	fix_done(&f);
}

/* ------------------------------------------------------- send memory */

static void test_wmem__full_returns_eagain_then_writable(void **state)
{
	struct homa_settings s;
	struct fix f;
	uint64_t id;
	uint8_t b[60000];
	struct homa_iov iov = {b, sizeof(b)};
	struct homa_recv_msg m;

	(void)state;
	homa_settings_default(&s);
	s.wmem_max = 100000;
	fix_init(&f, &s);
	hpb_pattern_fill(b, 0, sizeof(b));
	assert_int_equal(
	    homa_sock_send_request(f.cli->sock, &f.srv_ep, &iov, 1, 0, 0, 0, &id), 0);
	assert_int_equal(
	    homa_sock_send_request(f.cli->sock, &f.srv_ep, &iov, 1, 0, 0, 0, &id),
	    -EAGAIN);
	assert_int_equal(stats(&f, 0)->send_memory_full, 1);
	assert_int_equal(f.cli->writable_calls, 0);
	serve(&f, 60000, 10);
	assert_true(htn_run_until(f.net, readable, f.cli, f.net->now + 500 * MS));
	assert_int_equal(htn_recv(f.net, f.cli, 0, &m, NULL, 0), 0);
	assert_int_equal(f.cli->writable_calls, 1);
	assert_true(homa_sock_writable(f.cli->sock));
	assert_int_equal(
	    homa_sock_send_request(f.cli->sock, &f.srv_ep, &iov, 1, 0, 0, 0, &id), 0);
	f.net->hosts[1].dead = 1;
	fix_done(&f);
}

/* ------------------------------------------------------ priorities */

struct prio_watch {
	int data_prio[4]; /* priority of the first DATA of each request from host 0 */
	uint16_t version[4];
	int n;
};

static enum htn_verdict prio_hook(void *ctx, struct htn *net, int from, int to,
				  const struct homa_packet *pkt, uint64_t *delay_ns)
{
	struct prio_watch *w = ctx;

	(void)to;
	(void)delay_ns;
	if (from == 0 && pkt->common.type == HOMA_PKT_DATA && w->n < 4) {
		w->data_prio[w->n] = net->hosts[0].last_priority[0];
		w->version[w->n] = pkt->u.data.cutoff_version;
		w->n++;
	}
	return HTN_PASS;
}

static void test_cutoffs__exchanged_then_used_for_unscheduled_priority(void **state)
{
	struct prio_watch w = {{0}, {0}, 0};
	struct fix f;
	uint64_t id;
	uint32_t c[HOMA_MAX_PRIORITIES];
	uint16_t v;

	(void)state;
	fix_init(&f, NULL);
	f.net->hook = prio_hook;
	f.net->hook_ctx = &w;
	homa_engine_cutoffs(f.net->hosts[1].engine, c, &v);
	assert_int_equal(v, 1);
	assert_int_equal(c[7], 200);
	id = send_req(&f, 100);
	serve(&f, 100, 100);
	collect(&f, id, 100);
	id = send_req(&f, 100);
	serve(&f, 100, 100);
	collect(&f, id, 100);
	assert_int_equal(w.n, 2);
	/* Before any CUTOFFS: level num_priorities - 2; echo version 0. */
	assert_int_equal(w.data_prio[0], 6);
	assert_int_equal(w.version[0], 0);
	/* After: the receiver's table puts 100 B at level 7, version echoed. */
	assert_int_equal(w.data_prio[1], 7);
	assert_int_equal(w.version[1], 1);
	assert_int_equal(stats(&f, 1)->tx_cutoffs, 1);
	assert_int_equal(stats(&f, 0)->rx_cutoffs, 1);
	/* Control packets go at the top level. */
	assert_int_equal(
	    f.net->hosts[1].last_priority[HOMA_PKT_CUTOFFS - HOMA_PKT_TYPE_MIN], 7);
	finish_idle(&f);
	fix_done(&f);
}

static void test_cutoffs__single_priority_sends_everything_at_zero(void **state)
{
	struct homa_settings s;
	struct fix f;
	uint64_t id;
	int t;

	(void)state;
	homa_settings_default(&s);
	s.num_priorities = 1;
	fix_init(&f, &s);
	id = send_req(&f, 200000);
	serve(&f, 200000, 100);
	collect(&f, id, 100);
	finish_idle(&f);
	for (t = 0; t < HOMA_PKT_TYPE_COUNT; t++) {
		assert_int_equal(f.net->hosts[0].last_priority[t], 0);
		assert_int_equal(f.net->hosts[1].last_priority[t], 0);
	}
	assert_int_equal(stats(&f, 1)->tx_cutoffs, 0);
	fix_done(&f);
}

static void test_cutoffs__recomputed_from_size_mix(void **state)
{
	struct homa_settings s;
	struct fix f;
	uint32_t c[HOMA_MAX_PRIORITIES];
	uint16_t v;
	int i;

	(void)state;
	homa_settings_default(&s);
	s.prio_min_messages = 20;
	s.prio_interval_ns = 10 * MS;
	fix_init(&f, &s);
	for (i = 0; i < 30; i++) {
		uint64_t id = send_req(&f, (size_t)(100 + i * 3000));

		serve(&f, (size_t)(100 + i * 3000), 10);
		collect(&f, id, 10);
	}
	htn_run_for(f.net, 30 * MS);
	homa_engine_cutoffs(f.net->hosts[1].engine, c, &v);
	assert_int_equal(stats(&f, 1)->cutoffs_recomputed, 1);
	assert_int_equal(v, 2);
	assert_int_not_equal(c[7], 200);
	finish_idle(&f);
	fix_done(&f);
}

/* ------------------------------------------------------------ grants */

struct bound_watch {
	uint64_t worst_excess; /* max(incoming - bound), 0 if never exceeded */
	uint64_t max_incoming_seen;
};

static enum htn_verdict bound_hook(void *ctx, struct htn *net, int from, int to,
				   const struct homa_packet *pkt, uint64_t *delay_ns)
{
	struct bound_watch *w = ctx;
	uint64_t in, bound;
	int h;

	(void)from;
	(void)to;
	(void)pkt;
	(void)delay_ns;
	for (h = 0; h < net->num_hosts; h++) {
		homa_engine_grant_state(net->hosts[h].engine, &in, &bound);
		if (in > bound && in - bound > w->worst_excess)
			w->worst_excess = in - bound;
		if (in > w->max_incoming_seen)
			w->max_incoming_seen = in;
	}
	return HTN_PASS;
}

static int all_served(void *ctx)
{
	struct fix *f = ctx;
	struct homa_recv_msg m;

	while (homa_sock_readable(f->srv->sock)) {
		uint8_t b = 1;
		struct homa_iov iov = {&b, 1};

		if (htn_recv(f->net, f->srv, 0, &m, NULL, 0) != 0)
			return 0;
		homa_sock_reply(f->srv->sock, m.id, &m.peer, &iov, 1, f->net->now);
	}
	return stats(f, 1)->server_responses_started == 6;
}

static void test_grants__incoming_stays_under_max_incoming(void **state)
{
	struct bound_watch w = {0, 0};
	struct homa_settings s;
	struct fix f;
	struct htn_sock *more[2];
	int i, k;

	(void)state;
	homa_settings_default(&s);
	s.max_incoming = 200000;
	f.net = htn_new(3, &s, 1000, 25000);
	f.cli = htn_sock(f.net, 0, 0, 64);
	f.srv = htn_sock(f.net, 1, SERVER_PORT, 128);
	f.srv_ep = htn_endpoint(f.net, 1, f.srv);
	more[0] = f.cli;
	more[1] = htn_sock(f.net, 2, 0, 64);
	f.net->hook = bound_hook;
	f.net->hook_ctx = &w;
	for (i = 0; i < 3; i++) {
		for (k = 0; k < 2; k++) {
			uint8_t *b = pattern(800000);
			struct homa_iov iov = {b, 800000};
			uint64_t id;

			assert_int_equal(homa_sock_send_request(more[k]->sock, &f.srv_ep,
								&iov, 1, 0, 0, f.net->now,
								&id),
					 0);
			free(b);
		}
	}
	assert_true(htn_run_until(f.net, all_served, &f, 2000 * MS));
	assert_int_equal(w.worst_excess, 0);
	assert_true(w.max_incoming_seen > 0);
	assert_true(stats(&f, 1)->tx_grant > 10);
	assert_int_equal(stats(&f, 1)->server_requests_done, 6);
	htn_run_for(f.net, 100 * MS);
	fix_done(&f);
}

/* ---------------------------------------------------------- shutdown */

static void test_shutdown__ends_rpcs_acks_servers_and_refuses_calls(void **state)
{
	struct fix f;
	struct homa_recv_msg m;
	uint8_t b = 1;
	struct homa_iov iov = {&b, 1};
	uint64_t id;

	(void)state;
	fix_init(&f, NULL);
	id = send_req(&f, 100);
	serve(&f, 100, 100);
	htn_run_for(f.net, 1 * MS); /* response received, not consumed */
	assert_int_equal(homa_engine_num_rpcs(f.net->hosts[1].engine), 1);
	homa_sock_shutdown(f.cli->sock, f.net->now);
	homa_sock_shutdown(f.cli->sock, f.net->now); /* idempotent */
	assert_int_equal(homa_engine_num_rpcs(f.net->hosts[0].engine), 0);
	assert_int_equal(homa_sock_send_request(f.cli->sock, &f.srv_ep, &iov, 1, 0, 0,
						f.net->now, &id),
			 -ESHUTDOWN);
	assert_int_equal(homa_sock_recv(f.cli->sock, 0, f.net->now, &m), -ESHUTDOWN);
	assert_int_equal(homa_sock_abort(f.cli->sock, 0, 0, f.net->now), -ESHUTDOWN);
	assert_int_equal(homa_sock_bind(f.cli->sock, 5), -ESHUTDOWN);
	assert_true(homa_sock_readable(f.cli->sock));
	/* The server hears the ack at once instead of NEED_ACKing a dead port. */
	htn_run_for(f.net, 1 * MS);
	assert_int_equal(homa_engine_num_rpcs(f.net->hosts[1].engine), 0);
	assert_int_equal(stats(&f, 1)->tx_need_ack, 0);
	fix_done(&f);
}

/* -------------------------------------------------------------- info */

static void test_info__describes_live_rpcs_and_socket(void **state)
{
	struct fix f;
	struct homa_sock_info si;
	struct homa_rpc_info ri[2];
	size_t count;
	uint64_t id;

	(void)state;
	fix_init(&f, NULL);
	f.net->hosts[1].dead = 1;
	id = send_req(&f, 100000);
	homa_sock_get_info(f.cli->sock, &si, ri, 2, &count);
	assert_int_equal(count, 1);
	assert_int_equal(si.num_rpcs, 1);
	assert_int_equal(si.port, homa_sock_port(f.cli->sock));
	assert_int_equal(si.send_memory, 100000);
	assert_int_equal(si.bpool_avail_bytes, 64ull << 16);
	assert_int_equal(ri[0].id, id);
	assert_int_equal(ri[0].completion_cookie, 77);
	assert_int_equal(ri[0].peer.port, SERVER_PORT);
	assert_int_equal(ri[0].tx_length, 100000);
	assert_int_equal(ri[0].tx_granted, 40000);
	assert_true(ri[0].tx_sent > 0 && ri[0].tx_sent <= 40000);
	assert_int_equal(ri[0].rx_length, -1);
	assert_int_equal(ri[0].flags, 0);
	fix_done(&f);
}

/* ------------------------------------------------------- unreachable */

static void test_unreachable__fails_client_rpcs_with_the_error(void **state)
{
	struct fix f;
	struct homa_recv_msg m;
	uint64_t id;

	(void)state;
	fix_init(&f, NULL);
	f.net->hosts[1].dead = 1;
	id = send_req(&f, 100);
	homa_engine_unreachable(f.net->hosts[0].engine, &f.srv_ep.addr, SERVER_PORT + 1,
				ENOTCONN, f.net->now);
	assert_false(homa_sock_readable(f.cli->sock));
	homa_engine_unreachable(f.net->hosts[0].engine, &f.srv_ep.addr, 0, EHOSTUNREACH,
				f.net->now);
	assert_int_equal(homa_sock_recv(f.cli->sock, 0, f.net->now, &m), 0);
	assert_int_equal(m.id, id);
	assert_int_equal(m.error, EHOSTUNREACH);
	fix_done(&f);
}

/* ---------------------------------------------------------- loopback */

static void test_rpc__client_and_server_on_one_engine(void **state)
{
	struct htn *net = htn_new(1, NULL, 1000, 0);
	struct fix f;
	uint64_t id;

	(void)state;
	f.net = net;
	f.cli = htn_sock(net, 0, 0, 64);
	f.srv = htn_sock(net, 0, SERVER_PORT, 64);
	f.srv_ep = htn_endpoint(net, 0, f.srv);
	id = send_req(&f, 5000);
	serve(&f, 5000, 70000);
	collect(&f, id, 70000);
	finish_idle_one(&f);
	assert_int_equal(homa_engine_num_peers(net->hosts[0].engine), 1);
	fix_done(&f);
}

/* ------------------------------------------------------------ chaos */

struct chaos {
	uint64_t x;
	unsigned drop, dup, delay; /* per mille */
};

static enum htn_verdict chaos_hook(void *ctx, struct htn *net, int from, int to,
				   const struct homa_packet *pkt, uint64_t *delay_ns)
{
	struct chaos *c = ctx;
	unsigned r;

	(void)net, (void)from, (void)to, (void)pkt;
	c->x ^= c->x << 13;
	c->x ^= c->x >> 7;
	c->x ^= c->x << 17;
	r = (unsigned)(c->x % 1000);
	*delay_ns = (c->x >> 20) % 50000;
	if (r < c->drop)
		return HTN_DROP;
	if (r < c->drop + c->dup)
		return HTN_DUP;
	if (r < c->drop + c->dup + c->delay)
		return HTN_DELAY;
	return HTN_PASS;
}

#define CHAOS_RPCS 60

struct chaos_run {
	struct htn *net;
	struct htn_sock *cli[2], *srv;
	int executed, completed;
	uint64_t seen_ids[2 * CHAOS_RPCS];
	int num_seen;
};

static size_t chaos_len(uint64_t id)
{
	return (size_t)(homa_hash64_for_tests(id) % 200000) + 1;
}

static int chaos_step(void *ctx)
{
	struct chaos_run *r = ctx;
	struct homa_recv_msg m;
	int i, k;

	while (homa_sock_recv(r->srv->sock, 0, r->net->now, &m) == 0) {
		size_t len = chaos_len(m.id);
		uint8_t *b = pattern(len);
		struct homa_iov iov = {b, len};

		for (k = 0; k < r->num_seen; k++)
			assert_true(r->seen_ids[k] != m.id); /* never executed twice */
		r->seen_ids[r->num_seen++] = m.id;
		r->executed++;
		homa_sock_release_bpages(r->srv->sock, m.bpage_offsets, m.num_bpages);
		assert_int_equal(
		    homa_sock_reply(r->srv->sock, m.id, &m.peer, &iov, 1, r->net->now),
		    0);
		free(b);
	}
	for (i = 0; i < 2; i++) {
		uint8_t *got = malloc(200001);

		while (htn_recv(r->net, r->cli[i], 0, &m, got, 200001) == 0) {
			assert_int_equal(m.error, 0);
			assert_int_equal(m.length, chaos_len(m.id | 1));
			assert_int_equal(hpb_pattern_check(got, 0, m.length), m.length);
			r->completed++;
		}
		free(got);
	}
	return r->completed == 2 * CHAOS_RPCS;
}

static void test_chaos__loss_dup_reorder_every_rpc_once_and_intact(void **state)
{
	struct chaos c = {88172645463325252ull, 100, 50, 100};
	struct chaos_run r;
	struct homa_endpoint ep;
	int i, k;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.net = htn_new(3, NULL, 2000, 25000);
	r.cli[0] = htn_sock(r.net, 0, 0, 64);
	r.cli[1] = htn_sock(r.net, 1, 0, 64);
	r.srv = htn_sock(r.net, 2, SERVER_PORT, 256);
	ep = htn_endpoint(r.net, 2, r.srv);
	r.net->hook = chaos_hook;
	r.net->hook_ctx = &c;
	for (i = 0; i < CHAOS_RPCS; i++) {
		for (k = 0; k < 2; k++) {
			size_t len =
			    (size_t)(homa_hash64_for_tests((uint64_t)(i * 2 + k)) %
				     300000) +
			    1;
			uint8_t *b = pattern(len);
			struct homa_iov iov = {b, len};
			uint64_t id;

			assert_int_equal(homa_sock_send_request(r.cli[k]->sock, &ep, &iov,
								1, 0, 0, r.net->now, &id),
					 0);
			free(b);
		}
	}
	assert_true(htn_run_until(r.net, chaos_step, &r, 20000 * MS));
	assert_int_equal(r.executed, 2 * CHAOS_RPCS);
	htn_run_for(r.net, 3000 * MS);
	for (i = 0; i < 3; i++)
		assert_int_equal(homa_engine_num_rpcs(r.net->hosts[i].engine), 0);
	assert_true(homa_engine_stats(r.net->hosts[2].engine)->tx_resend > 0);
	assert_int_equal(htn_free(r.net), 0);
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
    cmocka_unit_test(test_demux__response_from_wrong_peer_dropped),
    cmocka_unit_test(test_demux__request_to_non_server_socket_dropped),
    cmocka_unit_test(test_demux__wrong_parity_and_unknown_port_dropped),
    cmocka_unit_test(test_demux__length_change_dropped),
    cmocka_unit_test(test_private__only_recv_by_id_returns_it),
    cmocka_unit_test(test_abort__without_error_rpc_vanishes),
    cmocka_unit_test(test_abort__with_error_completes_every_client_rpc),
    cmocka_unit_test(test_abort__with_error_overrides_unread_response),
    cmocka_unit_test(test_buffers__pool_exhaustion_stalls_then_restarts),
    cmocka_unit_test(test_buffers__stalled_rpc_eventually_times_out),
    cmocka_unit_test(test_wmem__full_returns_eagain_then_writable),
    cmocka_unit_test(test_cutoffs__exchanged_then_used_for_unscheduled_priority),
    cmocka_unit_test(test_cutoffs__single_priority_sends_everything_at_zero),
    cmocka_unit_test(test_cutoffs__recomputed_from_size_mix),
    cmocka_unit_test(test_grants__incoming_stays_under_max_incoming),
    cmocka_unit_test(test_shutdown__ends_rpcs_acks_servers_and_refuses_calls),
    cmocka_unit_test(test_info__describes_live_rpcs_and_socket),
    cmocka_unit_test(test_unreachable__fails_client_rpcs_with_the_error),
    cmocka_unit_test(test_rpc__client_and_server_on_one_engine),
    cmocka_unit_test(test_chaos__loss_dup_reorder_every_rpc_once_and_intact),
};

HOMA_TEST_MAIN(tests)
