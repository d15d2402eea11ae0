/*
 * test_rt_send_more.c - HOMA_SEND_MORE and homa_flush(): packets of messages
 * sent with the flag are held and leave together, at the documented points
 * (a send without the flag, a homa_recv() that finds nothing ready,
 * homa_flush(), homa_close(), the background thread), never lost, intact.
 *
 * Waiting for a message here goes through homa_fd() and epoll_wait() (bounded
 * by a timeout), not homa_recv(): a waiting homa_recv() would itself send
 * what is held. With the timer tick set to a minute (quiet_timers) and every
 * socket left to the background thread, nothing but the test's own calls
 * can flush, so "held" can be asserted exactly.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "homa_test.h"
#include "rt_helpers.h"

#define WAIT_MS 10000

/* Timers never fire during a test: only the test's calls flush. */
static void quiet_timers(struct homa_config *c)
{
	c->settings.tick_ns = 60ull * 1000000000ull;
}

static struct homa_rt_stats stats(void)
{
	struct homa_rt_stats st;

	assert_int_equal(homa_get_stats(NULL, &st), 0);
	return st;
}

/* Waits (bounded) until homa_fd(s) is readable: a message is ready. */
static int wait_ready(struct homa_socket *s)
{
	int fd = homa_fd(s), ep = epoll_create1(0), n;
	struct epoll_event ev = {.events = EPOLLIN}, out;

	assert_true(fd >= 0 && ep >= 0);
	assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), 0);
	n = epoll_wait(ep, &out, 1, WAIT_MS);
	close(ep);
	return n == 1;
}

/* Takes one ready message without waiting; returns homa_recv's value. */
static int take(struct homa_socket *s, struct homa_msg *m)
{
	m->id = 0;
	return homa_recv(s, m, HOMA_RECV_NONBLOCK);
}

/* Sends a request of len pattern bytes (seed = cookie). */
static void request(struct homa_socket *c, const union homa_sockaddr *dst, socklen_t dlen,
		    size_t len, uint32_t seed, int flags)
{
	uint8_t *b = malloc(len);
	uint64_t id;

	rt_pattern(b, len, seed);
	assert_int_equal(homa_send(c, b, len, &dst->sa, dlen, &id, seed, flags), 0);
	free(b);
}

/* Echoes the request in m from the receive region. */
static void echo(struct homa_socket *s, struct homa_msg *m, int flags)
{
	struct iovec iov[HOMA_MAX_BPAGES];

	for (uint32_t i = 0; i < m->num_bpages; i++)
		iov[i].iov_base = homa_msg_data(s, m, i, &iov[i].iov_len);
	assert_int_equal(homa_replyv_flags(s, iov, (int)m->num_bpages, &m->peer.sa,
					   m->peer_len, m->id, flags),
			 0);
}

/* Checks a response: cookie = seed, length, bytes. */
static void check_response(struct homa_socket *c, struct homa_msg *m, int len,
			   size_t want_len)
{
	uint8_t *b = malloc(want_len);

	assert_int_equal(len, (int)want_len);
	assert_int_equal(homa_msg_copy(c, m, 0, b, want_len), want_len);
	assert_true(rt_pattern_ok(b, want_len, (uint32_t)m->completion_cookie));
	free(b);
}

/* A reply sent with HOMA_SEND_MORE is held until the server's next
 * homa_recv() finds nothing ready; then it arrives intact. */
