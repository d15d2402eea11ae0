/*
 * test_engine_api.c - the engine's API contract (settings, sockets, ids,
 * error returns), limits, crafted hostile packets and allocation failures.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "homa_test.h"
#include "homa_testnet.h"
#include "homa_pktbuild.h"

#define MS	    1000000ull
#define SERVER_PORT 99

static const struct homa_stats *stats(struct htn *net, int h)
{
	return homa_engine_stats(net->hosts[h].engine);
}

static uint64_t send_bytes(struct htn *net, struct htn_sock *s, int to_host,
			   uint16_t port, size_t len, int *err)
{
	struct homa_endpoint ep = {net->hosts[to_host].addr, port};
	uint8_t *b = calloc(1, len);
	struct homa_iov iov = {b, len};
	uint64_t id = 0;

	*err = homa_sock_send_request(s->sock, &ep, &iov, 1, 0, 0, net->now, &id);
	free(b);
	return id;
}

static int readable(void *ctx)
{
	return homa_sock_readable(((struct htn_sock *)ctx)->sock);
}

/* Answers every request waiting on s with one byte. */
static void answer_all(struct htn *net, struct htn_sock *s)
{
	struct homa_recv_msg m;
	uint8_t b = 1;
	struct homa_iov iov = {&b, 1};

	while (htn_recv(net, s, 0, &m, NULL, 0) == 0)
		assert_int_equal(
		    homa_sock_reply(s->sock, m.id, &m.peer, &iov, 1, net->now), 0);
}

/* ------------------------------------------------------------ settings */

static void test_settings__defaults_pass_check(void **state)
{
	struct homa_settings s;
	const char *why = NULL;

	(void)state;
	homa_settings_default(&s);
	assert_int_equal(homa_settings_check(&s, &why), 0);
	assert_int_equal(s.unsched_bytes, 40000);
	assert_int_equal(s.unsched_cutoffs[4], 1000000);
	assert_int_equal(s.tick_ns, 1000000);
}

static void test_settings__each_bad_value_rejected_with_reason(void **state)
{
	struct homa_settings s;
	const char *why;

	(void)state;
#define BAD(field, value)                                                                \
	do {                                                                             \
		homa_settings_default(&s);                                               \
		s.field = value;                                                         \
		why = NULL;                                                              \
		assert_int_equal(homa_settings_check(&s, &why), -EINVAL);                \
		assert_non_null(why);                                                    \
		assert_string_not_equal(why, "");                                        \
	} while (0)
	BAD(link_mbps, 0);
	BAD(max_packet_bytes, 56);
	BAD(unsched_bytes, 0);
	BAD(max_overcommit, 9);
	BAD(num_priorities, 0);
	BAD(num_priorities, 9);
	BAD(tick_ns, 0);
	BAD(timeout_ticks, 5);
	BAD(need_ack_timeout_ticks, 1);
	BAD(wmem_max, 0);
	BAD(max_peers, 0);
	BAD(unsched_cutoffs[7], 20000); /* above level 6's 2800 */
	BAD(unsched_cutoffs[5], 0x80000000u);
#undef BAD
}

static void nop_send(void *user, struct homa_sock *sock, const struct homa_endpoint *dst,
		     int priority, const uint8_t *hdr, size_t hdr_len,
		     const uint8_t *payload, size_t payload_len)
{
	(void)user, (void)sock, (void)dst, (void)priority, (void)hdr, (void)hdr_len;
	(void)payload, (void)payload_len;
}

static void test_engine__new_rejects_missing_send_and_bad_settings(void **state)
{
	struct homa_settings s;
	struct homa_callbacks cb = {NULL, NULL, NULL};
	struct homa_engine *e = NULL;

	(void)state;
	homa_settings_default(&s);
	assert_int_equal(homa_engine_new(&s, &cb, NULL, NULL, 1, 0, &e), -EINVAL);
	cb.send = nop_send;
	s.num_priorities = 0;
	assert_int_equal(homa_engine_new(&s, &cb, NULL, NULL, 1, 0, &e), -EINVAL);
	s.num_priorities = 8;
	assert_int_equal(homa_engine_new(&s, &cb, NULL, NULL, 1, 0, &e), 0);
	assert_int_equal(homa_engine_mem_in_use(e), 0);
	assert_int_equal(homa_engine_next_timeout(e), UINT64_MAX);
	s.num_priorities = 0;
	assert_int_equal(homa_engine_set_settings(e, &s), -EINVAL);
	assert_int_equal(homa_engine_settings(e)->num_priorities, 8);
	homa_engine_free(e);
}

static void test_engine__set_settings_installs_new_cutoffs(void **state)
{
	struct htn *net = htn_new(1, NULL, 1000, 0);
	struct homa_settings s = *homa_engine_settings(net->hosts[0].engine);
	uint32_t c[HOMA_MAX_PRIORITIES];
	uint16_t v;

	(void)state;
	s.unsched_cutoffs[7] = 300;
	assert_int_equal(homa_engine_set_settings(net->hosts[0].engine, &s), 0);
	homa_engine_cutoffs(net->hosts[0].engine, c, &v);
	assert_int_equal(v, 2);
	assert_int_equal(c[7], 300);
	assert_int_equal(c[0], 0x7fffffff);
	assert_int_equal(htn_free(net), 0);
}

/* ----------------------------------------------------------- addresses */

