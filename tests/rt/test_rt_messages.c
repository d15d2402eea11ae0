/*
 * test_rt_messages.c - libhoma moves messages correctly over real loopback
 * sockets: every size class, many RPCs from many threads, private RPCs,
 * IPv6, the raw IP carrier, and loss injection.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "homa_test.h"
#include "rt_helpers.h"

static const size_t sizes[] = {1, 100, 65535, 65536, 65537, 1000000};

static void echo_all_sizes(int family, int flags)
{
	struct homa_rt_stats st;
	struct rt_echo e;
	struct homa_socket *c;
	union homa_sockaddr dst;
	socklen_t dlen;

	rt_up(NULL);
	rt_echo_start(&e, family, flags, 1);
	assert_int_equal(homa_socket(family, flags, &c), 0);
	homa_set_recv_timeout(c, 10000000);
	rt_loopback(e.s, &dst, &dlen);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		assert_int_equal(rt_round_trip(c, &dst, dlen, sizes[i], (uint32_t)i + 1),
				 0);
	/* Every raw socket sees every protocol-146 packet unless its port
	 * filter works: then each packet reaches exactly one socket. */
	assert_int_equal(homa_get_stats(NULL, &st), 0);
	assert_true(st.rx_packets <= st.tx_packets);
	homa_close(c);
	rt_echo_stop(&e);
	rt_down();
}

static void test_udp_ipv4_every_size_round_trips_intact(void **state)
{
	(void)state;
	echo_all_sizes(AF_INET, 0);
}

static void test_udp_ipv6_every_size_round_trips_intact(void **state)
{
	(void)state;
	if (!rt_can_ipv6())
		skip();
	echo_all_sizes(AF_INET6, 0);
}

static void test_raw_ipv4_every_size_round_trips_intact(void **state)
{
	(void)state;
	if (!rt_can_raw())
		skip();
	echo_all_sizes(AF_INET, HOMA_SOCK_RAW);
}

static void test_raw_ipv6_every_size_round_trips_intact(void **state)
{
	(void)state;
	if (!rt_can_raw() || !rt_can_ipv6())
		skip();
	echo_all_sizes(AF_INET6, HOMA_SOCK_RAW);
}

/* An AF_INET6 socket reaches an AF_INET server through a v4-mapped address. */
static void test_udp_ipv6_socket_reaches_ipv4_server(void **state)
{
	struct rt_echo e;
	struct homa_socket *c;
	union homa_sockaddr dst;

	(void)state;
	if (!rt_can_ipv6())
		skip();
	rt_up(NULL);
	rt_echo_start(&e, AF_INET, 0, 1);
	assert_int_equal(homa_socket(AF_INET6, 0, &c), 0);
	homa_set_recv_timeout(c, 10000000);
	memset(&dst, 0, sizeof(dst));
	dst.in6.sin6_family = AF_INET6;
	dst.in6.sin6_port = htons(homa_get_port(e.s));
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &dst.in6.sin6_addr);
	assert_int_equal(rt_round_trip(c, &dst, sizeof(dst.in6), 1000, 7), 0);
	homa_close(c);
	rt_echo_stop(&e);
	rt_down();
}

/* ------------------------------------------------------------ concurrency */

#define CLIENT_THREADS	4
#define RPCS_PER_THREAD 250

struct client_ctx {
	struct homa_socket *c;
	union homa_sockaddr dst;
	socklen_t dlen;
	int index;
	int ok; /* responses checked */
};

/* Sends 250 requests at once, then takes any 250 responses of the shared
 * socket (other threads' included) and checks each against its cookie. */
static void *client_main(void *arg)
{
	struct client_ctx *x = arg;
	uint8_t buf[2000], got[2000];
	struct homa_msg msg;

	for (int i = 0; i < RPCS_PER_THREAD; i++) {
		uint32_t seed = (uint32_t)(x->index * 100000 + i);
		size_t len = 1 + seed % sizeof(buf);
		uint64_t id;

		rt_pattern(buf, len, seed);
		if (homa_send(x->c, buf, len, &x->dst.sa, x->dlen, &id, seed, 0))
			return NULL;
	}
	memset(&msg, 0, sizeof(msg));
	for (int i = 0; i < RPCS_PER_THREAD; i++) {
		int len;

		msg.id = 0;
		len = homa_recv(x->c, &msg, 0);
		if (len < 0)
			return NULL;
		uint32_t seed = (uint32_t)msg.completion_cookie;
		if ((size_t)len != 1 + seed % sizeof(buf) ||
		    homa_msg_copy(x->c, &msg, 0, got, (size_t)len) != (size_t)len ||
		    !rt_pattern_ok(got, (size_t)len, seed))
			return NULL;
		x->ok++;
	}
	homa_release_bpages(x->c, msg.bpage_offsets, msg.num_bpages);
	return NULL;
}

