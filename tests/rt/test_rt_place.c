/*
 * test_rt_place.c - large DATA payloads received straight into the receive
 * region (homa_rt_carrier.c, "placement") over real loopback sockets: the
 * bytes arrive exact, the placement counter shows the path was taken, and
 * loss and duplicated datagrams change neither. Placement is off by default
 * (homa_config.rx_place); these tests turn it on.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "homa_test.h"
#include "rt_helpers.h"

static const size_t sizes[] = {1000000, 65537, 65536 + 40000, 300000, 1000000};

static void placement(struct homa_config *c)
{
	c->rx_place = 1;
}

static void echo_sizes(struct homa_socket *c, const union homa_sockaddr *dst,
		       socklen_t dlen, int rounds)
{
	for (int r = 0; r < rounds; r++)
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
			assert_int_equal(rt_round_trip(c, dst, dlen, sizes[i],
						       (uint32_t)(r * 16 + i + 1)),
					 0);
}

static void print_stats(const struct homa_rt_stats *st)
{
	print_message(
	    "rx_packets %llu placed %llu misses %llu drop_recv %llu\n",
	    (unsigned long long)st->rx_packets, (unsigned long long)st->rx_placed,
	    (unsigned long long)st->rx_place_miss, (unsigned long long)st->drop_recv);
}

/* Requests and echoed responses (both directions) of 64 KiB+1 .. 1 MB. */
static void test_large_messages_placed_byte_exact(void **state)
{
	struct homa_rt_stats st;
	struct homa_socket *c;
	union homa_sockaddr dst;
	struct rt_echo e;
	socklen_t dlen;

	(void)state;
	rt_up(placement);
	rt_echo_start(&e, AF_INET, 0, 1);
	assert_int_equal(homa_socket(AF_INET, 0, &c), 0);
	homa_set_recv_timeout(c, 20000000);
	rt_loopback(e.s, &dst, &dlen);
	echo_sizes(c, &dst, dlen, 2);
	assert_int_equal(homa_get_stats(NULL, &st), 0);
	print_stats(&st);
	/* 1 MB in ~64 KB packets: all but the first packet of a message can
	 * be placed; most are, unless other readers steal the race. */
	assert_true(st.rx_placed > 0);
	assert_true(st.rx_placed <= st.rx_packets);
	homa_close(c);
	rt_echo_stop(&e);
	rt_down();
}

static void test_placement_off_by_default(void **state)
{
	struct homa_rt_stats st;
	struct homa_socket *c;
	union homa_sockaddr dst;
	struct rt_echo e;
	socklen_t dlen;

	(void)state;
	rt_up(NULL);
	rt_echo_start(&e, AF_INET, 0, 1);
	assert_int_equal(homa_socket(AF_INET, 0, &c), 0);
	homa_set_recv_timeout(c, 20000000);
	rt_loopback(e.s, &dst, &dlen);
	echo_sizes(c, &dst, dlen, 1);
	assert_int_equal(homa_get_stats(NULL, &st), 0);
	assert_int_equal(st.rx_placed, 0);
	assert_int_equal(st.rx_place_miss, 0);
	homa_close(c);
	rt_echo_stop(&e);
	rt_down();
}

static void lossy(struct homa_config *c)
{
	placement(c);
	c->drop_send = 0.03;
	c->drop_recv = 0.05;
	c->drop_seed = 7;
	c->settings.resend_ticks = 2;
	c->settings.resend_interval = 2;
}

/* Placed packets dropped after their bytes were written: resent, exact. */
static void test_placement_with_injected_loss_stays_exact(void **state)
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
	homa_set_recv_timeout(c, 30000000);
	rt_loopback(e.s, &dst, &dlen);
	echo_sizes(c, &dst, dlen, 2);
	assert_int_equal(homa_get_stats(NULL, &st), 0);
	print_stats(&st);
	assert_true(st.rx_placed > 0);
	assert_true(st.drop_recv > 0);
	homa_close(c);
	rt_echo_stop(&e);
	rt_down();
}

/* ------------------------------------------------------------ duplication */

/*
 * A relay between client and server that sends every datagram twice: at once
 * and again after the next one in the same direction (a late duplicate). It
 * is a NAT for Homa ports: the client talks to socket a (port pa) as if it
 * were the server; the relay rewrites the Homa ports (bytes 0-3) so that the
 * server sees a client at socket b (port pb), and back.
 */
struct relay_dir {
	uint8_t *prev;
	ssize_t prev_len;
};

