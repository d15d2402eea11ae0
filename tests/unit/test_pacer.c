/*
 * test_pacer.c - the sender's NIC-backlog pacer, observed from outside: when
 * DATA leaves the engine, in which order, and what next_timeout reports.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "homa_test.h"
#include "homa_testnet.h"

#define US 1000ull
#define MS 1000000ull

struct trace {
	uint64_t first_ns, last_ns;
	int data;
	uint64_t ids[256];
	uint32_t lens[256];
};

static enum htn_verdict trace_hook(void *ctx, struct htn *net, int from, int to,
				   const struct homa_packet *pkt, uint64_t *delay_ns)
{
	struct trace *t = ctx;

	(void)to;
	(void)delay_ns;
	if (from != 0 || pkt->common.type != HOMA_PKT_DATA)
		return HTN_PASS;
	if (t->data == 0)
		t->first_ns = net->now;
	t->last_ns = net->now;
	if (t->data < 256) {
		t->ids[t->data] = pkt->common.sender_id;
		t->lens[t->data] = pkt->u.data.message_length;
	}
	t->data++;
	return HTN_PASS;
}

static struct htn *setup(struct trace *t, const struct homa_settings *s,
			 struct htn_sock **c)
{
	struct htn *net = htn_new(2, s, 1000, 0);

	memset(t, 0, sizeof(*t));
	net->hook = trace_hook;
	net->hook_ctx = t;
	net->hosts[1].dead = 1; /* a sink: nothing answers */
	*c = htn_sock(net, 0, 0, 0);
	return net;
}

static uint64_t send_len(struct htn *net, struct htn_sock *c, size_t len)
{
	struct homa_endpoint ep = {net->hosts[1].addr, 99};
	uint8_t *b = calloc(1, len);
	struct homa_iov iov = {b, len};
	uint64_t id = 0;

	assert_int_equal(
	    homa_sock_send_request(c->sock, &ep, &iov, 1, 0, 0, net->now, &id), 0);
	free(b);
	return id;
}

static const struct homa_stats *stats(struct htn *net)
{
	return homa_engine_stats(net->hosts[0].engine);
}

static void test_pacer__long_message_leaves_at_link_rate(void **state)
{
	struct trace t;
	struct htn_sock *c;
	struct htn *net = setup(&t, NULL, &c);
	uint64_t wire_ns;

	(void)state;
	send_len(net, c, 1000000);
	/* Only max_nic_backlog_ns (5 us) worth goes out at once... */
	assert_int_equal(t.data, 11);
	assert_true(stats(net)->pacer_deferred == 0);
	htn_run_for(net, 1 * MS);
	/* ...the rest of the 40000 unscheduled bytes at 25 Gb/s: 29 packets of
	 * 1472 + 70 bytes on the wire, 493 ns each. */
	assert_int_equal(t.data, 29);
	assert_int_equal(stats(net)->pacer_deferred, 29 - 11);
	wire_ns = 28 * (1472 + 70) * 8000ull / 25000;
	assert_true(t.last_ns - t.first_ns >= wire_ns - 5 * US);
	assert_true(t.last_ns - t.first_ns <= wire_ns);
	assert_int_equal(htn_free(net), 0);
}

static void test_pacer__short_message_bypasses_throttled_long_one(void **state)
{
	struct trace t;
	struct htn_sock *c;
	struct htn *net = setup(&t, NULL, &c);
	uint64_t small;
	int before;

	(void)state;
	send_len(net, c, 1000000);
	before = t.data;
	small = send_len(net, c, 500);
	assert_int_equal(t.data, before + 1);
	assert_int_equal(t.ids[before], small);
	assert_int_equal(stats(net)->pacer_bypass, 1);
	assert_int_equal(htn_free(net), 0);
}

static void test_pacer__throttled_messages_leave_shortest_first(void **state)
{
	struct homa_settings s;
	struct trace t;
	struct htn_sock *c;
	struct htn *net;
	uint64_t big, mid;
	int i, before, first_mid = -1, last_mid = -1, big_between = 0;

	(void)state;
	homa_settings_default(&s);
	s.pacer_fifo_fraction = 0;
	net = setup(&t, &s, &c);
	big = send_len(net, c, 1000000);
	before = t.data;
	mid = send_len(net, c, 30000);
	/* Queued behind the throttled list, not sent around it. */
	assert_int_equal(t.data, before);
	htn_run_for(net, 1 * MS);
	for (i = before; i < t.data && i < 256; i++) {
		if (t.ids[i] == mid) {
			if (first_mid < 0)
				first_mid = i;
			last_mid = i;
		}
	}
	for (i = first_mid; i <= last_mid; i++)
		big_between += t.ids[i] == big;
	assert_int_equal(first_mid, before);
	assert_int_equal(last_mid - first_mid + 1, 22); /* 30000 B in 1416 B packets */
	assert_int_equal(big_between, 0);
	assert_int_equal(htn_free(net), 0);
}

static void test_pacer__fifo_fraction_lets_oldest_through(void **state)
{
	struct homa_settings s;
	struct trace t;
	struct htn_sock *c;
	struct htn *net;
	uint64_t big;
	int i, before, big_sent = 0;

	(void)state;
	homa_settings_default(&s);
	s.pacer_fifo_fraction = 250; /* every 4th paced packet to the oldest */
	net = setup(&t, &s, &c);
	big = send_len(net, c, 1000000);
	before = t.data;
	send_len(net, c, 30000);
	htn_run_for(net, 1 * MS);
	for (i = before; i < before + 20; i++)
		big_sent += t.ids[i] == big;

	assert_true(big_sent >= 4 && big_sent <= 6);
	assert_int_equal(htn_free(net), 0);
}

static void test_pacer__next_timeout_says_when_backlog_drains(void **state)
{
	struct trace t;
	struct htn_sock *c;
	struct htn *net = setup(&t, NULL, &c);
	uint64_t due;
	int sent;

	(void)state;
	send_len(net, c, 1000000);
	due = homa_engine_next_timeout(net->hosts[0].engine);
	assert_true(due > 0 && due < 2 * US);
	sent = t.data;
	/* Too early: nothing moves. */
	homa_engine_handle_timeout(net->hosts[0].engine, due - 1);
	assert_int_equal(t.data, sent);
	homa_engine_handle_timeout(net->hosts[0].engine, due);
	assert_int_equal(t.data, sent + 1);
	assert_int_equal(htn_free(net), 0);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_pacer__long_message_leaves_at_link_rate),
    cmocka_unit_test(test_pacer__short_message_bypasses_throttled_long_one),
    cmocka_unit_test(test_pacer__throttled_messages_leave_shortest_first),
    cmocka_unit_test(test_pacer__fifo_fraction_lets_oldest_through),
    cmocka_unit_test(test_pacer__next_timeout_says_when_backlog_drains),
};

HOMA_TEST_MAIN(tests)