static void test_addr__ipv4_mapped_round_trip_and_ipv6(void **state)
{
	struct homa_addr a, b, v6;
	uint32_t ip = 0;

	(void)state;
	homa_addr_from_ipv4(&a, 0xc0a80102u); /* 192.168.1.2 */
	assert_int_equal(a.bytes[10], 0xff);
	assert_int_equal(a.bytes[11], 0xff);
	assert_int_equal(a.bytes[12], 192);
	assert_int_equal(a.bytes[15], 2);
	assert_true(homa_addr_is_ipv4(&a, &ip));
	assert_int_equal(ip, 0xc0a80102u);
	assert_true(homa_addr_is_ipv4(&a, NULL));
	memset(&v6, 0, sizeof(v6));
	v6.bytes[0] = 0xfe;
	v6.bytes[1] = 0x80;
	v6.bytes[15] = 1;
	assert_false(homa_addr_is_ipv4(&v6, &ip));
	b = a;
	assert_true(homa_addr_equal(&a, &b));
	assert_false(homa_addr_equal(&a, &v6));
}

static void test_rpc__over_ipv6_addresses(void **state)
{
	struct htn *net = htn_new(2, NULL, 1000, 0);
	struct htn_sock *c, *s;
	int i, err;

	(void)state;
	for (i = 0; i < 2; i++) {
		memset(&net->hosts[i].addr, 0, sizeof(net->hosts[i].addr));
		net->hosts[i].addr.bytes[0] = 0x20;
		net->hosts[i].addr.bytes[1] = 0x01;
		net->hosts[i].addr.bytes[15] = (uint8_t)(i + 1);
	}
	c = htn_sock(net, 0, 0, 64);
	s = htn_sock(net, 1, SERVER_PORT, 64);
	send_bytes(net, c, 1, SERVER_PORT, 3000, &err);
	assert_int_equal(err, 0);
	assert_true(htn_run_until(net, readable, s, 10 * MS));
	answer_all(net, s);
	assert_true(htn_run_until(net, readable, c, net->now + 10 * MS));
	assert_int_equal(htn_free(net), 0);
}

/* ------------------------------------------------------------- sockets */

static void test_sock__client_ports_random_and_distinct(void **state)
{
	struct htn *net = htn_new(2, NULL, 1000, 0);
	struct htn_sock *a = htn_sock(net, 0, 0, 0), *b = htn_sock(net, 0, 0, 0);
	struct htn_sock *c = htn_sock(net, 1, 0, 0);

	(void)state;
	assert_true(homa_sock_port(a->sock) >= 32768);
	assert_true(homa_sock_port(b->sock) >= 32768);
	assert_int_not_equal(homa_sock_port(a->sock), homa_sock_port(b->sock));
	/* Different seeds: not the reference's predictable 32768 sequence. */
	assert_int_not_equal(homa_sock_port(a->sock), homa_sock_port(c->sock));
	assert_false(homa_sock_is_server(a->sock));
	assert_int_equal(htn_free(net), 0);
}

static void test_sock__bind_rules(void **state)
{
	struct htn *net = htn_new(1, NULL, 1000, 0);
	struct htn_sock *a = htn_sock(net, 0, 0, 0), *b = htn_sock(net, 0, 0, 0);
	uint16_t before = homa_sock_port(a->sock);

	(void)state;
	assert_int_equal(homa_sock_bind(a->sock, 0), 0);
	assert_int_equal(homa_sock_port(a->sock), before);
	assert_int_equal(homa_sock_bind(a->sock, 40000), -EINVAL);
	assert_string_not_equal(homa_sock_error_msg(a->sock), "");
	assert_int_equal(homa_sock_bind(a->sock, 500), 0);
	assert_int_equal(homa_sock_port(a->sock), 500);
	assert_true(homa_sock_is_server(a->sock));
	assert_int_equal(homa_sock_bind(b->sock, 500), -EADDRINUSE);
	assert_int_equal(homa_sock_set_server(a->sock, 0), 0);
	assert_false(homa_sock_is_server(a->sock));
	homa_sock_set_user(a->sock, net);
	assert_ptr_equal(homa_sock_get_user(a->sock), net);
	assert_int_equal(htn_free(net), 0);
}

static void test_sock__rcvbuf_rules(void **state)
{
	struct htn *net = htn_new(1, NULL, 1000, 0);
	struct htn_sock *a = htn_sock(net, 0, 0, 0);
	size_t len = 17u << 16;
	uint8_t *region = aligned_alloc(4096, len + 4096);
	struct homa_recv_msg m;

	(void)state;
	assert_int_equal(homa_sock_recv(a->sock, 0, 0, &m), -EINVAL);
	assert_int_equal(homa_sock_set_rcvbuf(a->sock, region, 16u << 16), -EINVAL);
	assert_int_equal(homa_sock_set_rcvbuf(a->sock, region + 1, len), -EINVAL);
	assert_int_equal(homa_sock_set_rcvbuf(a->sock, region, len), 0);
	assert_int_equal(homa_sock_set_rcvbuf(a->sock, region, len), -EINVAL);
	assert_int_equal(homa_sock_recv(a->sock, 0, 0, &m), -EAGAIN);
	assert_int_equal(homa_sock_release_bpages(a->sock, (uint32_t[]){65536}, 1),
			 -EINVAL);
	assert_int_equal(htn_free(net), 0);
	free(region);
}

static void test_send__argument_errors(void **state)
{
	struct htn *net = htn_new(2, NULL, 1000, 0);
	struct htn_sock *a = htn_sock(net, 0, 0, 64);
	struct homa_endpoint ep = {net->hosts[1].addr, SERVER_PORT};
	uint8_t b[10];
	struct homa_iov iov = {b, sizeof(b)}, big = {b, HOMA_MAX_MESSAGE_LENGTH + 1};
	uint64_t id = 0;

	(void)state;
	assert_int_equal(homa_sock_send_request(a->sock, &ep, &iov, 0, 0, 0, 0, &id),
			 -EINVAL);
	assert_int_equal(homa_sock_send_request(a->sock, &ep, &big, 1, 0, 0, 0, &id),
			 -EINVAL);
	assert_int_equal(homa_sock_send_request(a->sock, &ep, &iov, 1, 0, 0x10, 0, &id),
			 -EINVAL);
	ep.port = 0;
	assert_int_equal(homa_sock_send_request(a->sock, &ep, &iov, 1, 0, 0, 0, &id),
			 -EINVAL);
	assert_int_equal(homa_engine_num_rpcs(net->hosts[0].engine), 0);
	assert_int_equal(htn_free(net), 0);
}

