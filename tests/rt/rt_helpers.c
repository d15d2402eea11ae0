#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "homa_test.h"
#include "rt_helpers.h"

void rt_up(void (*tweak)(struct homa_config *c))
{
	struct homa_config c;

	assert_int_equal(homa_config_default(&c), 0);
	c.settings.timeout_ticks = 2000; /* a busy shared machine is not a dead peer */
	if (tweak)
		tweak(&c);
	assert_int_equal(homa_init(&c), 0);
}

void rt_down(void)
{
	assert_int_equal(homa_fini(), 0);
}

void rt_loopback(const struct homa_socket *s, union homa_sockaddr *a, socklen_t *len)
{
	memset(a, 0, sizeof(*a));
	if (homa_get_family(s) == AF_INET) {
		a->in4.sin_family = AF_INET;
		a->in4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		a->in4.sin_port = htons(homa_get_port(s));
		*len = sizeof(a->in4);
	} else {
		a->in6.sin6_family = AF_INET6;
		a->in6.sin6_addr = in6addr_loopback;
		a->in6.sin6_port = htons(homa_get_port(s));
		*len = sizeof(a->in6);
	}
}

struct homa_socket *rt_server(int family, int flags)
{
	struct homa_socket *s;

	assert_int_equal(homa_socket(family, flags, &s), 0);
	rt_bind_free(s);
	return s;
}

void rt_bind_free(struct homa_socket *s)
{
	union homa_sockaddr a;
	socklen_t len;
	int err = -EADDRINUSE;

	/* Tests run in parallel with other users of the machine: probe ports. */
	for (int i = 0; i < 200 && err == -EADDRINUSE; i++) {
		uint16_t port =
		    htons((uint16_t)(10000 + (getpid() * 131 + i * 977) % 20000));

		rt_loopback(s, &a, &len);
		if (a.sa.sa_family == AF_INET)
			a.in4.sin_port = port;
		else
			a.in6.sin6_port = port;
		err = homa_bind(s, &a.sa, len);
	}
	assert_int_equal(err, 0);
}

void rt_pattern(void *buf, size_t len, uint32_t seed)
{
	uint8_t *p = buf;
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (uint8_t)(x >> 16);
	}
}

int rt_pattern_ok(const void *buf, size_t len, uint32_t seed)
{
	uint8_t *want = malloc(len ? len : 1);
	int ok;

	rt_pattern(want, len, seed);
	ok = memcmp(want, buf, len) == 0;
	free(want);
	return ok;
}

static void *echo_main(void *arg)
{
	struct rt_echo *e = arg;
	struct homa_msg msg;
	struct iovec iov[HOMA_MAX_BPAGES];

	memset(&msg, 0, sizeof(msg));
	for (;;) {
		int len;

		msg.id = 0;
		len = homa_recv(e->s, &msg, 0);
		if (len == -ESHUTDOWN)
			break;
		if (len < 0)
			continue;
		for (uint32_t i = 0; i < msg.num_bpages; i++)
			iov[i].iov_base = homa_msg_data(e->s, &msg, i, &iov[i].iov_len);
		homa_replyv(e->s, iov, (int)msg.num_bpages, &msg.peer.sa, msg.peer_len,
			    msg.id);
	}
	return NULL;
}

void rt_echo_start(struct rt_echo *e, int family, int flags, int nthreads)
{
	e->s = rt_server(family, flags);
	e->nthreads = nthreads;
	for (int i = 0; i < nthreads; i++)
		assert_int_equal(pthread_create(&e->threads[i], NULL, echo_main, e), 0);
}

void rt_echo_stop(struct rt_echo *e)
{
	homa_shutdown(e->s);
	for (int i = 0; i < e->nthreads; i++)
		pthread_join(e->threads[i], NULL);
	homa_close(e->s);
}

int rt_round_trip(struct homa_socket *c, const union homa_sockaddr *dst, socklen_t dlen,
		  size_t len, uint32_t seed)
{
	uint8_t *req = malloc(len), *resp = malloc(len);
	struct homa_msg msg;
	uint64_t id = 0;
	int r, ok;

	rt_pattern(req, len, seed);
	r = homa_send(c, req, len, &dst->sa, dlen, &id, seed, 0);
	if (r) {
		print_message("homa_send: %s\n", homa_error_msg(c));
		free(req);
		free(resp);
		return r;
	}
	memset(&msg, 0, sizeof(msg));
	r = homa_recv(c, &msg, 0);
	ok = r == (int)len && msg.id == id && msg.completion_cookie == seed &&
	     homa_msg_copy(c, &msg, 0, resp, len) == len &&
	     rt_pattern_ok(resp, len, seed);
	if (!ok)
		print_message("round trip of %zu: r %d (%s) id %llu/%llu\n", len, r,
			      homa_error_msg(c), (unsigned long long)msg.id,
			      (unsigned long long)id);
	if (r > 0)
		homa_release_bpages(c, msg.bpage_offsets, msg.num_bpages);
	free(req);
	free(resp);
	return ok ? 0 : -1;
}

int rt_can_raw(void)
{
	int fd = socket(AF_INET, SOCK_RAW, HOMA_IPPROTO);

	if (fd < 0) {
		print_message(
		    "SKIP: raw sockets unavailable (%s): need root/CAP_NET_RAW\n",
		    strerror(errno));
		return 0;
	}
	close(fd);
	return 1;
}

int rt_can_ipv6(void)
{
	struct sockaddr_in6 a = {.sin6_family = AF_INET6,
				 .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	int fd = socket(AF_INET6, SOCK_DGRAM, 0), ok;

	ok = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (!ok)
		print_message("SKIP: IPv6 loopback unavailable (%s)\n", strerror(errno));
	if (fd >= 0)
		close(fd);
	return ok;
}