static void test_held_reply_leaves_when_recv_finds_nothing(void **state)
{
	struct homa_socket *c, *s;
	union homa_sockaddr dst;
	struct homa_rt_stats st0, st1;
	struct homa_msg m;
	socklen_t dlen;
	int len;

	(void)state;
	rt_up(quiet_timers);
	s = rt_server(AF_INET, 0);
	assert_int_equal(homa_socket(AF_INET, 0, &c), 0);
	rt_loopback(s, &dst, &dlen);
	memset(&m, 0, sizeof(m));
	request(c, &dst, dlen, 100, 7, 0);
	assert_true(wait_ready(s));
	assert_int_equal(take(s, &m), 100);

	st0 = stats();
	echo(s, &m, HOMA_SEND_MORE);
	st1 = stats();
	assert_int_equal(st1.tx_packets, st0.tx_packets); /* held */
	assert_int_equal(st1.tx_syscalls, st0.tx_syscalls);

	assert_int_equal(take(s, &m), -EAGAIN); /* finds nothing: sends */
	st1 = stats();
	assert_int_equal(st1.tx_packets, st0.tx_packets + 1);

	assert_true(wait_ready(c));
	memset(&m, 0, sizeof(m));
	len = take(c, &m);
	check_response(c, &m, len, 100);
	homa_close(c);
	homa_close(s);
	rt_down();
}

enum { BURST = 32 };

/*
 * One burst: BURST requests sent with HOMA_SEND_MORE leave in one system call
 * (one GSO batch); the server answers them with the flag while requests are
 * ready; every response arrives intact. Without measure (the first burst,
 * on fresh sockets) the requests must all be held until homa_flush(); with
 * it, the replies must leave in a handful of system calls, which needs the
 * server's socket to read the batch whole (UDP_GRO on).
 */
static void burst_round(struct homa_socket *c, struct homa_socket *s,
			const union homa_sockaddr *dst, socklen_t dlen, int measure)
{
	enum { N = BURST };
	struct homa_rt_stats st0, st1;
	struct homa_stats e0, e1;
	struct homa_msg m;
	int answered = 0, got = 0, seen[N] = {0};

	memset(&m, 0, sizeof(m));
	assert_int_equal(homa_get_stats(&e0, &st0), 0);
	for (uint32_t i = 0; i < N; i++)
		request(c, dst, dlen, 100, i + 1, HOMA_SEND_MORE);
	st1 = stats();
	/* On fresh sockets nothing else can flush. Later, the background
	 * thread may: it looks at a socket HOMA_RT_IDLE_NS after a
	 * non-blocking poller left it, and its unlock sends what is held. */
	if (!measure)
		assert_int_equal(st1.tx_packets, st0.tx_packets); /* all held */
	assert_int_equal(homa_flush(c), 0);
	assert_int_equal(homa_get_stats(&e1, &st1), 0);
	/* One system call, one GSO batch; the background thread may already
	 * have read them for the server, which greets a new peer with
	 * CUTOFFS (its own system call). */
	assert_int_equal(e1.tx_data - e0.tx_data, N);
	assert_true(st1.tx_packets - st0.tx_packets >= N);
	assert_true(st1.tx_gso_batches - st0.tx_gso_batches >= 1);
	if (!measure)
		assert_true(st1.tx_syscalls - st0.tx_syscalls <= 2);

	/* The server answers every request that is ready, with the flag; the
	 * homa_recv() that finds none ready sends the answers. */
	st0 = stats();
	for (int turn = 0; turn < 4 * N && answered < N; turn++) {
		int len = take(s, &m);

		if (len == -EAGAIN) {
			assert_true(wait_ready(s));
			continue;
		}
		assert_int_equal(len, 100);
		echo(s, &m, HOMA_SEND_MORE);
		answered++;
	}
	assert_int_equal(answered, N);
	assert_int_equal(take(s, &m), -EAGAIN);
	st1 = stats();
	assert_true(st1.tx_packets - st0.tx_packets >= N); /* + CUTOFFS once */
	if (measure) {
		assert_true(st1.tx_syscalls - st0.tx_syscalls <= 4);
		print_message("%d replies in %llu system calls\n", N,
			      (unsigned long long)(st1.tx_syscalls - st0.tx_syscalls));
	}

	memset(&m, 0, sizeof(m));
	for (int turn = 0; turn < 4 * N && got < N; turn++) {
		int len = take(c, &m);

		if (len == -EAGAIN) {
			assert_true(wait_ready(c));
			continue;
		}
		check_response(c, &m, len, 100);
		assert_true(m.completion_cookie >= 1 && m.completion_cookie <= N);
		assert_false(seen[m.completion_cookie - 1]);
		seen[m.completion_cookie - 1] = 1;
		got++;
	}
	assert_int_equal(got, N);
}

