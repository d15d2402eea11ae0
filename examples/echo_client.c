/*
 * echo_client.c - a complete libhoma client: sends requests to echo_server,
 * checks every echoed byte and prints round-trip times. See docs/api.md.
 *
 *     echo_client [-6] [-r] [-p port] [-n count] [-s bytes] [host]
 *
 * host defaults to 127.0.0.1 (::1 with -6); -n is the number of requests
 * (default 1000), -s the message size (default 100, up to 1000000).
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "homa/homa.h"

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int parse_host(const char *host, int family, int port, union homa_sockaddr *a)
{
	memset(a, 0, sizeof(*a));
	a->sa.sa_family = (sa_family_t)family;
	if (family == AF_INET) {
		a->in4.sin_port = htons((uint16_t)port);
		return inet_pton(AF_INET, host, &a->in4.sin_addr) == 1 ? 0 : -1;
	}
	a->in6.sin6_port = htons((uint16_t)port);
	return inet_pton(AF_INET6, host, &a->in6.sin6_addr) == 1 ? 0 : -1;
}

/* One round trip; returns 0 if the echo matched the request. */
static int round_trip(struct homa_socket *s, const union homa_sockaddr *server,
		      const char *req, char *resp, size_t size, struct homa_msg *msg)
{
	uint64_t id;
	int len, err;

	err = homa_send(s, req, size, &server->sa, sizeof(*server), &id, 42, 0);
	if (err)
		return fprintf(stderr, "homa_send: %s\n", homa_error_msg(s)), -1;
	msg->id = 0; /* any response; num_bpages hands the previous one's back */
	len = homa_recv(s, msg, 0);
	if (len < 0)
		return fprintf(stderr, "homa_recv: %s\n", homa_error_msg(s)), -1;
	if (msg->id != id || msg->completion_cookie != 42 || (size_t)len != size)
		return fprintf(stderr, "unexpected response\n"), -1;
	homa_msg_copy(s, msg, 0, resp, size);
	return memcmp(req, resp, size) ? (fprintf(stderr, "bytes differ\n"), -1) : 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int family = AF_INET, flags = 0, port = 4000, count = 1000, opt, err = 0;
	size_t size = 100;
	union homa_sockaddr server;
	struct homa_socket *s;
	struct homa_msg msg;
	double *rtt;
	char *req, *resp;

	while ((opt = getopt(argc, argv, "6rp:n:s:")) != -1) {
		if (opt == '6')
			family = AF_INET6;
		else if (opt == 'r')
			flags |= HOMA_SOCK_RAW;
		else if (opt == 'p')
			port = atoi(optarg);
		else if (opt == 'n')
			count = atoi(optarg);
		else if (opt == 's')
			size = (size_t)atol(optarg);
		else
			return fprintf(stderr,
				       "usage: see the comment in echo_client.c\n"),
			       2;
	}
	if (count < 1 || size < 1 || size > HOMA_MAX_MESSAGE_LENGTH)
		return fprintf(stderr, "bad -n or -s\n"), 2;
	if (parse_host(optind < argc ? argv[optind]
				     : (family == AF_INET ? "127.0.0.1" : "::1"),
		       family, port, &server))
		return fprintf(stderr, "bad host address\n"), 2;
	err = homa_socket(family, flags, &s);
	if (err)
		return fprintf(stderr, "homa_socket: %s\n", homa_strerror(err)), 1;
	homa_set_recv_timeout(s, 5000000); /* a dead server fails the run in 5 s */
	req = malloc(size);
	resp = malloc(size);
	rtt = calloc((size_t)count, sizeof(*rtt));
	for (size_t i = 0; i < size; i++)
		req[i] = (char)(i * 7 + 3);
	memset(&msg, 0, sizeof(msg));
	for (int i = 0; i < count && !err; i++) {
		double t0 = now_us();

		err = round_trip(s, &server, req, resp, size, &msg);
		rtt[i] = now_us() - t0;
	}
	if (!err) {
		qsort(rtt, (size_t)count, sizeof(*rtt), cmp_double);
		printf("%d echoes of %zu bytes: rtt p50 %.1f us, p99 %.1f us\n", count,
		       size, rtt[count / 2], rtt[count * 99 / 100]);
	}
	homa_close(s);
	free(req);
	free(resp);
	free(rtt);
	return err ? 1 : 0;
}