static void test_send__ids_even_and_step_by_two(void **state)
{
	struct htn *net = htn_new(2, NULL, 1000, 0);
	struct htn_sock *a = htn_sock(net, 0, 0, 64), *b = htn_sock(net, 1, 0, 64);
	uint64_t x, y, z;
	int err;

	(void)state;
	net->hosts[1].dead = 1;
	x = send_bytes(net, a, 1, SERVER_PORT, 10, &err);
	y = send_bytes(net, a, 1, SERVER_PORT, 10, &err);
	z = send_bytes(net, b, 0, SERVER_PORT, 10, &err);
	assert_int_equal(x & 1, 0);
	assert_int_equal(y, x + 2);
	/* The id base is random, not the reference's 2. */
	assert_true(x > 2);
	assert_int_not_equal(x, z);
	assert_int_equal(htn_free(net), 0);
}

static void test_reply__errors(void **state)
{
	struct htn *net = htn_new(2, NULL, 1000, 0);
	struct htn_sock *c = htn_sock(net, 0, 0, 64),
			*s = htn_sock(net, 1, SERVER_PORT, 64);
	struct homa_endpoint cep = htn_endpoint(net, 0, c);
	uint8_t b = 1;
	struct homa_iov iov = {&b, 1};
	uint64_t id;
	int err;

	(void)state;
	id = send_bytes(net, c, 1, SERVER_PORT, 100, &err);
	assert_int_equal(homa_sock_reply(s->sock, id | 1, &cep, &iov, 1, 0), -ENOENT);
	assert_true(htn_run_until(net, readable, s, 100 * MS));
	/* Complete but not yet taken by recv: not in service. */
	assert_int_equal(homa_sock_reply(s->sock, id | 1, &cep, &iov, 1, net->now),
			 -EINVAL);
	cep.port++;
	assert_int_equal(homa_sock_reply(s->sock, id | 1, &cep, &iov, 1, net->now),
			 -ENOENT);
	answer_all(net, s);
	assert_true(htn_run_until(net, readable, c, net->now + 100 * MS));
	assert_int_equal(htn_free(net), 0);
}

/* --------------------------------------------------------------- acks */

static void test_acks__cache_overflow_sends_ack_packet(void **state)
{
	struct htn *net = htn_new(2, NULL, 1000, 0);
	struct htn_sock *c = htn_sock(net, 0, 0, 64),
			*s = htn_sock(net, 1, SERVER_PORT, 64);
	struct homa_recv_msg m;
	int i, err;

	(void)state;
	/* The peer's ack cache holds HOMA_PEER_ACKS (32) acks: the 33rd
	 * response consumed sends an ACK with itself and the 5 oldest. */
	for (i = 0; i < 33; i++)
		send_bytes(net, c, 1, SERVER_PORT, 100, &err);
	htn_run_for(net, 1 * MS);
	answer_all(net, s);
	htn_run_for(net, 1 * MS);
	for (i = 0; i < 33; i++)
		assert_int_equal(htn_recv(net, c, 0, &m, NULL, 0), 0);
	assert_int_equal(stats(net, 0)->ack_overflows, 1);
	assert_int_equal(stats(net, 0)->tx_ack, 1);
	htn_run_for(net, 100000); /* well before any NEED_ACK */
	assert_int_equal(stats(net, 1)->acks_received, 6);
	assert_int_equal(homa_engine_num_rpcs(net->hosts[1].engine), 27);
	assert_int_equal(stats(net, 1)->tx_need_ack, 0);
	/* The rest leave by the next ticks (ack cache flush or NEED_ACK). */
	htn_run_for(net, 5 * MS);
	assert_int_equal(homa_engine_num_rpcs(net->hosts[1].engine), 0);
	assert_int_equal(htn_free(net), 0);
}

static void test_acks__piggybacked_on_next_request(void **state)
{
	struct htn *net = htn_new(2, NULL, 1000, 0);
	struct htn_sock *c = htn_sock(net, 0, 0, 64),
			*s = htn_sock(net, 1, SERVER_PORT, 64);
	struct homa_recv_msg m;
	int err;

	(void)state;
	send_bytes(net, c, 1, SERVER_PORT, 100, &err);
	htn_run_for(net, 100000);
	answer_all(net, s);
	htn_run_for(net, 100000);
	assert_int_equal(htn_recv(net, c, 0, &m, NULL, 0), 0);
	send_bytes(net, c, 1, SERVER_PORT, 100, &err);
	htn_run_for(net, 100000);
	assert_int_equal(stats(net, 1)->acks_received, 1);
	assert_int_equal(stats(net, 0)->tx_ack, 0);
	assert_int_equal(homa_engine_num_rpcs(net->hosts[1].engine), 1);
	answer_all(net, s);
	assert_true(htn_run_until(net, readable, c, net->now + 100 * MS));
	assert_int_equal(htn_free(net), 0);
}

/* Deferred acks: the request's ack ends the old server RPC only when the
 * embedder asks (after its reply left), or at the latest with the timer. */