/* homa_flush() sends held packets; 32 equal requests leave in one system
 * call (one GSO batch), 32 replies held while requests are ready likewise
 * in a handful, and every response arrives intact. A fresh socket reads
 * without UDP_GRO (cheaper for one datagram at a time); the first burst,
 * queueing up, turns it on, and the second burst is read whole. */
static void test_burst_with_more_takes_few_system_calls(void **state)
{
	struct homa_socket *c, *s;
	union homa_sockaddr dst;
	socklen_t dlen;

	(void)state;
	rt_up(quiet_timers);
	s = rt_server(AF_INET, 0);
	assert_int_equal(homa_socket(AF_INET, 0, &c), 0);
	assert_true(homa_fd(s) >= 0 && homa_fd(c) >= 0); /* before anything is held */
	rt_loopback(s, &dst, &dlen);
	assert_int_equal(stats().rx_gro_on, 0);
	burst_round(c, s, &dst, dlen, 0);
	assert_true(stats().rx_gro_on >= 1); /* the server's socket */
	burst_round(c, s, &dst, dlen, 1);
	homa_close(c);
	homa_close(s);
	rt_down();
}

/*
 * A socket that receives one small datagram at a time reads it with
 * recvfrom(), without UDP_GRO; the first large message turns GRO on for the
 * socket that receives it, and every message before and after is intact.
 */
static void test_gro_stays_off_for_ping_pong_on_for_large(void **state)
{
	struct homa_socket *c, *s;
	union homa_sockaddr dst;
	struct homa_msg m;
	socklen_t dlen;
	size_t lens[] = {100, 100, 100, 200000, 100};
	uint64_t gro0;

	(void)state;
	rt_up(quiet_timers);
	s = rt_server(AF_INET, 0);
	assert_int_equal(homa_socket(AF_INET, 0, &c), 0);
	rt_loopback(s, &dst, &dlen);
	for (int i = 0; i < 5 * 20; i++) {
		size_t len = lens[i / 20];
		int got;

		if (i == 3 * 20)
			assert_int_equal(stats().rx_gro_on, 0); /* ping-pong so far */
		memset(&m, 0, sizeof(m));
		request(c, &dst, dlen, len, (uint32_t)i + 1, 0);
		do
			got = take(s, &m);
		while (got == -EAGAIN && wait_ready(s));
		assert_int_equal(got, (int)len);
		echo(s, &m, 0);
		memset(&m, 0, sizeof(m));
		do
			got = take(c, &m);
		while (got == -EAGAIN && wait_ready(c));
		check_response(c, &m, got, len);
	}
	/* 200 KB each way: both sockets received datagrams of ~64 KB. */
	assert_int_equal(stats().rx_gro_on, 2);

	/* Binding the client (its UDP socket is replaced) keeps GRO on: a
	 * burst of requests from s, now a client, arrives in one datagram (the
	 * responses go one by one, so s reads nothing coalesced). */
	rt_bind_free(c);
	rt_loopback(c, &dst, &dlen);
	gro0 = stats().rx_gro_packets;
	for (uint32_t i = 0; i < 8; i++) /* one GSO batch */
		request(s, &dst, dlen, 100, i + 1, HOMA_SEND_MORE);
	assert_int_equal(homa_flush(s), 0);
	for (int answered = 0, turn = 0; answered < 8 && turn < 64; turn++) {
		int got = take(c, &m);

		if (got == -EAGAIN) {
			assert_true(wait_ready(c));
			continue;
		}
		assert_int_equal(got, 100);
		echo(c, &m, 0);
		answered++;
	}
	for (int got_n = 0, turn = 0; got_n < 8 && turn < 64; turn++) {
		int got;

		memset(&m, 0, sizeof(m));
		got = take(s, &m);
		if (got == -EAGAIN) {
			assert_true(wait_ready(s));
			continue;
		}
		check_response(s, &m, got, 100);
		got_n++;
	}
	assert_int_equal(stats().rx_gro_on, 2);		 /* no socket newly switched */
	assert_true(stats().rx_gro_packets >= gro0 + 8); /* c read them whole */
	homa_close(c);
	homa_close(s);
	rt_down();
}