struct relay {
	int a, b;
	uint16_t pa, pb, server_port, client_port;
	atomic_int stop;
	pthread_t thread;
	uint64_t forwarded;
	struct relay_dir dir[2];
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void relay_send(int fd, uint16_t port, const uint8_t *p, size_t n)
{
	struct sockaddr_in to = {.sin_family = AF_INET,
				 .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};

	sendto(fd, p, n, 0, (struct sockaddr *)&to, sizeof(to));
}

/* One datagram from side `from` (0: client at a, 1: server at b). */
static void relay_one(struct relay *r, int from, uint8_t *p, ssize_t n)
{
	struct relay_dir *d = &r->dir[from];
	int out = from == 0 ? r->b : r->a;
	uint16_t dport;

	if (n < 28)
		return;
	if (from == 0) {
		r->client_port = (uint16_t)(p[0] << 8 | p[1]);
		put16(p, r->pb);
		put16(p + 2, r->server_port);
		dport = r->server_port;
	} else {
		put16(p, r->pa);
		put16(p + 2, r->client_port);
		dport = r->client_port;
	}
	relay_send(out, dport, p, (size_t)n);
	if (d->prev_len)
		relay_send(out, dport, d->prev, (size_t)d->prev_len);
	memcpy(d->prev, p, (size_t)n);
	d->prev_len = n;
	r->forwarded++;
}

static void *relay_main(void *arg)
{
	struct relay *r = arg;
	uint8_t *buf = malloc(65536);

	while (!atomic_load(&r->stop)) {
		struct pollfd fds[2] = {{r->a, POLLIN, 0}, {r->b, POLLIN, 0}};

		if (poll(fds, 2, 20) <= 0) /* the timeout only bounds the stop check */
			continue;
		for (int i = 0; i < 2; i++) {
			ssize_t n;

			if (!(fds[i].revents & POLLIN))
				continue;
			n = recv(fds[i].fd, buf, 65536, MSG_DONTWAIT);
			if (n > 0)
				relay_one(r, i, buf, n);
		}
	}
	free(buf);
	return NULL;
}

/* A UDP socket on loopback with a port below 32768, like a Homa server's. */
static int relay_socket(uint16_t *port, int salt)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0), sz = 16 << 20, err = -1;

	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	for (int i = 0; i < 200 && err; i++) {
		struct sockaddr_in a = {.sin_family = AF_INET,
					.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};

		*port = (uint16_t)(10000 + (getpid() * 257 + i * 1231 + salt) % 20000);
		a.sin_port = htons(*port);
		err = bind(fd, (struct sockaddr *)&a, sizeof(a));
	}
	assert_int_equal(err, 0);
	return fd;
}

static void relay_start(struct relay *r, uint16_t server_port)
{
	memset(r, 0, sizeof(*r));
	r->server_port = server_port;
	r->a = relay_socket(&r->pa, 1);
	r->b = relay_socket(&r->pb, 7919);
	for (int i = 0; i < 2; i++)
		r->dir[i].prev = malloc(65536);
	assert_int_equal(pthread_create(&r->thread, NULL, relay_main, r), 0);
}

static void relay_stop(struct relay *r)
{
	atomic_store(&r->stop, 1);
	pthread_join(r->thread, NULL);
	close(r->a);
	close(r->b);
	for (int i = 0; i < 2; i++)
		free(r->dir[i].prev);
}

static void test_duplicated_datagrams_stay_exact(void **state)
{
	struct homa_rt_stats st;
	struct homa_stats es;
	struct homa_socket *c;
	union homa_sockaddr dst, via;
	struct rt_echo e;
	struct relay r;
	socklen_t dlen;

	(void)state;
	rt_up(placement);
	rt_echo_start(&e, AF_INET, 0, 1);
	rt_loopback(e.s, &dst, &dlen);
	relay_start(&r, ntohs(dst.in4.sin_port));
	via = dst;
	via.in4.sin_port = htons(r.pa);
	assert_int_equal(homa_socket(AF_INET, 0, &c), 0);
	homa_set_recv_timeout(c, 30000000);
	echo_sizes(c, &via, dlen, 2);
	relay_stop(&r);
	assert_int_equal(homa_get_stats(&es, &st), 0);
	print_stats(&st);
	print_message("relayed %llu, duplicate DATA dropped %llu\n",
		      (unsigned long long)r.forwarded,
		      (unsigned long long)es.drop_duplicate_data);
	assert_true(r.forwarded > 0);
	assert_true(es.drop_duplicate_data > 0);
	assert_true(st.rx_placed > 0);
	homa_close(c);
	rt_echo_stop(&e);
	rt_down();
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_large_messages_placed_byte_exact),
    cmocka_unit_test(test_placement_off_by_default),
    cmocka_unit_test(test_placement_with_injected_loss_stays_exact),
    cmocka_unit_test(test_duplicated_datagrams_stay_exact),
};

HOMA_TEST_MAIN(tests)