static void test_thousand_concurrent_rpcs_from_four_threads(void **state)
{
	struct client_ctx ctx[CLIENT_THREADS];
	pthread_t t[CLIENT_THREADS];
	struct homa_socket *c;
	struct rt_echo e;
	int total = 0;

	(void)state;
	rt_up(NULL);
	rt_echo_start(&e, AF_INET, 0, 2);
	assert_int_equal(homa_socket(AF_INET, 0, &c), 0);
	homa_set_recv_timeout(c, 20000000);
	for (int i = 0; i < CLIENT_THREADS; i++) {
		ctx[i] = (struct client_ctx){.c = c, .index = i};
		rt_loopback(e.s, &ctx[i].dst, &ctx[i].dlen);
		assert_int_equal(pthread_create(&t[i], NULL, client_main, &ctx[i]), 0);
	}
	for (int i = 0; i < CLIENT_THREADS; i++) {
		pthread_join(t[i], NULL);
		total += ctx[i].ok;
	}
	assert_int_equal(total, CLIENT_THREADS * RPCS_PER_THREAD);
	homa_close(c);
	rt_echo_stop(&e);
	rt_down();
}

/* ------------------------------------------------------------ private RPCs */

/* Bounded wait until private RPC id of c has its response (the background
 * thread reads it, since nobody receives on c meanwhile). */
static int private_arrives(struct homa_socket *c, uint64_t id)
{
	struct homa_rpc_info rpcs[4];
	size_t n = 0;

	for (long i = 0; i < 10000000; i++) {
		assert_int_equal(homa_info(c, NULL, rpcs, 4, &n), 0);
		for (size_t k = 0; k < n && k < 4; k++)
			if (rpcs[k].id == id && (rpcs[k].flags & HOMA_RPC_RX_READY))
				return 1;
		sched_yield();
	}
	return 0;
}

static void test_private_response_only_returned_to_its_id(void **state)
{
	struct epoll_event ev = {.events = EPOLLIN};
	struct homa_socket *c;
	int ep;
	union homa_sockaddr dst;
	struct homa_msg msg;
	struct rt_echo e;
	uint64_t priv, shared;
	socklen_t dlen;
	char buf[64] = "private";

	(void)state;
	rt_up(NULL);
	rt_echo_start(&e, AF_INET, 0, 1);
	assert_int_equal(homa_socket(AF_INET, 0, &c), 0);
	homa_set_recv_timeout(c, 10000000);
	rt_loopback(e.s, &dst, &dlen);
	assert_int_equal(
	    homa_send(c, buf, 10, &dst.sa, dlen, &priv, 1, HOMA_SENDMSG_PRIVATE), 0);
	assert_int_equal(homa_send(c, buf, 20, &dst.sa, dlen, &shared, 2, 0), 0);

	/* A shared receive sees only the shared response, whatever the order. */
	memset(&msg, 0, sizeof(msg));
	assert_int_equal(homa_recv(c, &msg, 0), 20);
	assert_true(msg.id == shared);

	/* Nothing else is shared; the private one waits for its id, and even
	 * once it has arrived it never makes the socket's fd readable. */
	msg.id = 0;
	assert_int_equal(homa_recv(c, &msg, HOMA_RECV_NONBLOCK), -EAGAIN);
	assert_true(private_arrives(c, priv));
	ep = epoll_create1(0);
	assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, homa_fd(c), &ev), 0);
	assert_int_equal(epoll_wait(ep, &ev, 1, 0), 0);
	close(ep);
	msg.id = priv;
	assert_int_equal(homa_recv(c, &msg, 0), 10);
	assert_true(msg.id == priv);
	assert_true(msg.completion_cookie == 1);

	/* An id that names no private RPC is an error, not a wait. */
	msg.id = priv + 2;
	assert_int_equal(homa_recv(c, &msg, 0), -EINVAL);
	assert_true(strlen(homa_error_msg(c)) > 0);
	homa_close(c);
	rt_echo_stop(&e);
	rt_down();
}