/* A send without the flag sends what earlier sends held, in order. */
static void test_send_without_flag_sends_held_packets(void **state)
{
	struct homa_socket *c, *s;
	union homa_sockaddr dst;
	struct homa_rt_stats st0, st1;
	struct homa_stats e0, e1;
	struct homa_msg m;
	socklen_t dlen;
	int got = 0, seen[3] = {0};

	(void)state;
	rt_up(quiet_timers);
	s = rt_server(AF_INET, 0);
	assert_int_equal(homa_socket(AF_INET, 0, &c), 0);
	assert_true(homa_fd(s) >= 0);
	rt_loopback(s, &dst, &dlen);
	assert_int_equal(homa_get_stats(&e0, &st0), 0);
	request(c, &dst, dlen, 200, 1, HOMA_SEND_MORE);
	request(c, &dst, dlen, 300, 2, HOMA_SEND_MORE);
	assert_int_equal(stats().tx_packets, st0.tx_packets);
	request(c, &dst, dlen, 400, 3, 0);
	assert_int_equal(homa_get_stats(&e1, &st1), 0);
	/* All three in one call (plus, maybe, the server's CUTOFFS already). */
	assert_int_equal(e1.tx_data - e0.tx_data, 3);
	assert_true(st1.tx_packets - st0.tx_packets >= 3);
	assert_true(st1.tx_syscalls - st0.tx_syscalls <= 2);
	memset(&m, 0, sizeof(m));
	for (int turn = 0; turn < 12 && got < 3; turn++) {
		int len = take(s, &m);

		if (len == -EAGAIN) {
			assert_true(wait_ready(s));
			continue;
		}
		assert_true(len == 200 || len == 300 || len == 400);
		assert_false(seen[len / 100 - 2]);
		seen[len / 100 - 2] = 1;
		got++;
	}
	assert_int_equal(got, 3);
	homa_close(c);
	homa_close(s);
	rt_down();
}

/* homa_close() sends what the socket held, before the ACK with which a
 * closing socket releases its servers' RPCs (so the server frees the
 * request instead of answering a dead port). */
static void test_close_sends_held_request(void **state)
{
	struct homa_socket *c, *s;
	union homa_sockaddr dst;
	struct homa_rt_stats st0, st1;
	struct homa_stats e0, e1;
	socklen_t dlen;

	(void)state;
	rt_up(quiet_timers);
	s = rt_server(AF_INET, 0);
	assert_int_equal(homa_socket(AF_INET, 0, &c), 0);
	rt_loopback(s, &dst, &dlen);
	assert_int_equal(homa_get_stats(&e0, &st0), 0);
	request(c, &dst, dlen, 1000, 5, HOMA_SEND_MORE);
	assert_int_equal(stats().tx_packets, st0.tx_packets); /* held */
	homa_close(c);
	assert_int_equal(homa_get_stats(&e1, &st1), 0);
	/* (the server may have sent CUTOFFS to its new peer meanwhile) */
	assert_true(st1.tx_packets - st0.tx_packets >= 2);
	assert_int_equal(e1.tx_data - e0.tx_data, 1);
	assert_int_equal(e1.tx_ack - e0.tx_ack, 1);
	homa_close(s);
	rt_down();
}

/* Safety net: with nobody calling in, the background thread's next wake-up
 * (the 1 ms timer tick of a live RPC) sends held packets. */
