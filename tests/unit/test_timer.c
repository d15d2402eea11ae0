/*
 * test_timer.c - the tick rules of section 7 and their fixes, seen from the
 * packets the engines send: when RESENDs, NEED_ACKs and timeouts happen.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "homa_test.h"
#include "homa_testnet.h"

#define MS	    1000000ull
#define SERVER_PORT 99

struct times {
	uint8_t type;
	int from;
	int drop_data_from; /* -1: none */
	uint64_t at[64];
	int n;
};

static enum htn_verdict times_hook(void *ctx, struct htn *net, int from, int to,
				   const struct homa_packet *pkt, uint64_t *delay_ns)
{
	struct times *t = ctx;

	(void)to;
	(void)delay_ns;
	if (pkt->common.type == t->type && from == t->from && t->n < 64)
		t->at[t->n++] = net->now;
	if (pkt->common.type == HOMA_PKT_DATA && from == t->drop_data_from)
		return HTN_DROP;
	return HTN_PASS;
}

static int readable(void *ctx)
{
	return homa_sock_readable(((struct htn_sock *)ctx)->sock);
}

static uint64_t send_req(struct htn *net, struct htn_sock *c, size_t len)
{
	struct homa_endpoint ep = {net->hosts[1].addr, SERVER_PORT};
	uint8_t *b = calloc(1, len);
	struct homa_iov iov = {b, len};
	uint64_t id = 0;

	assert_int_equal(
	    homa_sock_send_request(c->sock, &ep, &iov, 1, 0, 0, net->now, &id), 0);
	free(b);
	return id;
}

static void test_timer__resends_spaced_by_interval_then_etimedout(void **state)
{
	struct times t = {HOMA_PKT_RESEND, 0, 1, {0}, 0};
	struct homa_settings st;
	struct htn *net;
	struct htn_sock *c, *s;
	struct homa_recv_msg m;
	uint8_t b = 1;
	struct homa_iov iov = {&b, 1};
	int i;

	(void)state;
	/* Keep NEED_ACK (which also makes the client RESEND) out of the way. */
	homa_settings_default(&st);
	st.request_ack_ticks = 150;
	st.need_ack_timeout_ticks = 300;
	net = htn_new(2, &st, 1000, 0);
	c = htn_sock(net, 0, 0, 64);
	s = htn_sock(net, 1, SERVER_PORT, 64);
	net->hook = times_hook;
	net->hook_ctx = &t;
	send_req(net, c, 100);
	assert_true(htn_run_until(net, readable, s, 10 * MS));
	assert_int_equal(htn_recv(net, s, 0, &m, NULL, 0), 0);
	/* The response, and every retransmission of it, is lost. */
	assert_int_equal(homa_sock_reply(s->sock, m.id, &m.peer, &iov, 1, net->now), 0);
	assert_true(htn_run_until(net, readable, c, 1000 * MS));
	assert_int_equal(homa_sock_recv(c->sock, 0, net->now, &m), 0);
	assert_int_equal(m.error, ETIMEDOUT);
	/* First RESEND after resend_ticks of silence, then every resend_interval. */
	assert_true(t.n >= 18 && t.n <= 20);
	assert_true(t.at[0] >= 4 * MS && t.at[0] <= 6 * MS);
	for (i = 1; i < t.n; i++)
		assert_int_equal(t.at[i] - t.at[i - 1], 5 * MS);
	/* The server answered each with the lost response, so it stayed alive;
	 * without acks it then gives up. */
	assert_true(homa_engine_stats(net->hosts[1].engine)->tx_resent_packets >= 18);
	/* Each RESEND restarted its NEED_ACK wait: the first comes 150 ticks
	 * after the last RESEND, and the client acks the RPC it forgot. */
	htn_run_for(net, 200 * MS);
	assert_int_equal(homa_engine_num_rpcs(net->hosts[1].engine), 0);
	assert_int_equal(homa_engine_stats(net->hosts[1].engine)->need_ack_giveups, 0);
	assert_int_equal(htn_free(net), 0);
}

