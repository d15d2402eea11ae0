/*
 * test_rt_doorbell.c - the doorbell (src/rt/homa_rt_doorbell.c): an eBPF
 * counter of the datagrams reaching a UDP socket, which lets a spinning
 * homa_recv() skip the reads that would find nothing.
 *
 * The kernel must let us load the program (root or CAP_BPF here, since
 * Debian keeps unprivileged BPF off); otherwise the tests that need a
 * doorbell are skipped with the reason printed, and the one that checks
 * the fallback still runs.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "homa_rt.h"
#include "homa_test.h"
#include "rt_helpers.h"

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static int has_bell(struct homa_socket *s)
{
	if (s->bell.counter)
		return 1;
	print_message("skipped: no doorbell here (loading an eBPF socket filter needs "
		      "root or CAP_BPF while unprivileged BPF is off)\n");
	return 0;
}

static uint64_t rings(struct homa_socket *s)
{
	return atomic_load(s->bell.counter);
}

/* n datagrams of junk from a plain UDP socket to port on 127.0.0.1. */
static void send_junk(uint16_t port, int n)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons(port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	for (int i = 0; i < n; i++)
		assert_int_equal(
		    sendto(fd, "junk", 4, 0, (struct sockaddr *)&a, sizeof(a)), 4);
	close(fd);
}

/* Polls (bounded to 10 s) until the counter reaches want; returns its value. */
static uint64_t await_rings(struct homa_socket *s, uint64_t want)
{
	uint64_t end = now_ns() + 10000000000ull, v;

	while ((v = rings(s)) < want && now_ns() < end)
		sched_yield();
	return v;
}

static uint64_t empty_reads(void)
{
	struct homa_rt_stats st;

	assert_int_equal(homa_get_stats(NULL, &st), 0);
	return st.rx_empty_reads;
}

/* Every datagram rings once, also on the fd a homa_bind() swaps in. */
static void test_counts_every_datagram_and_follows_bind(void **state)
{
	struct homa_rt_stats st;
	struct homa_socket *s;
	struct homa_msg msg;
	uint64_t base;
	int fd;

	(void)state;
	rt_up(NULL);
	assert_int_equal(homa_socket(AF_INET, 0, &s), 0);
	if (!has_bell(s)) {
		homa_close(s);
		rt_down();
		skip();
	}
	assert_int_equal(homa_get_stats(NULL, &st), 0);
	assert_int_equal(st.rx_doorbells, 1);

	base = rings(s);
	send_junk(homa_get_port(s), 3);
	assert_int_equal(await_rings(s, base + 3), base + 3);

	fd = s->fd;
	rt_bind_free(s);	     /* a new UDP socket on the server port... */
	assert_int_equal(s->fd, fd); /* ...under the same number (lock-free readers) */
	base = rings(s);
	send_junk(homa_get_port(s), 2);
	assert_int_equal(await_rings(s, base + 2), base + 2);
	assert_int_equal(atomic_load(&s->bell_off), 0);

	/* The junk is read and dropped like any malformed packet. */
	memset(&msg, 0, sizeof(msg));
	assert_int_equal(homa_recv(s, &msg, HOMA_RECV_NONBLOCK), -EAGAIN);
	homa_close(s);
	rt_down();
}

static void spin_long(struct homa_config *c)
{
	c->poll_usecs = 20000; /* spin through the whole wait below */
}

static void no_bell(struct homa_config *c)
{
	spin_long(c);
	c->use_doorbell = 0;
}

/*
 * A receiver spinning on a silent socket reads it only on its first turn
 * and then once per HOMA_RT_BELL_SAFETY_NS; without the doorbell it reads
 * on every turn.
 */