static void test_acks__deferred_until_run_deferred(void **state)
{
	struct htn *net = htn_new(2, NULL, 1000, 0);
	struct htn_sock *c = htn_sock(net, 0, 0, 64),
			*s = htn_sock(net, 1, SERVER_PORT, 64);
	struct homa_engine *se = net->hosts[1].engine;
	struct homa_recv_msg m;
	int err;

	(void)state;
	homa_engine_defer_acks(se, 1);
	assert_int_equal(homa_engine_run_deferred(se), 0);
	send_bytes(net, c, 1, SERVER_PORT, 100, &err);
	htn_run_for(net, 100000);
	answer_all(net, s);
	htn_run_for(net, 100000);
	assert_int_equal(htn_recv(net, c, 0, &m, NULL, 0), 0);
	send_bytes(net, c, 1, SERVER_PORT, 100, &err);
	htn_run_for(net, 100000);
	/* The new request arrived with the ack; the old RPC still waits. */
	assert_int_equal(stats(net, 1)->acks_received, 0);
	assert_int_equal(homa_engine_num_rpcs(se), 2);
	assert_int_equal(homa_engine_run_deferred(se), 1);
	assert_int_equal(stats(net, 1)->acks_received, 1);
	assert_int_equal(homa_engine_num_rpcs(se), 1);
	assert_int_equal(homa_engine_run_deferred(se), 0);
	answer_all(net, s);
	assert_true(htn_run_until(net, readable, c, net->now + 100 * MS));
	/* The next ack is left to the timer, which ends that RPC too. */
	assert_int_equal(htn_recv(net, c, 0, &m, NULL, 0), 0);
	send_bytes(net, c, 1, SERVER_PORT, 100, &err);
	htn_run_for(net, 5 * MS);
	assert_int_equal(stats(net, 1)->acks_received, 2);
	assert_int_equal(homa_engine_num_rpcs(se), 1);
	assert_int_equal(stats(net, 1)->tx_need_ack, 0);
	assert_int_equal(htn_free(net), 0);
}

/* An engine that is client and server: its next response to the peer carries
 * the ack, and the peer frees its server RPC. */
static void test_acks__piggybacked_on_response(void **state)
{
	struct htn *net = htn_new(2, NULL, 1000, 0);
	struct htn_sock *c0 = htn_sock(net, 0, 0, 64),
			*s0 = htn_sock(net, 0, SERVER_PORT, 64),
			*c1 = htn_sock(net, 1, 0, 64),
			*s1 = htn_sock(net, 1, SERVER_PORT, 64);
	struct homa_recv_msg m;
	int err;

	(void)state;
	send_bytes(net, c0, 1, SERVER_PORT, 100, &err);
	htn_run_for(net, 100000);
	answer_all(net, s1);
	htn_run_for(net, 100000);
	assert_int_equal(htn_recv(net, c0, 0, &m, NULL, 0), 0);
	/* Host 0 holds the ack; host 1 asks it something. */
	send_bytes(net, c1, 0, SERVER_PORT, 100, &err);
	htn_run_for(net, 100000);
	answer_all(net, s0);
	htn_run_for(net, 100000);
	assert_int_equal(stats(net, 1)->acks_received, 1);
	assert_int_equal(stats(net, 0)->tx_ack, 0);
	assert_int_equal(stats(net, 0)->acks_piggybacked, 1);
	/* Only host 1's client RPC is left there, waiting for recv. */
	assert_int_equal(homa_engine_num_rpcs(net->hosts[1].engine), 1);
	assert_int_equal(htn_recv(net, c1, 0, &m, NULL, 0), 0);
	htn_run_for(net, 10 * MS);
	assert_int_equal(stats(net, 1)->tx_need_ack, 0);
	assert_int_equal(htn_free(net), 0);
}

/* HOMA_SENDMSG_BORROW: the engine sends from the caller's bytes (no copy in
 * engine memory), the receiver gets them intact, and ending the RPC leaves
 * them alone; a borrowed message must be one piece. */
static void test_send__borrowed_message_sent_from_callers_bytes(void **state)
{
	struct htn *net = htn_new(2, NULL, 1000, 0);
	struct htn_sock *c = htn_sock(net, 0, 0, 64),
			*sv = htn_sock(net, 1, SERVER_PORT, 64);
	struct homa_endpoint ep = {net->hosts[1].addr, SERVER_PORT};
	size_t len = 300000, before;
	uint8_t *b = malloc(len), *got = malloc(len);
	struct homa_iov iov = {b, len}, two[2] = {{b, 10}, {b + 10, 10}};
	struct homa_recv_msg m;
	uint64_t id = 0;

	(void)state;
	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t)(i * 7 + 3);
	assert_int_equal(homa_sock_send_request(c->sock, &ep, two, 2, 0,
						HOMA_SENDMSG_BORROW, net->now, &id),
			 -EINVAL);
	before = homa_engine_mem_in_use(net->hosts[0].engine);
	assert_int_equal(homa_sock_send_request(c->sock, &ep, &iov, 1, 5,
						HOMA_SENDMSG_BORROW, net->now, &id),
			 0);
	/* The RPC's state, not a copy of the message. */
	assert_true(homa_engine_mem_in_use(net->hosts[0].engine) < before + 4096);
	htn_run_for(net, 200 * MS);
	assert_int_equal(htn_recv(net, sv, 0, &m, got, len), 0);
	assert_int_equal(m.length, len);
	assert_memory_equal(got, b, len);
	assert_int_equal(homa_sock_reply(sv->sock, m.id, &m.peer, &iov, 1, net->now), 0);
	htn_run_for(net, 200 * MS);
	assert_int_equal(htn_recv(net, c, 0, &m, NULL, 0), 0);
	assert_int_equal(m.completion_cookie, 5);
	assert_int_equal(m.id, id);
	htn_run_for(net, 10 * MS);
	assert_int_equal(htn_free(net), 0);
	free(b); /* still ours: the engine never freed it */
	free(got);
}