static void test_background_thread_sends_held_packets(void **state)
{
	struct homa_socket *c, *s;
	union homa_sockaddr dst;
	struct homa_msg m;
	socklen_t dlen;
	int fd, ep;
	struct epoll_event ev = {.events = EPOLLIN}, out;

	(void)state;
	rt_up(NULL);
	s = rt_server(AF_INET, 0);
	assert_int_equal(homa_socket(AF_INET, 0, &c), 0);
	fd = homa_fd(s);
	ep = epoll_create1(0);
	assert_true(fd >= 0 && ep >= 0);
	assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), 0);
	rt_loopback(s, &dst, &dlen);
	request(c, &dst, dlen, 100, 9, HOMA_SEND_MORE);
	/* No libhoma call until the request has arrived. */
	assert_int_equal(epoll_wait(ep, &out, 1, WAIT_MS), 1);
	close(ep);
	memset(&m, 0, sizeof(m));
	assert_int_equal(take(s, &m), 100);
	homa_close(c);
	homa_close(s);
	rt_down();
}

/* Server thread: echoes every request with HOMA_SEND_MORE until shutdown. */
static void *more_echo_main(void *arg)
{
	struct homa_socket *s = arg;
	struct homa_msg m;

	memset(&m, 0, sizeof(m));
	for (;;) {
		int len;

		m.id = 0;
		len = homa_recv(s, &m, 0);
		if (len == -ESHUTDOWN)
			break;
		if (len > 0)
			echo(s, &m, HOMA_SEND_MORE);
	}
	return NULL;
}

/* Mixed sizes, from 1 byte to 1 MB (held small packets, direct large ones,
 * messages ending in a small packet), both directions with the flag: every
 * response complete and byte-exact. */
static void test_mixed_sizes_with_more_arrive_intact(void **state)
{
	static const size_t lens[] = {100,  20000, 1,	  1000000, 100,	   65536, 65537,
				      5000, 100,   16383, 16384,   300000, 100};
	enum { N = sizeof(lens) / sizeof(lens[0]), ROUNDS = 4 };
	struct homa_socket *c, *s;
	union homa_sockaddr dst;
	struct homa_msg m;
	pthread_t t;
	socklen_t dlen;

	(void)state;
	rt_up(NULL);
	s = rt_server(AF_INET, 0);
	assert_int_equal(pthread_create(&t, NULL, more_echo_main, s), 0);
	assert_int_equal(homa_socket(AF_INET, 0, &c), 0);
	homa_set_recv_timeout(c, 20000000);
	rt_loopback(s, &dst, &dlen);
	memset(&m, 0, sizeof(m));
	for (int r = 0; r < ROUNDS; r++) {
		int got = 0;

		for (uint32_t i = 0; i < N; i++)
			request(c, &dst, dlen, lens[i], i + 1, HOMA_SEND_MORE);
		while (got < N) {
			int len;

			m.id = 0;
			len = homa_recv(c, &m, 0);
			assert_true(len > 0);
			assert_true(m.completion_cookie >= 1 && m.completion_cookie <= N);
			check_response(c, &m, len, lens[m.completion_cookie - 1]);
			got++;
		}
	}
	homa_shutdown(s);
	pthread_join(t, NULL);
	homa_close(c);
	homa_close(s);
	rt_down();
}

static void no_gso(struct homa_config *c)
{
	quiet_timers(c);
	c->use_gso = 0;
}

/* HOMA_GSO=0: the flag is accepted and changes nothing (one sendmsg per
 * packet, at once). */
static void test_send_more_without_gso_sends_at_once(void **state)
{
	struct homa_socket *c, *s;
	union homa_sockaddr dst;
	struct homa_rt_stats st0, st1;
	struct homa_stats e0, e1;
	struct homa_msg m;
	socklen_t dlen;

	(void)state;
	rt_up(no_gso);
	s = rt_server(AF_INET, 0);
	assert_int_equal(homa_socket(AF_INET, 0, &c), 0);
	assert_true(homa_fd(s) >= 0);
	rt_loopback(s, &dst, &dlen);
	assert_int_equal(homa_get_stats(&e0, &st0), 0);
	request(c, &dst, dlen, 100, 1, HOMA_SEND_MORE);
	assert_int_equal(homa_get_stats(&e1, &st1), 0);
	assert_int_equal(e1.tx_data - e0.tx_data, 1);
	assert_true(st1.tx_packets - st0.tx_packets >= 1);
	assert_int_equal(st1.tx_gso_batches, 0);
	assert_true(wait_ready(s));
	memset(&m, 0, sizeof(m));
	assert_int_equal(take(s, &m), 100);
	homa_close(c);
	homa_close(s);
	rt_down();
}