static void test_timer__busy_server_keeps_client_alive(void **state)
{
	struct htn *net = htn_new(2, NULL, 1000, 0);
	struct htn_sock *c = htn_sock(net, 0, 0, 64);
	struct htn_sock *s = htn_sock(net, 1, SERVER_PORT, 64);
	struct homa_recv_msg m;
	uint8_t b = 1;
	struct homa_iov iov = {&b, 1};

	(void)state;
	send_req(net, c, 100);
	assert_true(htn_run_until(net, readable, s, 10 * MS));
	assert_int_equal(htn_recv(net, s, 0, &m, NULL, 0), 0);
	/* The application takes 500 ms, five times timeout_ticks. */
	htn_run_for(net, 500 * MS);
	assert_true(homa_engine_stats(net->hosts[1].engine)->tx_busy >= 90);
	assert_int_equal(homa_engine_stats(net->hosts[0].engine)->client_rpc_timeouts, 0);
	assert_int_equal(homa_sock_reply(s->sock, m.id, &m.peer, &iov, 1, net->now), 0);
	assert_true(htn_run_until(net, readable, c, net->now + 10 * MS));
	assert_int_equal(htn_recv(net, c, 0, &m, NULL, 0), 0);
	assert_int_equal(m.error, 0);
	assert_int_equal(htn_free(net), 0);
}

static void test_timer__need_ack_after_request_ack_ticks_then_spaced(void **state)
{
	struct times t = {HOMA_PKT_NEED_ACK, 1, -1, {0}, 0};
	struct htn *net = htn_new(2, NULL, 1000, 0);
	struct htn_sock *c = htn_sock(net, 0, 0, 64);
	struct htn_sock *s = htn_sock(net, 1, SERVER_PORT, 64);
	struct homa_recv_msg m;
	uint8_t b = 1;
	struct homa_iov iov = {&b, 1};
	uint64_t sent;
	int i;

	(void)state;
	net->hook = times_hook;
	net->hook_ctx = &t;
	send_req(net, c, 100);
	assert_true(htn_run_until(net, readable, s, 10 * MS));
	assert_int_equal(htn_recv(net, s, 0, &m, NULL, 0), 0);
	net->hosts[0].dead = 1;
	sent = net->now;
	assert_int_equal(homa_sock_reply(s->sock, m.id, &m.peer, &iov, 1, net->now), 0);
	htn_run_for(net, 200 * MS);
	assert_int_equal(homa_engine_num_rpcs(net->hosts[1].engine), 0);
	assert_true(t.at[0] - sent > 1 * MS && t.at[0] - sent <= 2 * MS);
	for (i = 1; i < t.n; i++)
		assert_int_equal(t.at[i] - t.at[i - 1], 5 * MS);
	/* need_ack_timeout_ticks = 100: about 20 NEED_ACKs, then reclaimed. */
	assert_true(t.n >= 19 && t.n <= 20);
	net->hosts[0].dead = 0;
	assert_int_equal(htn_free(net), 0);
}

static void test_timer__idle_engine_reports_no_timeout(void **state)
{
	struct htn *net = htn_new(2, NULL, 1000, 0);

	(void)state;
	htn_sock(net, 0, 0, 64);
	assert_int_equal(homa_engine_next_timeout(net->hosts[0].engine), UINT64_MAX);
	assert_int_equal(htn_free(net), 0);
}

static void test_timer__rpcs_waiting_only_for_the_app_need_no_ticks(void **state)
{
	struct htn *net = htn_new(2, NULL, 1000, 0);
	struct htn_sock *c = htn_sock(net, 0, 0, 64);
	struct htn_sock *s = htn_sock(net, 1, SERVER_PORT, 64);
	struct homa_recv_msg m;
	uint8_t b = 1;
	struct homa_iov iov = {&b, 1};

	(void)state;
	send_req(net, c, 100);
	assert_true(htn_run_until(net, readable, s, 10 * MS));
	/* Ready to be read: nothing for the server's timer to do. */
	assert_int_equal(homa_engine_next_timeout(net->hosts[1].engine), UINT64_MAX);
	assert_int_equal(htn_recv(net, s, 0, &m, NULL, 0), 0);
	net->hosts[0].dead = 1; /* the client vanishes */
	htn_run_for(net, 1000 * MS);
	/* In service forever (as the reference), but no ticks meanwhile. */
	assert_int_equal(homa_engine_num_rpcs(net->hosts[1].engine), 1);
	assert_int_equal(homa_engine_next_timeout(net->hosts[1].engine), UINT64_MAX);
	/* Replying restarts the tick: NEED_ACK, then give up. */
	assert_int_equal(homa_sock_reply(s->sock, m.id, &m.peer, &iov, 1, net->now), 0);
	assert_true(homa_engine_next_timeout(net->hosts[1].engine) <= net->now + MS);
	htn_run_for(net, 200 * MS);
	assert_int_equal(homa_engine_num_rpcs(net->hosts[1].engine), 0);
	net->hosts[0].dead = 0;
	assert_int_equal(htn_free(net), 0);
}