static void test_spinner_skips_empty_reads(void **state)
{
	uint64_t t0, ns, beats, reads;
	struct homa_socket *s;
	struct homa_msg msg;

	(void)state;
	rt_up(spin_long);
	assert_int_equal(homa_socket(AF_INET, 0, &s), 0);
	if (!has_bell(s)) {
		homa_close(s);
		rt_down();
		skip();
	}
	homa_set_recv_timeout(s, 1000); /* a first wait warms up (valgrind) */
	memset(&msg, 0, sizeof(msg));
	assert_int_equal(homa_recv(s, &msg, 0), -ETIMEDOUT);
	homa_set_recv_timeout(s, 5000); /* 5 ms */
	beats = atomic_load(&s->spin_beat);
	reads = empty_reads();
	t0 = now_ns();
	assert_int_equal(homa_recv(s, &msg, 0), -ETIMEDOUT);
	ns = now_ns() - t0;
	beats = atomic_load(&s->spin_beat) - beats;
	reads = empty_reads() - reads;
	print_message("doorbell: %llu turns, %llu empty reads in %llu us\n",
		      (unsigned long long)beats, (unsigned long long)reads,
		      (unsigned long long)(ns / 1000));
	/* At most the first turn's read and one per 20 us after it (turns
	 * are fewer under valgrind, but never more reads than that). */
	assert_true(reads >= 1);
	assert_true(reads <= ns / 20000 + 2);
	assert_true(reads <= beats);
	homa_close(s);
	rt_down();

	/* The same wait without a doorbell: one read per turn. */
	rt_up(no_bell);
	assert_int_equal(homa_socket(AF_INET, 0, &s), 0);
	assert_null(s->bell.counter);
	homa_set_recv_timeout(s, 5000);
	beats = atomic_load(&s->spin_beat);
	reads = empty_reads();
	assert_int_equal(homa_recv(s, &msg, 0), -ETIMEDOUT);
	beats = atomic_load(&s->spin_beat) - beats;
	reads = empty_reads() - reads;
	print_message("no doorbell: %llu turns, %llu empty reads\n",
		      (unsigned long long)beats, (unsigned long long)reads);
	assert_int_equal(reads, beats);
	homa_close(s);
	rt_down();
}

/* With use_doorbell 0 no socket gets one, and RPCs work as ever. */
static void test_off_by_config(void **state)
{
	union homa_sockaddr dst;
	struct homa_rt_stats st;
	struct homa_socket *c;
	struct rt_echo e;
	socklen_t dlen;

	(void)state;
	rt_up(no_bell);
	rt_echo_start(&e, AF_INET, 0, 1);
	rt_loopback(e.s, &dst, &dlen);
	assert_int_equal(homa_socket(AF_INET, 0, &c), 0);
	homa_set_recv_timeout(c, 30000000);
	for (int i = 0; i < 20; i++)
		assert_int_equal(rt_round_trip(c, &dst, dlen, 100, (uint32_t)i), 0);
	assert_int_equal(homa_get_stats(NULL, &st), 0);
	assert_int_equal(st.rx_doorbells, 0);
	homa_close(c);
	rt_echo_stop(&e);
	rt_down();
}

/*
 * Spinning clients and servers with doorbells: small and large messages
 * (the large ones turn UDP_GRO on, so a ring may stand for a coalesced
 * batch) all complete intact.
 */
static void test_round_trips_with_doorbells(void **state)
{
	static const size_t sizes[] = {1, 100, 1400, 64 * 1024 + 1, 1000000, 100};
	union homa_sockaddr dst;
	struct homa_rt_stats st;
	struct homa_socket *c;
	struct rt_echo e;
	socklen_t dlen;

	(void)state;
	rt_up(NULL);
	rt_echo_start(&e, AF_INET, 0, 2);
	if (!has_bell(e.s)) {
		rt_echo_stop(&e);
		rt_down();
		skip();
	}
	rt_loopback(e.s, &dst, &dlen);
	assert_int_equal(homa_socket(AF_INET, 0, &c), 0);
	homa_set_recv_timeout(c, 30000000);
	for (int i = 0; i < 200; i++)
		assert_int_equal(rt_round_trip(c, &dst, dlen, sizes[i % 6], (uint32_t)i),
				 0);
	assert_int_equal(homa_get_stats(NULL, &st), 0);
	assert_int_equal(st.rx_doorbells, 2);
	homa_close(c);
	rt_echo_stop(&e);
	rt_down();
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_counts_every_datagram_and_follows_bind),
    cmocka_unit_test(test_spinner_skips_empty_reads),
    cmocka_unit_test(test_off_by_config),
    cmocka_unit_test(test_round_trips_with_doorbells),
};

HOMA_TEST_MAIN(tests)