static void test_acks__cached_ack_flushed_at_next_tick_before_need_ack(void **state)
{
	struct htn *net = htn_new(2, NULL, 1000, 0);
	struct htn_sock *c = htn_sock(net, 0, 0, 64),
			*s = htn_sock(net, 1, SERVER_PORT, 64);
	struct homa_recv_msg m;
	int err;

	(void)state;
	send_bytes(net, c, 1, SERVER_PORT, 100, &err);
	htn_run_for(net, 100000);
	answer_all(net, s);
	htn_run_for(net, 100000);
	assert_int_equal(htn_recv(net, c, 0, &m, NULL, 0), 0);
	htn_run_for(net, 5 * MS);
	assert_int_equal(stats(net, 0)->tx_ack, 1);
	assert_int_equal(stats(net, 1)->tx_need_ack, 0);
	assert_int_equal(homa_engine_num_rpcs(net->hosts[1].engine), 0);
	/* Nothing left to do: both engines stop ticking (tombstones aside). */
	assert_int_equal(homa_engine_next_timeout(net->hosts[0].engine), UINT64_MAX);
	assert_true(homa_engine_next_timeout(net->hosts[1].engine) >
		    net->now + 1000 * MS);
	htn_run_for(net, 3000 * MS);
	assert_int_equal(homa_engine_next_timeout(net->hosts[1].engine), UINT64_MAX);
	assert_int_equal(htn_free(net), 0);
}

/* With nothing to carry it, a cached ack waits request_ack_ticks / 2. */
static void test_acks__cached_ack_waits_half_request_ack_ticks(void **state)
{
	struct homa_settings st;
	struct htn *net;
	struct htn_sock *c, *s;
	struct homa_recv_msg m;
	uint64_t t0;
	int err;

	(void)state;
	homa_settings_default(&st);
	st.request_ack_ticks = 20;
	net = htn_new(2, &st, 1000, 0);
	c = htn_sock(net, 0, 0, 64);
	s = htn_sock(net, 1, SERVER_PORT, 64);
	send_bytes(net, c, 1, SERVER_PORT, 100, &err);
	htn_run_for(net, 100000);
	answer_all(net, s);
	htn_run_for(net, 100000);
	assert_int_equal(htn_recv(net, c, 0, &m, NULL, 0), 0);
	t0 = net->now;
	htn_run_for(net, 8 * MS);
	assert_int_equal(stats(net, 0)->tx_ack, 0);
	htn_run_for(net, 3 * MS);
	assert_int_equal(stats(net, 0)->tx_ack, 1);
	assert_true(net->now - t0 <= 11 * MS);
	htn_run_for(net, 30 * MS);
	assert_int_equal(stats(net, 1)->tx_need_ack, 0);
	assert_int_equal(homa_engine_num_rpcs(net->hosts[1].engine), 0);
	assert_int_equal(htn_free(net), 0);
}

/* Which DATA packets from host 0 carried an ack. */
struct carriers {
	int n, low;	     /* carriers; carriers at a scheduled level (< 4) */
	uint32_t last_seq;   /* offset of the last carrier */
	uint32_t last_len;   /* its message's length */
	uint32_t sched_pkts; /* DATA packets past the unscheduled bytes */
};

static enum htn_verdict carriers_hook(void *ctx, struct htn *net, int from, int to,
				      const struct homa_packet *pkt, uint64_t *delay_ns)
{
	struct carriers *cr = ctx;
	int prio = net->hosts[from].last_priority[HOMA_PKT_DATA - HOMA_PKT_TYPE_MIN];

	(void)to, (void)delay_ns;
	if (from != 0 || pkt->common.type != HOMA_PKT_DATA)
		return HTN_PASS;
	if (pkt->common.sequence >= 40000)
		cr->sched_pkts++;
	if (pkt->u.data.ack.client_id == 0)
		return HTN_PASS;
	cr->n++;
	cr->low += prio < 4;
	cr->last_seq = pkt->common.sequence;
	cr->last_len = pkt->u.data.message_length;
	return HTN_PASS;
}

/*
 * A long request is being granted when the client consumes a response: its
 * scheduled packets (low levels, they may sit in a switch queue for long)
 * leave the ack in the cache, and the next short request carries it. With
 * one priority level any packet carries it.
 */
static void ack_carrier_case(uint32_t num_priorities)
{
	struct carriers cr = {0};
	struct homa_settings st;
	struct htn *net;
	struct htn_sock *c, *s;
	struct homa_recv_msg m;
	uint32_t sched_before;
	int err;

	homa_settings_default(&st);
	st.num_priorities = num_priorities;
	st.request_ack_ticks = 40;  /* acks wait up to 20 ticks for a carrier */
	st.grant_fifo_fraction = 0; /* FIFO grants would use level 6 */
	net = htn_new(2, &st, 1000, 100);
	c = htn_sock(net, 0, 0, 64);
	s = htn_sock(net, 1, SERVER_PORT, 64);
	net->hook = carriers_hook;
	net->hook_ctx = &cr;
	send_bytes(net, c, 1, SERVER_PORT, 100, &err);
	htn_run_for(net, 1 * MS);
	answer_all(net, s);
	htn_run_for(net, 1 * MS);
	/* 1 MB at 100 Mbit/s: 80 ms of scheduled packets. */
	send_bytes(net, c, 1, SERVER_PORT, 1000000, &err);
	htn_run_for(net, 10 * MS);
	assert_int_equal(htn_recv(net, c, 0, &m, NULL, 0), 0);
	sched_before = cr.sched_pkts;
	htn_run_for(net, 10 * MS);
	assert_true(cr.sched_pkts > sched_before + 50);
	assert_int_equal(stats(net, 0)->tx_ack, 0);
	if (num_priorities > 1) {
		assert_int_equal(cr.n, 0);
		assert_int_equal(stats(net, 1)->acks_received, 0);
		send_bytes(net, c, 1, SERVER_PORT, 100, &err);
		htn_run_for(net, 2 * MS);
		assert_int_equal(cr.n, 1);
		assert_int_equal(cr.last_len, 100);
	} else {
		assert_int_equal(cr.n, 1);
		assert_true(cr.last_seq >= 40000);
	}
	assert_int_equal(cr.low, num_priorities > 1 ? 0 : 1);
	assert_int_equal(stats(net, 0)->acks_piggybacked, 1);
	/* With one level the carrier waits behind up to max_incoming of DATA. */
	htn_run_for(net, 40 * MS);
	assert_int_equal(stats(net, 1)->acks_received, 1);
	assert_int_equal(stats(net, 0)->tx_ack, 0);
	net->hook = NULL;
	htn_run_for(net, 200 * MS);
	answer_all(net, s);
	htn_run_for(net, 1 * MS);
	while (htn_recv(net, c, 0, &m, NULL, 0) == 0)
		assert_int_equal(m.error, 0);
	htn_run_for(net, 100 * MS);
	assert_int_equal(stats(net, 1)->tx_need_ack, 0);
	assert_int_equal(homa_engine_num_rpcs(net->hosts[1].engine), 0);
	assert_int_equal(htn_free(net), 0);
}