static void test_timer__unreachable_client_drops_unread_request(void **state)
{
	struct htn *net = htn_new(2, NULL, 1000, 0);
	struct htn_sock *c = htn_sock(net, 0, 0, 64);
	struct htn_sock *s = htn_sock(net, 1, SERVER_PORT, 64);

	(void)state;
	send_req(net, c, 100);
	assert_true(htn_run_until(net, readable, s, 10 * MS));
	homa_engine_unreachable(net->hosts[1].engine, &net->hosts[0].addr, 0, ENOTCONN,
				net->now);
	assert_int_equal(homa_engine_num_rpcs(net->hosts[1].engine), 0);
	assert_false(homa_sock_readable(s->sock));
	net->hosts[1].dead = 1;
	assert_int_equal(htn_free(net), 0);
}

/* Drops every GRANT that raises a grant above the unscheduled bytes. */
static enum htn_verdict starve_hook(void *ctx, struct htn *net, int from, int to,
				    const struct homa_packet *pkt, uint64_t *delay_ns)
{
	int *starving = ctx;

	(void)net, (void)from, (void)to, (void)delay_ns;
	if (*starving && pkt->common.type == HOMA_PKT_GRANT &&
	    pkt->u.grant.offset > 40000)
		return HTN_DROP;
	return HTN_PASS;
}

/* Host 2's DATA beyond its unscheduled bytes is lost while *ctx is set. */
static enum htn_verdict hog_hook(void *ctx, struct htn *net, int from, int to,
				 const struct homa_packet *pkt, uint64_t *delay_ns)
{
	int *hogging = ctx;

	(void)net, (void)to, (void)delay_ns;
	if (*hogging && from == 2 && pkt->common.type == HOMA_PKT_DATA &&
	    pkt->u.data.offset >= 40000)
		return HTN_DROP;
	return HTN_PASS;
}

static void serve_one(struct htn *net, struct htn_sock *s, size_t len)
{
	struct homa_recv_msg m;
	uint8_t *b = calloc(1, len);
	struct homa_iov iov = {b, len};

	assert_true(htn_run_until(net, readable, s, net->now + 10 * MS));
	assert_int_equal(htn_recv(net, s, 0, &m, NULL, 0), 0);
	assert_int_equal(homa_sock_reply(s->sock, m.id, &m.peer, &iov, 1, net->now), 0);
	free(b);
}

static void test_timer__server_starved_of_grants_stays_while_client_lives(void **state)
{
	struct homa_settings st;
	struct htn *net;
	struct htn_sock *c, *s1, *s2;
	struct homa_endpoint ep2;
	struct homa_recv_msg m;
	uint8_t b = 1;
	struct homa_iov iov = {&b, 1};
	uint64_t id;
	int hogging = 1;

	(void)state;
	/* One grant slot, no FIFO grants: the client grants one message at a time. */
	homa_settings_default(&st);
	st.max_overcommit = 1;
	st.grant_fifo_fraction = 0;
	net = htn_new(3, &st, 1000, 0);
	st.timeout_ticks = 100000; /* the client waits for host 2 as long as it takes */
	assert_int_equal(homa_engine_set_settings(net->hosts[0].engine, &st), 0);
	c = htn_sock(net, 0, 0, 64);
	s1 = htn_sock(net, 1, SERVER_PORT, 64);
	s2 = htn_sock(net, 2, SERVER_PORT, 64);
	ep2 = htn_endpoint(net, 2, s2);
	net->hook = hog_hook;
	net->hook_ctx = &hogging;
	/* Host 2's shorter response takes the slot and then makes no progress. */
	assert_int_equal(
	    homa_sock_send_request(c->sock, &ep2, &iov, 1, 0, 0, net->now, &id), 0);
	serve_one(net, s2, 600000);
	htn_run_for(net, 1 * MS);
	send_req(net, c, 100);
	serve_one(net, s1, 1000000);
	/* 300 ms without a grant: host 1 probes, the client echoes its grant. */
	htn_run_for(net, 300 * MS);
	assert_int_equal(homa_engine_stats(net->hosts[1].engine)->server_rpc_timeouts, 0);
	assert_true(homa_engine_stats(net->hosts[1].engine)->tx_busy >= 50);
	assert_int_equal(homa_engine_num_rpcs(net->hosts[1].engine), 1);
	hogging = 0;
	assert_true(htn_run_until(net, readable, c, net->now + 100 * MS));
	assert_int_equal(htn_recv(net, c, 0, &m, NULL, 0), 0);
	assert_int_equal(m.length, 600000);
	assert_true(htn_run_until(net, readable, c, net->now + 100 * MS));
	assert_int_equal(htn_recv(net, c, 0, &m, NULL, 0), 0);
	assert_int_equal(m.length, 1000000);
	assert_int_equal(htn_free(net), 0);
}