/* ------------------------------------------------------------ loss injection */

static void lossy(struct homa_config *c)
{
	c->drop_send = 0.05;
	c->drop_recv = 0.05;
	c->drop_seed = 42;
	c->settings.resend_ticks = 2;
	c->settings.resend_interval = 2;
}

static void test_rpcs_complete_despite_injected_loss(void **state)
{
	struct homa_rt_stats st;
	struct homa_socket *c;
	union homa_sockaddr dst;
	struct rt_echo e;
	socklen_t dlen;

	(void)state;
	rt_up(lossy);
	rt_echo_start(&e, AF_INET, 0, 1);
	assert_int_equal(homa_socket(AF_INET, 0, &c), 0);
	homa_set_recv_timeout(c, 20000000);
	rt_loopback(e.s, &dst, &dlen);
	for (uint32_t i = 0; i < 40; i++)
		assert_int_equal(rt_round_trip(c, &dst, dlen, i % 4 ? 3000 : 300000, i),
				 0);
	assert_int_equal(homa_get_stats(NULL, &st), 0);
	assert_true(st.drop_send > 0);
	assert_true(st.drop_recv > 0);
	homa_close(c);
	rt_echo_stop(&e);
	rt_down();
}

/* ------------------------------------------------------------ small MTU */

static void mtu_1500(struct homa_config *c)
{
	c->settings.max_packet_bytes = 1500 - 48;
}

static void mtu_1500_no_gso(struct homa_config *c)
{
	mtu_1500(c);
	c->use_gso = 0;
}

static void small_packets_round_trip(void (*tweak)(struct homa_config *c),
				     struct homa_rt_stats *st)
{
	struct homa_socket *c;
	union homa_sockaddr dst;
	struct rt_echo e;
	socklen_t dlen;

	rt_up(tweak);
	rt_echo_start(&e, AF_INET, 0, 1);
	assert_int_equal(homa_socket(AF_INET, 0, &c), 0);
	homa_set_recv_timeout(c, 10000000);
	rt_loopback(e.s, &dst, &dlen);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		assert_int_equal(rt_round_trip(c, &dst, dlen, sizes[i], (uint32_t)i + 1),
				 0);
	assert_int_equal(homa_get_stats(NULL, st), 0);
	homa_close(c);
	rt_echo_stop(&e);
	rt_down();
}

/* 1500-byte packets travel in UDP GSO batches and arrive GRO-coalesced. */
static void test_small_mtu_uses_gso_batches_and_gro(void **state)
{
	struct homa_rt_stats st;

	(void)state;
	small_packets_round_trip(mtu_1500, &st);
	assert_true(st.tx_gso_batches > 0);
	assert_true(st.tx_packets > 2 * st.tx_syscalls);
	print_message("gso: %llu packets in %llu syscalls, %llu gro packets\n",
		      (unsigned long long)st.tx_packets,
		      (unsigned long long)st.tx_syscalls,
		      (unsigned long long)st.rx_gro_packets);
}

static void test_small_mtu_without_gso_sends_one_packet_per_call(void **state)
{
	struct homa_rt_stats st;

	(void)state;
	small_packets_round_trip(mtu_1500_no_gso, &st);
	assert_true(st.tx_gso_batches == 0);
	assert_true(st.tx_packets == st.tx_syscalls);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_udp_ipv4_every_size_round_trips_intact),
    cmocka_unit_test(test_udp_ipv6_every_size_round_trips_intact),
    cmocka_unit_test(test_raw_ipv4_every_size_round_trips_intact),
    cmocka_unit_test(test_raw_ipv6_every_size_round_trips_intact),
    cmocka_unit_test(test_udp_ipv6_socket_reaches_ipv4_server),
    cmocka_unit_test(test_thousand_concurrent_rpcs_from_four_threads),
    cmocka_unit_test(test_private_response_only_returned_to_its_id),
    cmocka_unit_test(test_rpcs_complete_despite_injected_loss),
    cmocka_unit_test(test_small_mtu_uses_gso_batches_and_gro),
    cmocka_unit_test(test_small_mtu_without_gso_sends_one_packet_per_call),
};

HOMA_TEST_MAIN(tests)