static void test_acks__scheduled_packets_leave_acks_for_high_priority_data(void **state)
{
	(void)state;
	ack_carrier_case(8);
}

static void test_acks__one_priority_level_any_packet_carries_acks(void **state)
{
	(void)state;
	ack_carrier_case(1);
}

static void test_acks__need_ack_for_incomplete_response_gets_resend(void **state)
{
	struct htn *net = htn_new(2, NULL, 1000, 0);
	struct htn_sock *c = htn_sock(net, 0, 0, 64);
	struct homa_packet p;
	uint8_t buf[128];
	size_t n;
	uint64_t id;
	int err;

	(void)state;
	net->hosts[1].dead = 1;
	id = send_bytes(net, c, 1, SERVER_PORT, 100, &err);
	net->hosts[1].dead = 0;
	hpb_need_ack(&p, SERVER_PORT, homa_sock_port(c->sock), id | 1);
	n = hpb_encode(&p, NULL, 0, buf, sizeof(buf));
	htn_inject(net, 1, 0, buf, n);
	htn_run_for(net, 100000);
	assert_int_equal(stats(net, 0)->tx_resend, 1);
	assert_int_equal(stats(net, 0)->tx_ack, 0);
	/* Unknown RPC (or port): acked at once. */
	hpb_need_ack(&p, SERVER_PORT, homa_sock_port(c->sock), id + 101);
	n = hpb_encode(&p, NULL, 0, buf, sizeof(buf));
	htn_inject(net, 1, 0, buf, n);
	hpb_need_ack(&p, SERVER_PORT, 4242, id + 201);
	n = hpb_encode(&p, NULL, 0, buf, sizeof(buf));
	htn_inject(net, 1, 0, buf, n);
	net->hosts[1].dead = 1;
	htn_run_for(net, 100000);
	assert_int_equal(stats(net, 0)->tx_ack, 2);
	assert_int_equal(htn_free(net), 0);
}

/* ------------------------------------------------------------- limits */

static void inject_from(struct htn *net, int from, uint64_t id, uint32_t len,
			uint32_t part)
{
	uint8_t buf[2048];
	size_t n = hpb_build_data(buf, sizeof(buf), 40000, SERVER_PORT, id, len, 0, part);

	htn_inject(net, from, 1, buf, n);
}

static void inject_request(struct htn *net, uint64_t id, uint32_t len, uint32_t part)
{
	inject_from(net, 0, id, len, part);
}

static void test_limits__socket_cap_reclaims_from_heaviest_peer(void **state)
{
	struct homa_settings st;
	struct htn *net;
	struct htn_sock *s;
	struct homa_rpc_info ri[8];
	size_t count, i;
	int honest_alive = 0;

	(void)state;
	homa_settings_default(&st);
	st.max_rpcs_per_socket = 4;
	net = htn_new(3, &st, 1000, 0);
	net->hosts[0].dead = 1;
	net->hosts[2].dead = 1;
	s = htn_sock(net, 1, SERVER_PORT, 64);
	inject_from(net, 0, 500, 2000, 1000); /* the honest peer's one request, oldest */
	htn_run_for(net, 1000);
	for (i = 0; i < 6; i++)
		inject_from(net, 2, 1000 + 2 * i, 2000, 1000);
	htn_run_for(net, 100000);
	homa_sock_get_info(s->sock, NULL, ri, 8, &count);
	assert_int_equal(count, 4);
	for (i = 0; i < count; i++)
		honest_alive |= ri[i].id == 501;
	assert_true(honest_alive);
	assert_int_equal(stats(net, 1)->rpcs_reclaimed_limit, 3);
	assert_int_equal(htn_free(net), 0);
}

static void test_limits__per_peer_cap_reclaims_oldest_incomplete_request(void **state)
{
	struct homa_settings st;
	struct htn *net;
	struct htn_sock *s;
	struct homa_sock_info si;
	struct homa_rpc_info ri[4];
	size_t count;

	(void)state;
	homa_settings_default(&st);
	st.max_server_rpcs_per_peer = 2;
	net = htn_new(2, &st, 1000, 0);
	net->hosts[0].dead = 1; /* the flooding client never answers */
	s = htn_sock(net, 1, SERVER_PORT, 64);
	/* First halves of three 2000-byte requests: none completes. */
	inject_request(net, 1000, 2000, 1000);
	inject_request(net, 1002, 2000, 1000);
	inject_request(net, 1004, 2000, 1000);
	htn_run_for(net, 100000);
	homa_sock_get_info(s->sock, &si, ri, 4, &count);
	assert_int_equal(count, 2);
	assert_int_equal(ri[0].id, 1003);
	assert_int_equal(ri[1].id, 1005);
	assert_int_equal(stats(net, 1)->rpcs_reclaimed_limit, 1);
	assert_int_equal(stats(net, 1)->drop_peer_limit, 0);
	assert_int_equal(htn_free(net), 0);
}