static void
test_timer__server_probe_unanswered_by_forgetful_client_times_out(void **state)
{
	struct htn *net = htn_new(2, NULL, 1000, 0);
	struct htn_sock *c = htn_sock(net, 0, 0, 64);
	struct htn_sock *s = htn_sock(net, 1, SERVER_PORT, 64);
	struct homa_recv_msg m;
	uint8_t *b = calloc(1, 500000);
	struct homa_iov iov = {b, 500000};
	uint64_t id;
	int starving = 1;

	(void)state;
	net->hook = starve_hook;
	net->hook_ctx = &starving;
	id = send_req(net, c, 100);
	assert_true(htn_run_until(net, readable, s, 10 * MS));
	assert_int_equal(htn_recv(net, s, 0, &m, NULL, 0), 0);
	assert_int_equal(homa_sock_reply(s->sock, m.id, &m.peer, &iov, 1, net->now), 0);
	htn_run_for(net, 1 * MS);
	assert_int_equal(homa_sock_abort(c->sock, id, 0, net->now), 0);
	htn_run_for(net, 90 * MS);
	assert_int_equal(homa_engine_num_rpcs(net->hosts[1].engine), 1);
	htn_run_for(net, 20 * MS);
	assert_int_equal(homa_engine_num_rpcs(net->hosts[1].engine), 0);
	assert_int_equal(homa_engine_stats(net->hosts[1].engine)->server_rpc_timeouts, 1);
	assert_true(homa_engine_stats(net->hosts[0].engine)->drop_unknown_rpc >= 15);
	free(b);
	assert_int_equal(htn_free(net), 0);
}

struct per_ms {
	uint64_t resends[400];
};

static enum htn_verdict per_ms_hook(void *ctx, struct htn *net, int from, int to,
				    const struct homa_packet *pkt, uint64_t *delay_ns)
{
	struct per_ms *p = ctx;

	(void)to, (void)delay_ns;
	if (from == 0 && pkt->common.type == HOMA_PKT_RESEND && net->now / MS < 400)
		p->resends[net->now / MS]++;
	return HTN_PASS;
}

static void test_timer__probes_to_a_slow_server_are_rate_limited(void **state)
{
	static struct per_ms p;
	struct htn *net = htn_new(2, NULL, 1000, 0);
	struct htn_sock *c = htn_sock(net, 0, 0, 64);
	struct htn_sock *s = htn_sock(net, 1, SERVER_PORT, 64);
	struct homa_recv_msg m;
	uint64_t total = 0, worst = 0;
	int i, done = 0;

	(void)state;
	memset(&p, 0, sizeof(p));
	net->hook = per_ms_hook;
	net->hook_ctx = &p;
	for (i = 0; i < 200; i++)
		send_req(net, c, 100);
	/* The server application is busy for 300 ms: 200 requests wait. */
	htn_run_for(net, 300 * MS);
	for (i = 0; i < 300; i++) {
		total += p.resends[i];
		worst = p.resends[i] > worst ? p.resends[i] : worst;
	}
	assert_true(worst <= 8);
	assert_true(total > 100); /* every RPC is still probed now and then */
	assert_int_equal(homa_engine_stats(net->hosts[0].engine)->client_rpc_timeouts, 0);
	while (htn_recv(net, s, 0, &m, NULL, 0) == 0) {
		uint8_t b = 1;
		struct homa_iov iov = {&b, 1};

		assert_int_equal(
		    homa_sock_reply(s->sock, m.id, &m.peer, &iov, 1, net->now), 0);
	}
	htn_run_for(net, 10 * MS);
	while (htn_recv(net, c, 0, &m, NULL, 0) == 0)
		done += m.error == 0;
	assert_int_equal(done, 200);
	assert_int_equal(htn_free(net), 0);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_timer__resends_spaced_by_interval_then_etimedout),
    cmocka_unit_test(test_timer__busy_server_keeps_client_alive),
    cmocka_unit_test(test_timer__need_ack_after_request_ack_ticks_then_spaced),
    cmocka_unit_test(test_timer__idle_engine_reports_no_timeout),
    cmocka_unit_test(test_timer__rpcs_waiting_only_for_the_app_need_no_ticks),
    cmocka_unit_test(test_timer__unreachable_client_drops_unread_request),
    cmocka_unit_test(test_timer__server_starved_of_grants_stays_while_client_lives),
    cmocka_unit_test(test_timer__probes_to_a_slow_server_are_rate_limited),
    cmocka_unit_test(test_timer__server_probe_unanswered_by_forgetful_client_times_out),
};

HOMA_TEST_MAIN(tests)
