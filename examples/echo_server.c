/*
 * echo_server.c - a complete libhoma server: answers every request with its
 * own bytes. Walked through in docs/api.md.
 *
 *     echo_server [-6] [-r] [-p port]
 *
 * -6 serves IPv6 (and IPv4 through v4-mapped addresses), -r uses the raw IP
 * carrier (protocol 146, needs root), -p sets the port (default 4000).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "homa/homa.h"

static struct homa_socket *server;

/* Ctrl-C: shutting the socket down makes the blocked homa_recv() return. */
static void on_signal(int sig)
{
	(void)sig;
	homa_shutdown(server);
}

/* Replies with the request's bytes straight from its bpages: no copy. */
static int echo(struct homa_socket *s, const struct homa_msg *msg)
{
	struct iovec iov[HOMA_MAX_BPAGES];

	for (uint32_t i = 0; i < msg->num_bpages; i++)
		iov[i].iov_base = homa_msg_data(s, msg, i, &iov[i].iov_len);
	return homa_replyv(s, iov, (int)msg->num_bpages, &msg->peer.sa, msg->peer_len,
			   msg->id);
}

static int serve(struct homa_socket *s)
{
	struct homa_msg msg;
	long served = 0;

	memset(&msg, 0, sizeof(msg));
	for (;;) {
		msg.id = 0; /* any request; msg.num_bpages hands the last one's back */
		int len = homa_recv(s, &msg, 0);

		if (len == -ESHUTDOWN)
			break;
		if (len < 0) {
			fprintf(stderr, "homa_recv: %s\n", homa_error_msg(s));
			continue;
		}
		if (echo(s, &msg) < 0)
			fprintf(stderr, "homa_reply: %s\n", homa_error_msg(s));
		served++;
	}
	printf("served %ld requests\n", served);
	return 0;
}

int main(int argc, char **argv)
{
	union homa_sockaddr addr;
	int family = AF_INET, flags = 0, port = 4000, opt, err;

	while ((opt = getopt(argc, argv, "6rp:")) != -1) {
		if (opt == '6')
			family = AF_INET6;
		else if (opt == 'r')
			flags |= HOMA_SOCK_RAW;
		else if (opt == 'p')
			port = atoi(optarg);
		else
			return fprintf(stderr, "usage: %s [-6] [-r] [-p port]\n",
				       argv[0]),
			       2;
	}
	err = homa_socket(family, flags, &server);
	if (err)
		return fprintf(stderr, "homa_socket: %s\n", homa_strerror(err)), 1;
	memset(&addr, 0, sizeof(addr));
	addr.sa.sa_family = (sa_family_t)family;
	if (family == AF_INET)
		addr.in4.sin_port = htons((uint16_t)port);
	else
		addr.in6.sin6_port = htons((uint16_t)port);
	err = homa_bind(server, &addr.sa, sizeof(addr));
	if (err)
		return fprintf(stderr, "homa_bind: %s\n", homa_error_msg(server)), 1;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("echo server on port %d\n", port);
	fflush(stdout);
	serve(server);
	homa_close(server);
	return 0;
}