static void test_limits__per_peer_cap_drops_when_all_are_with_the_app(void **state)
{
	struct homa_settings st;
	struct htn *net;
	struct htn_sock *s;
	struct homa_recv_msg m;

	(void)state;
	homa_settings_default(&st);
	st.max_server_rpcs_per_peer = 2;
	net = htn_new(2, &st, 1000, 0);
	net->hosts[0].dead = 1;
	s = htn_sock(net, 1, SERVER_PORT, 64);
	inject_request(net, 1000, 100, 100);
	inject_request(net, 1002, 100, 100);
	htn_run_for(net, 100000);
	assert_int_equal(htn_recv(net, s, 0, &m, NULL, 0), 0);
	assert_int_equal(htn_recv(net, s, 0, &m, NULL, 0), 0);
	inject_request(net, 1004, 100, 100);
	htn_run_for(net, 100000);
	assert_int_equal(homa_engine_num_rpcs(net->hosts[1].engine), 2);
	assert_int_equal(stats(net, 1)->drop_peer_limit, 1);
	assert_int_equal(stats(net, 1)->rpcs_reclaimed_limit, 0);
	assert_int_equal(htn_free(net), 0);
}

static void test_limits__full_peer_table_evicts_peer_with_only_half_requests(void **state)
{
	struct homa_settings st;
	struct htn *net;
	struct htn_sock *s;
	struct homa_rpc_info ri[4];
	size_t count;

	(void)state;
	homa_settings_default(&st);
	st.max_peers = 2;
	net = htn_new(4, &st, 1000, 0);
	net->hosts[0].dead = 1;
	net->hosts[2].dead = 1;
	net->hosts[3].dead = 1;
	s = htn_sock(net, 1, SERVER_PORT, 64);
	inject_from(net, 2, 1000, 2000,
		    1000); /* two silent half requests fill the table */
	inject_from(net, 3, 2000, 2000, 1000);
	htn_run_for(net, 100000);
	inject_from(net, 0, 3000, 100, 100); /* a whole request from a third host */
	htn_run_for(net, 100000);
	assert_true(homa_sock_readable(s->sock));
	homa_sock_get_info(s->sock, NULL, ri, 4, &count);
	assert_int_equal(count, 2);
	assert_int_equal(ri[0].id, 2001);
	assert_int_equal(ri[1].id, 3001);
	assert_int_equal(stats(net, 1)->rpcs_reclaimed_limit, 1);
	assert_int_equal(homa_engine_num_peers(net->hosts[1].engine), 2);
	assert_int_equal(htn_free(net), 0);
}

static void test_limits__busy_peers_not_evicted_idle_ones_are(void **state)
{
	struct homa_settings st;
	struct htn *net;
	struct htn_sock *c, *s;
	int err;

	(void)state;
	homa_settings_default(&st);
	st.max_peers = 1;
	net = htn_new(3, &st, 1000, 0);
	c = htn_sock(net, 0, 0, 64);
	s = htn_sock(net, 1, SERVER_PORT, 64);
	send_bytes(net, c, 1, SERVER_PORT, 10, &err);
	assert_int_equal(err, 0);
	send_bytes(net, c, 2, SERVER_PORT, 10, &err);
	assert_int_equal(err, -ENOMEM);
	htn_run_for(net, 100000);
	answer_all(net, s);
	assert_true(htn_run_until(net, readable, c, net->now + 100 * MS));
	{
		struct homa_recv_msg m;

		assert_int_equal(htn_recv(net, c, 0, &m, NULL, 0), 0);
	}
	send_bytes(net, c, 2, SERVER_PORT, 10, &err);
	assert_int_equal(err, 0);
	assert_int_equal(homa_engine_num_peers(net->hosts[0].engine), 1);
	net->hosts[2].dead = 1;
	assert_int_equal(htn_free(net), 0);
}

/* ------------------------------------------------------------ hostile */