/* Unknown flags are refused; homa_flush(NULL) too. */
/* HOMA_SEND_ZEROCOPY: a 1 MB request sent from the caller's bytes arrives
 * intact and its echo comes back; the bytes are the caller's to free once
 * the response is taken. Two pieces, or a reply, are refused. */
static void test_zerocopy_request_arrives_intact(void **state)
{
	size_t len = 1000000;
	uint8_t *b = malloc(len), hdr[8] = {0};
	struct homa_socket *c, *s;
	union homa_sockaddr dst;
	struct iovec two[2] = {{hdr, 4}, {hdr + 4, 4}};
	struct homa_msg m;
	socklen_t dlen;
	uint64_t id;
	int len_got;

	(void)state;
	rt_up(NULL);
	s = rt_server(AF_INET, 0);
	assert_int_equal(homa_socket(AF_INET, 0, &c), 0);
	rt_loopback(s, &dst, &dlen);
	assert_int_equal(homa_sendv(c, two, 2, &dst.sa, dlen, &id, 1, HOMA_SEND_ZEROCOPY),
			 -EINVAL);
	rt_pattern(b, len, 9);
	assert_int_equal(homa_send(c, b, len, &dst.sa, dlen, &id, 9, HOMA_SEND_ZEROCOPY),
			 0);
	assert_true(wait_ready(s));
	memset(&m, 0, sizeof(m));
	assert_int_equal(take(s, &m), (int)len);
	assert_int_equal(
	    homa_reply_flags(s, hdr, 8, &m.peer.sa, m.peer_len, m.id, HOMA_SEND_ZEROCOPY),
	    -EINVAL);
	echo(s, &m, 0);
	assert_true(wait_ready(c));
	memset(&m, 0, sizeof(m));
	len_got = take(c, &m);
	assert_int_equal(m.id, id);
	check_response(c, &m, len_got, len);
	free(b);
	homa_close(c);
	homa_close(s);
	rt_down();
}

static void test_send_more_flag_errors(void **state)
{
	struct homa_socket *c;
	union homa_sockaddr dst;
	socklen_t dlen;
	uint8_t b[8] = {0};
	uint64_t id;

	(void)state;
	rt_up(NULL);
	assert_int_equal(homa_socket(AF_INET, 0, &c), 0);
	rt_loopback(c, &dst, &dlen);
	assert_int_equal(homa_send(c, b, 8, &dst.sa, dlen, &id, 0, 0x4), -EINVAL);
	assert_int_equal(homa_reply_flags(c, b, 8, &dst.sa, dlen, 1, 0x4), -EINVAL);
	assert_int_equal(homa_reply_flags(c, b, 8, &dst.sa, dlen, 1, HOMA_SEND_MORE),
			 -ENOENT);
	assert_int_equal(homa_flush(NULL), -EINVAL);
	assert_int_equal(homa_flush(c), 0);
	homa_close(c);
	rt_down();
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_held_reply_leaves_when_recv_finds_nothing),
    cmocka_unit_test(test_zerocopy_request_arrives_intact),
    cmocka_unit_test(test_burst_with_more_takes_few_system_calls),
    cmocka_unit_test(test_gro_stays_off_for_ping_pong_on_for_large),
    cmocka_unit_test(test_send_without_flag_sends_held_packets),
    cmocka_unit_test(test_close_sends_held_request),
    cmocka_unit_test(test_background_thread_sends_held_packets),
    cmocka_unit_test(test_mixed_sizes_with_more_arrive_intact),
    cmocka_unit_test(test_send_more_without_gso_sends_at_once),
    cmocka_unit_test(test_send_more_flag_errors),
};

HOMA_TEST_MAIN(tests)