static uint64_t rng_next(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void test_hostile__random_packets_leave_no_state(void **state)
{
	struct htn *net = htn_new(2, NULL, 1000, 0);
	struct htn_sock *s = htn_sock(net, 1, SERVER_PORT, 64);
	uint8_t buf[1600];
	uint64_t x = 88172645463325252ull;
	int i;

	(void)state;
	for (i = 0; i < 20000; i++) {
		struct homa_packet p;
		size_t n, k;
		uint64_t r = rng_next(&x);
		uint16_t sport = (uint16_t)(r >> 16),
			 dport = (r & 1) ? SERVER_PORT : (uint16_t)r;
		uint64_t id = rng_next(&x) % 64;

		switch (r % 6) {
		case 0:
			n = hpb_build_data(buf, sizeof(buf), sport, dport, id,
					   (uint32_t)(rng_next(&x) % 5000) + 1,
					   (uint32_t)(rng_next(&x) % 5000),
					   1 + rng_next(&x) % 1400);
			break;
		case 1:
			hpb_grant(&p, sport, dport, id, (uint32_t)rng_next(&x),
				  (uint8_t)(r % 9));
			n = hpb_encode(&p, NULL, 0, buf, sizeof(buf));
			break;
		case 2:
			hpb_resend(&p, sport, dport, id, (uint32_t)rng_next(&x) % 6000,
				   (uint32_t)rng_next(&x), 3);
			n = hpb_encode(&p, NULL, 0, buf, sizeof(buf));
			break;
		case 3:
			hpb_ack(&p, sport, dport, id | 1, NULL, (uint16_t)(r % 7));
			n = hpb_encode(&p, NULL, 0, buf, sizeof(buf));
			break;
		case 4:
			hpb_init(&p, (uint8_t)(0x10 + r % 10), sport, dport, id);
			n = hpb_encode(&p, NULL, 0, buf, sizeof(buf));
			break;
		default:
			n = (size_t)(r % sizeof(buf));
			for (k = 0; k < n; k++)
				buf[k] = (uint8_t)rng_next(&x);
		}
		if (n != 0)
			htn_inject(net, 0, 1, buf, n);
		if (i % 100 == 0)
			htn_run_for(net, 10000);
	}
	htn_run_for(net, 1000 * MS);
	/* Everything half-received timed out; nothing was completed by noise alone
	 * except whole one-packet messages, which wait for the application. */
	assert_true(stats(net, 1)->rx_data > 0);
	net->hosts[0].dead = 1;
	(void)s;
	assert_int_equal(htn_free(net), 0);
}

/* ------------------------------------------------- allocation failures */

/* Like answer_all, but replies may fail (allocation failures are injected). */
static void answer_all_may_fail(struct htn *net, struct htn_sock *s)
{
	struct homa_recv_msg m;
	uint8_t b = 1;
	struct homa_iov iov = {&b, 1};

	while (htn_recv(net, s, 0, &m, NULL, 0) == 0)
		homa_sock_reply(s->sock, m.id, &m.peer, &iov, 1, net->now);
}

struct failing {
	long countdown; /* allocations left before failing; < 0: never fail */
	long failed;
};

static void *failing_alloc(void *ctx, size_t size)
{
	struct failing *f = ctx;

	if (f->countdown == 0) {
		f->failed++;
		return NULL;
	}
	if (f->countdown > 0)
		f->countdown--;
	return malloc(size);
}

static void failing_free(void *ctx, void *p, size_t size)
{
	(void)ctx;
	(void)size;
	free(p);
}

static void test_alloc__every_failure_point_leaks_nothing(void **state)
{
	long n, last_failed = 1;

	(void)state;
	/* Until a run needs no failure injected: every allocation point was hit. */
	for (n = 0; last_failed != 0; n++) {
		struct failing f = {-1, 0};
		struct homa_allocator a = {failing_alloc, failing_free, &f};
		struct htn *net = htn_new_with(2, NULL, 1000, 25000, &a);
		struct htn_sock *c = htn_sock(net, 0, 0, 64);
		struct htn_sock *s = htn_sock(net, 1, SERVER_PORT, 64);
		int err;

		f.countdown = n;
		send_bytes(net, c, 1, SERVER_PORT, 100000, &err);
		htn_run_for(net, 5 * MS);
		answer_all_may_fail(net, s);
		htn_run_for(net, 300 * MS);
		{
			struct homa_recv_msg m;

			htn_recv(net, c, 0, &m, NULL, 0);
		}
		if (htn_free(net) != 0)
			fail_msg("leak when allocation %ld fails", n);
		last_failed = f.failed;
		assert_true(n < 1000);
		if (last_failed == 0)
			print_message("allocation points covered: %ld\n", n);
	}
}

static void test_stats__alloc_failure_in_api_call_counted_at_once(void **state)
{
	struct failing f = {-1, 0};
	struct homa_allocator a = {failing_alloc, failing_free, &f};
	struct htn *net = htn_new_with(2, NULL, 1000, 0, &a);
	struct htn_sock *c = htn_sock(net, 0, 0, 64);
	int err;

	(void)state;
	f.countdown = 0;
	send_bytes(net, c, 1, SERVER_PORT, 100, &err);
	assert_int_equal(err, -ENOMEM);
	assert_int_equal(stats(net, 0)->alloc_failures, 1);
	f.countdown = -1;
	assert_int_equal(htn_free(net), 0);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_settings__defaults_pass_check),
    cmocka_unit_test(test_settings__each_bad_value_rejected_with_reason),
    cmocka_unit_test(test_engine__new_rejects_missing_send_and_bad_settings),
    cmocka_unit_test(test_engine__set_settings_installs_new_cutoffs),
    cmocka_unit_test(test_addr__ipv4_mapped_round_trip_and_ipv6),
    cmocka_unit_test(test_rpc__over_ipv6_addresses),
    cmocka_unit_test(test_sock__client_ports_random_and_distinct),
    cmocka_unit_test(test_sock__bind_rules),
    cmocka_unit_test(test_sock__rcvbuf_rules),
    cmocka_unit_test(test_send__argument_errors),
    cmocka_unit_test(test_send__ids_even_and_step_by_two),
    cmocka_unit_test(test_reply__errors),
    cmocka_unit_test(test_send__borrowed_message_sent_from_callers_bytes),
    cmocka_unit_test(test_acks__cache_overflow_sends_ack_packet),
    cmocka_unit_test(test_acks__piggybacked_on_next_request),
    cmocka_unit_test(test_acks__deferred_until_run_deferred),
    cmocka_unit_test(test_acks__piggybacked_on_response),
    cmocka_unit_test(test_acks__cached_ack_waits_half_request_ack_ticks),
    cmocka_unit_test(test_acks__scheduled_packets_leave_acks_for_high_priority_data),
    cmocka_unit_test(test_acks__one_priority_level_any_packet_carries_acks),
    cmocka_unit_test(test_acks__cached_ack_flushed_at_next_tick_before_need_ack),
    cmocka_unit_test(test_acks__need_ack_for_incomplete_response_gets_resend),
    cmocka_unit_test(test_limits__per_peer_cap_reclaims_oldest_incomplete_request),
    cmocka_unit_test(test_limits__per_peer_cap_drops_when_all_are_with_the_app),
    cmocka_unit_test(test_limits__socket_cap_reclaims_from_heaviest_peer),
    cmocka_unit_test(test_stats__alloc_failure_in_api_call_counted_at_once),
    cmocka_unit_test(test_limits__busy_peers_not_evicted_idle_ones_are),
    cmocka_unit_test(test_limits__full_peer_table_evicts_peer_with_only_half_requests),
    cmocka_unit_test(test_hostile__random_packets_leave_no_state),
    cmocka_unit_test(test_alloc__every_failure_point_leaks_nothing),
};

HOMA_TEST_MAIN(tests)
