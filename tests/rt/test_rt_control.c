/*
 * test_rt_control.c - libhoma's control paths on real loopback sockets:
 * non-blocking and epoll readiness, shutdown waking waiters, aborts, socket
 * information, receive-region exhaustion and recovery, refused requests, and
 * the error codes (with messages) of misuse.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "homa_test.h"
#include "rt_helpers.h"

/* A client socket, and a server socket that nobody reads: requests sit. */
struct pair {
	struct homa_socket *c, *s;
	union homa_sockaddr dst;
	socklen_t dlen;
};

static void pair_open(struct pair *p)
{
	p->s = rt_server(AF_INET, 0);
	assert_int_equal(homa_socket(AF_INET, 0, &p->c), 0);
	homa_set_recv_timeout(p->c, 10000000);
	homa_set_recv_timeout(p->s, 10000000);
	rt_loopback(p->s, &p->dst, &p->dlen);
}

static void pair_close(struct pair *p)
{
	homa_close(p->c);
	homa_close(p->s);
}

static uint64_t send_small(struct pair *p, uint64_t cookie)
{
	uint64_t id = 0;

	assert_int_equal(homa_send(p->c, "hello", 5, &p->dst.sa, p->dlen, &id, cookie, 0),
			 0);
	assert_true(id != 0 && (id & 1) == 0);
	return id;
}

/* ------------------------------------------------------------ readiness */

static void test_nonblocking_recv_returns_eagain(void **state)
{
	struct homa_socket *s;
	struct homa_msg msg;

	(void)state;
	rt_up(NULL);
	assert_int_equal(homa_socket(AF_INET, 0, &s), 0);
	memset(&msg, 0, sizeof(msg));
	assert_int_equal(homa_recv(s, &msg, HOMA_RECV_NONBLOCK), -EAGAIN);
	assert_int_equal(homa_set_nonblocking(s, 1), 0);
	assert_int_equal(homa_recv(s, &msg, 0), -EAGAIN);
	assert_true(msg.id == 0);
	homa_close(s);

	assert_int_equal(homa_socket(AF_INET, HOMA_SOCK_NONBLOCK, &s), 0);
	assert_int_equal(homa_recv(s, &msg, 0), -EAGAIN);
	homa_close(s);
	rt_down();
}

static void test_epoll_fd_readable_exactly_while_message_ready(void **state)
{
	struct epoll_event ev = {.events = EPOLLIN};
	struct homa_msg msg;
	struct pair p;
	uint64_t id;
	int ep;

	(void)state;
	rt_up(NULL);
	pair_open(&p);
	ep = epoll_create1(0);
	assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, homa_fd(p.s), &ev), 0);
	assert_int_equal(epoll_wait(ep, &ev, 1, 0), 0);

	/* Nobody is inside the library: the background thread must read it. */
	id = send_small(&p, 9);
	assert_int_equal(epoll_wait(ep, &ev, 1, 10000), 1);
	memset(&msg, 0, sizeof(msg));
	assert_int_equal(homa_recv(p.s, &msg, HOMA_RECV_NONBLOCK), 5);
	assert_true(msg.id == (id | 1));
	assert_int_equal(epoll_wait(ep, &ev, 1, 0), 0);

	/* Shutdown makes it readable too, so epoll loops notice. */
	homa_shutdown(p.s);
	assert_int_equal(epoll_wait(ep, &ev, 1, 0), 1);
	close(ep);
	pair_close(&p);
	rt_down();
}

/* ------------------------------------------------------------ shutdown */

static void no_polling(struct homa_config *c)
{
	c->poll_usecs = 0; /* waiters go to sleep at once */
}

struct waiter {
	struct homa_socket *s;
	int result;
};

static void *wait_main(void *arg)
{
	struct waiter *w = arg;
	struct homa_msg msg;

	memset(&msg, 0, sizeof(msg));
	w->result = homa_recv(w->s, &msg, 0);
	return NULL;
}

static void test_shutdown_wakes_sleeping_receiver_with_eshutdown(void **state)
{
	struct homa_rt_stats st = {0};
	struct waiter w = {.result = 1};
	struct homa_msg msg;
	pthread_t t;

	(void)state;
	rt_up(no_polling);
	assert_int_equal(homa_socket(AF_INET, 0, &w.s), 0);
	homa_set_recv_timeout(w.s, 20000000); /* fails, not hangs, if never woken */
	assert_int_equal(pthread_create(&t, NULL, wait_main, &w), 0);
	/* Bounded wait until the receiver is asleep in the kernel. */
	for (long i = 0; i < 100000000 && st.sleeps == 0; i++) {
		homa_get_stats(NULL, &st);
		sched_yield();
	}
	assert_true(st.sleeps > 0);
	assert_int_equal(homa_shutdown(w.s), 0);
	pthread_join(t, NULL);
	assert_int_equal(w.result, -ESHUTDOWN);
	memset(&msg, 0, sizeof(msg));
	assert_int_equal(homa_recv(w.s, &msg, 0), -ESHUTDOWN);
	assert_int_equal(homa_send(w.s, "x", 1, NULL, 0, NULL, 0, 0), -EINVAL);
	homa_close(w.s);
	rt_down();
}

/* ------------------------------------------------------------ send memory */

static void small_send_memory(struct homa_config *c)
{
	c->settings.wmem_max = 1500000; /* one 1 MB request at a time */
}

struct collector {
	struct homa_socket *c;
	int want, got;
};

/* Receives responses, ending RPCs and so freeing their send memory. */
static void *collect_main(void *arg)
{
	struct collector *x = arg;
	struct homa_msg msg;

	memset(&msg, 0, sizeof(msg));
	while (x->got < x->want) {
		msg.id = 0;
		if (homa_recv(x->c, &msg, 0) < 0)
			break;
		x->got++;
	}
	homa_release_bpages(x->c, msg.bpage_offsets, msg.num_bpages);
	return NULL;
}

static void test_full_send_memory_eagain_nonblocking_waits_blocking(void **state)
{
	uint8_t *big = calloc(1, HOMA_MAX_MESSAGE_LENGTH);
	struct collector x = {.want = 2};
	struct rt_echo e;
	struct homa_socket *c;
	union homa_sockaddr dst;
	socklen_t dlen;
	pthread_t t;

	(void)state;
	rt_up(small_send_memory);
	rt_echo_start(&e, AF_INET, 0, 1);
	assert_int_equal(homa_socket(AF_INET, HOMA_SOCK_NONBLOCK, &c), 0);
	homa_set_recv_timeout(c, 10000000);
	rt_loopback(e.s, &dst, &dlen);
	assert_int_equal(
	    homa_send(c, big, HOMA_MAX_MESSAGE_LENGTH, &dst.sa, dlen, NULL, 0, 0), 0);
	assert_int_equal(
	    homa_send(c, big, HOMA_MAX_MESSAGE_LENGTH, &dst.sa, dlen, NULL, 0, 0),
	    -EAGAIN);

	/* Blocking: the send waits until the first RPC ends, then goes. */
	homa_set_nonblocking(c, 0);
	x.c = c;
	assert_int_equal(pthread_create(&t, NULL, collect_main, &x), 0);
	assert_int_equal(
	    homa_send(c, big, HOMA_MAX_MESSAGE_LENGTH, &dst.sa, dlen, NULL, 0, 0), 0);
	pthread_join(t, NULL);
	assert_int_equal(x.got, 2);
	homa_close(c);
	rt_echo_stop(&e);
	free(big);
	rt_down();
}

/* Several receivers, spinning or asleep, all return -ESHUTDOWN. */
static void test_shutdown_wakes_every_receiver(void **state)
{
	struct waiter w[4];
	pthread_t t[4];
	struct homa_socket *s;

	(void)state;
	rt_up(NULL);
	assert_int_equal(homa_socket(AF_INET, 0, &s), 0);
	homa_set_recv_timeout(s, 20000000);
	for (int i = 0; i < 4; i++) {
		w[i] = (struct waiter){.s = s, .result = 1};
		assert_int_equal(pthread_create(&t[i], NULL, wait_main, &w[i]), 0);
	}
	assert_int_equal(homa_shutdown(s), 0);
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].result, -ESHUTDOWN);
	}
	homa_close(s);
	rt_down();
}

/* ------------------------------------------------------------ abort */

static void test_abort_without_error_makes_rpc_vanish(void **state)
{
	struct homa_sock_info info;
	struct homa_msg msg;
	struct pair p;
	size_t count = 9;
	uint64_t id;

	(void)state;
	rt_up(NULL);
	pair_open(&p);
	id = send_small(&p, 1);
	assert_int_equal(homa_info(p.c, &info, NULL, 0, &count), 0);
	assert_int_equal(count, 1);
	assert_int_equal(homa_abort(p.c, id, 0), 0);
	assert_int_equal(homa_info(p.c, &info, NULL, 0, &count), 0);
	assert_int_equal(count, 0);
	memset(&msg, 0, sizeof(msg));
	assert_int_equal(homa_recv(p.c, &msg, HOMA_RECV_NONBLOCK), -EAGAIN);
	/* Aborting it again names no RPC. */
	assert_int_equal(homa_abort(p.c, id, 0), -EINVAL);
	assert_true(strlen(homa_error_msg(p.c)) > 0);
	pair_close(&p);
	rt_down();
}

static void test_abort_with_error_completes_each_rpc_with_it(void **state)
{
	struct homa_msg msg;
	struct pair p;
	uint64_t a, b, seen = 0;

	(void)state;
	rt_up(NULL);
	pair_open(&p);
	a = send_small(&p, 11);
	b = send_small(&p, 12);
	assert_int_equal(homa_abort(p.c, a, ECANCELED), 0);
	memset(&msg, 0, sizeof(msg));
	assert_int_equal(homa_recv(p.c, &msg, 0), -ECANCELED);
	assert_true(msg.id == a && msg.completion_cookie == 11);

	/* id 0 aborts every client RPC of the socket. */
	assert_int_equal(homa_abort(p.c, 0, ETIMEDOUT), 0);
	msg.id = 0;
	assert_int_equal(homa_recv(p.c, &msg, 0), -ETIMEDOUT);
	seen = msg.id;
	assert_true(seen == b && msg.completion_cookie == 12);
	msg.id = 0;
	assert_int_equal(homa_recv(p.c, &msg, HOMA_RECV_NONBLOCK), -EAGAIN);
	pair_close(&p);
	rt_down();
}

static void test_info_lists_live_rpcs(void **state)
{
	struct homa_rpc_info rpcs[4];
	struct homa_sock_info info;
	struct pair p;
	size_t count = 0;
	uint64_t id;

	(void)state;
	rt_up(NULL);
	pair_open(&p);
	id = send_small(&p, 77);
	assert_int_equal(homa_info(p.c, &info, rpcs, 4, &count), 0);
	assert_int_equal(count, 1);
	assert_true(rpcs[0].id == id);
	assert_true(rpcs[0].completion_cookie == 77);
	assert_int_equal(rpcs[0].tx_length, 5);
	assert_int_equal(info.port, homa_get_port(p.c));
	assert_true(info.bpool_avail_bytes > 0);
	pair_close(&p);
	rt_down();
}

/* ------------------------------------------------------------ buffer pool */

#define SMALL_REGION ((size_t)(HOMA_MAX_BPAGES + 1) * HOMA_BPAGE_SIZE)

static void test_exhausted_region_reports_enobufs_then_recovers(void **state)
{
	struct homa_socket *s, *c;
	union homa_sockaddr dst;
	struct homa_msg first, second;
	uint8_t *big = malloc(HOMA_MAX_MESSAGE_LENGTH),
		*got = malloc(HOMA_MAX_MESSAGE_LENGTH);
	void *region;
	socklen_t dlen;
	uint64_t id;
	uint32_t first_seed;
	int r = -ETIMEDOUT;

	(void)state;
	rt_up(NULL);
	/* Room for one 1 MB message only. */
	region = mmap(NULL, SMALL_REGION, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(region != MAP_FAILED);
	assert_int_equal(homa_socket(AF_INET, 0, &s), 0);
	assert_int_equal(homa_set_rcvbuf(s, region, SMALL_REGION), 0);
	assert_int_equal(homa_set_rcvbuf(s, region, SMALL_REGION), -EINVAL);
	rt_bind_free(s);
	homa_set_recv_timeout(s, 10000000);
	assert_int_equal(homa_socket(AF_INET, 0, &c), 0);
	rt_loopback(s, &dst, &dlen);
	for (uint32_t seed = 1; seed <= 2; seed++) {
		rt_pattern(big, HOMA_MAX_MESSAGE_LENGTH, seed);
		assert_int_equal(homa_send(c, big, HOMA_MAX_MESSAGE_LENGTH, &dst.sa, dlen,
					   &id, seed, 0),
				 0);
	}
	memset(&first, 0, sizeof(first));
	assert_int_equal(homa_recv(s, &first, 0), HOMA_MAX_MESSAGE_LENGTH);
	assert_int_equal(homa_msg_copy(s, &first, 0, got, HOMA_MAX_MESSAGE_LENGTH),
			 HOMA_MAX_MESSAGE_LENGTH);
	/* Either request may win the region; the other one must follow. */
	first_seed = rt_pattern_ok(got, HOMA_MAX_MESSAGE_LENGTH, 1) ? 1 : 2;
	assert_true(rt_pattern_ok(got, HOMA_MAX_MESSAGE_LENGTH, first_seed));

	/* Holding the first message's bpages, the second cannot be placed. */
	memset(&second, 0, sizeof(second));
	r = homa_recv(s, &second, 0);
	assert_int_equal(r, -ENOBUFS);
	assert_true(strstr(homa_error_msg(s), "exhausted") != NULL);

	/* Handing them back (in the next recv) lets the second one in, intact. */
	second = first;
	second.id = 0;
	assert_int_equal(homa_recv(s, &second, 0), HOMA_MAX_MESSAGE_LENGTH);
	assert_int_equal(homa_msg_copy(s, &second, 0, got, HOMA_MAX_MESSAGE_LENGTH),
			 HOMA_MAX_MESSAGE_LENGTH);
	assert_true(second.id != first.id);
	assert_true(rt_pattern_ok(got, HOMA_MAX_MESSAGE_LENGTH, 3 - first_seed));
	homa_close(c);
	homa_close(s);
	munmap(region, SMALL_REGION);
	free(big);
	free(got);
	rt_down();
}

/* ------------------------------------------------------------ refusals and errors */

static void short_timeouts(struct homa_config *c)
{
	c->settings.resend_ticks = 2;
	c->settings.resend_interval = 2;
	c->settings.timeout_ticks = 20; /* 20 ms of silence kills an RPC */
}

static void test_request_to_socket_not_accepting_requests_fails(void **state)
{
	struct homa_socket *c, *not_server;
	union homa_sockaddr dst;
	struct homa_msg msg;
	socklen_t dlen;
	uint64_t id;
	int r;

	(void)state;
	rt_up(short_timeouts);
	assert_int_equal(homa_socket(AF_INET, 0, &not_server), 0);
	assert_int_equal(homa_socket(AF_INET, 0, &c), 0);
	homa_set_recv_timeout(c, 10000000);
	rt_loopback(not_server, &dst, &dlen);
	assert_int_equal(homa_send(c, "ping", 4, &dst.sa, dlen, &id, 5, 0), 0);
	memset(&msg, 0, sizeof(msg));
	r = homa_recv(c, &msg, 0);
	assert_true(r == -ETIMEDOUT || r == -ENOTCONN);
	assert_true(msg.id == id);

	/* Once enabled (SO_HOMA_SERVER), the same socket accepts requests. */
	assert_int_equal(homa_set_server(not_server, 1), 0);
	assert_int_equal(homa_send(c, "ping", 4, &dst.sa, dlen, &id, 6, 0), 0);
	homa_set_recv_timeout(not_server, 10000000);
	msg.id = 0;
	assert_int_equal(homa_recv(not_server, &msg, 0), 4);
	assert_true(msg.id == (id | 1));
	homa_close(c);
	homa_close(not_server);
	rt_down();
}

/* Nobody holds the port at all: the ICMP "port unreachable" that comes back
 * fails the RPC with ENOTCONN at once, long before any timeout. */
static void test_request_to_closed_port_fails_with_enotconn(void **state)
{
	struct homa_socket *c, *gone;
	union homa_sockaddr dst;
	struct homa_msg msg;
	socklen_t dlen;
	uint64_t id;

	(void)state;
	rt_up(NULL); /* default timeouts: only the ICMP path can be this fast */
	gone = rt_server(AF_INET, 0);
	rt_loopback(gone, &dst, &dlen);
	homa_close(gone);
	assert_int_equal(homa_socket(AF_INET, 0, &c), 0);
	homa_set_recv_timeout(c, 1000000);
	assert_int_equal(homa_send(c, "ping", 4, &dst.sa, dlen, &id, 5, 0), 0);
	memset(&msg, 0, sizeof(msg));
	assert_int_equal(homa_recv(c, &msg, 0), -ENOTCONN);
	assert_true(msg.id == id && msg.completion_cookie == 5);
	homa_close(c);
	rt_down();
}

/* Sends one request to port from a child process, then exits when told to,
 * so that its response meets a closed port (and nobody ever acks it). */
static void request_from_child(int rfd)
{
	union homa_sockaddr dst;
	struct homa_socket *a;
	uint16_t port = 0;

	if (read(rfd, &port, sizeof(port)) != (ssize_t)sizeof(port) ||
	    homa_socket(AF_INET, 0, &a) != 0)
		_exit(1);
	memset(&dst, 0, sizeof(dst));
	dst.in4.sin_family = AF_INET;
	dst.in4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	dst.in4.sin_port = htons(port);
	if (homa_send(a, "bye", 3, &dst.sa, sizeof(dst.in4), NULL, 1, 0))
		_exit(1);
	_exit(read(rfd, &port, sizeof(port)) == (ssize_t)sizeof(port) ? 0 : 1);
}

/* Receives one request on s and returns its message (bpages handed back). */
static void take_request(struct homa_socket *s, struct homa_msg *msg)
{
	int r;

	memset(msg, 0, sizeof(*msg));
	r = homa_recv(s, msg, 0);
	if (r != 3)
		print_message("take_request: %d %s\n", r, homa_error_msg(s));
	assert_int_equal(r, 3);
	assert_int_equal(homa_release_bpages(s, msg->bpage_offsets, msg->num_bpages), 0);
}

/*
 * The response to a client that exited bounces: on loopback the ICMP error
 * is queued on the server's socket before homa_reply() even returns, and
 * Linux would fail the next send on that socket with it. That send - the
 * response to a live client - must still go out, and the ICMP must end the
 * dead client's RPC.
 */
static void test_icmp_from_exited_client_costs_no_packets(void **state)
{
	struct homa_stats es = {0};
	struct homa_rt_stats st;
	struct homa_socket *s, *b;
	struct homa_msg m1, m2, resp;
	union homa_sockaddr dst;
	socklen_t dlen;
	uint16_t port;
	int pfd[2], status = -1;
	pid_t child;

	(void)state;
	assert_int_equal(pipe(pfd), 0);
	child = fork(); /* before any thread exists in this process */
	if (child == 0)
		request_from_child(pfd[0]);
	rt_up(NULL);
	s = rt_server(AF_INET, 0);
	homa_set_recv_timeout(s, 10000000);
	rt_loopback(s, &dst, &dlen);
	port = homa_get_port(s);
	assert_int_equal(write(pfd[1], &port, sizeof(port)), sizeof(port));
	take_request(s, &m1); /* the child's */
	assert_int_equal(write(pfd[1], &port, sizeof(port)), sizeof(port)); /* exit now */
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_int_equal(status, 0);
	assert_int_equal(homa_socket(AF_INET, 0, &b), 0);
	homa_set_recv_timeout(b, 10000000);
	assert_int_equal(homa_send(b, "hi!", 3, &dst.sa, dlen, NULL, 2, 0), 0);
	take_request(s, &m2);

	assert_int_equal(homa_reply(s, "bye", 3, &m1.peer.sa, m1.peer_len, m1.id), 0);
	assert_int_equal(homa_reply(s, "hi!", 3, &m2.peer.sa, m2.peer_len, m2.id), 0);
	assert_int_equal(homa_get_stats(NULL, &st), 0);
	assert_true(st.tx_errors == 0);
	memset(&resp, 0, sizeof(resp));
	assert_int_equal(homa_recv(b, &resp, 0), 3);
	assert_true(resp.completion_cookie == 2);

	/* The bounce itself ends the dead client's server RPC. */
	for (long i = 0; i < 1000000 && es.rpc_unreachable == 0; i++) {
		homa_get_stats(&es, NULL);
		sched_yield();
	}
	assert_true(es.rpc_unreachable > 0);
	homa_close(b);
	homa_close(s);
	close(pfd[0]);
	close(pfd[1]);
	rt_down();
}

static void test_reply_to_unknown_id_is_enoent(void **state)
{
	struct pair p;

	(void)state;
	rt_up(NULL);
	pair_open(&p);
	assert_int_equal(homa_reply(p.s, "x", 1, &p.dst.sa, p.dlen, 12345), -ENOENT);
	assert_true(strstr(homa_error_msg(p.s), "12345") != NULL);
	assert_int_equal(homa_reply(p.s, "x", 1, &p.dst.sa, p.dlen, 12346), -EINVAL);
	pair_close(&p);
	rt_down();
}

static void test_misuse_returns_documented_errors(void **state)
{
	struct homa_socket *s, *other;
	union homa_sockaddr a;
	struct sockaddr_in6 v6 = {.sin6_family = AF_INET6, .sin6_port = htons(1000)};
	struct homa_msg msg;
	struct pair p;
	socklen_t len;
	void *huge = calloc(1, HOMA_MAX_MESSAGE_LENGTH + 1);

	(void)state;
	rt_up(NULL);
	assert_int_equal(homa_socket(AF_UNIX, 0, &s), -EAFNOSUPPORT);
	assert_int_equal(homa_socket(AF_INET, 0x100, &s), -EINVAL);
	pair_open(&p);

	/* Oversized and empty messages. */
	assert_int_equal(homa_send(p.c, huge, HOMA_MAX_MESSAGE_LENGTH + 1, &p.dst.sa,
				   p.dlen, NULL, 0, 0),
			 -EINVAL);
	assert_true(strstr(homa_error_msg(p.c), "length") != NULL);
	assert_int_equal(homa_send(p.c, huge, 0, &p.dst.sa, p.dlen, NULL, 0, 0), -EINVAL);

	/* Address family and port checks. */
	assert_int_equal(
	    homa_send(p.c, "x", 1, (struct sockaddr *)&v6, sizeof(v6), NULL, 0, 0),
	    -EAFNOSUPPORT);
	assert_true(strstr(homa_error_msg(p.c), "family") != NULL);
	assert_int_equal(homa_bind(p.c, (struct sockaddr *)&v6, sizeof(v6)),
			 -EAFNOSUPPORT);
	rt_loopback(p.c, &a, &len);
	a.in4.sin_port = htons(40000);
	assert_int_equal(homa_bind(p.c, &a.sa, len), -EINVAL);
	assert_int_equal(homa_bind(p.c, &a.sa, 4), -EINVAL);
	assert_int_equal(homa_send(p.c, "x", 1, &p.dst.sa, p.dlen, NULL, 0, 0x80),
			 -EINVAL);

	/* A port held by another socket. */
	assert_int_equal(homa_socket(AF_INET, 0, &other), 0);
	assert_int_equal(homa_bind(other, &p.dst.sa, p.dlen), -EADDRINUSE);
	homa_close(other);

	/* Handing back a bpage the application does not hold. */
	memset(&msg, 0, sizeof(msg));
	msg.num_bpages = 1;
	msg.bpage_offsets[0] = 3 * HOMA_BPAGE_SIZE;
	assert_int_equal(homa_recv(p.c, &msg, HOMA_RECV_NONBLOCK), -EINVAL);
	msg.num_bpages = HOMA_MAX_BPAGES + 1;
	assert_int_equal(homa_recv(p.c, &msg, HOMA_RECV_NONBLOCK), -EINVAL);
	assert_int_equal(homa_release_bpages(p.c, msg.bpage_offsets, 1), -EINVAL);

	/* The runtime cannot be torn down under open sockets. */
	assert_int_equal(homa_fini(), -EBUSY);
	assert_int_equal(homa_init(NULL), -EALREADY);
	pair_close(&p);
	free(huge);
	rt_down();
	assert_int_equal(homa_fini(), -ENOENT);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_nonblocking_recv_returns_eagain),
    cmocka_unit_test(test_epoll_fd_readable_exactly_while_message_ready),
    cmocka_unit_test(test_shutdown_wakes_sleeping_receiver_with_eshutdown),
    cmocka_unit_test(test_shutdown_wakes_every_receiver),
    cmocka_unit_test(test_full_send_memory_eagain_nonblocking_waits_blocking),
    cmocka_unit_test(test_abort_without_error_makes_rpc_vanish),
    cmocka_unit_test(test_abort_with_error_completes_each_rpc_with_it),
    cmocka_unit_test(test_info_lists_live_rpcs),
    cmocka_unit_test(test_exhausted_region_reports_enobufs_then_recovers),
    cmocka_unit_test(test_request_to_socket_not_accepting_requests_fails),
    cmocka_unit_test(test_request_to_closed_port_fails_with_enotconn),
    cmocka_unit_test(test_icmp_from_exited_client_costs_no_packets),
    cmocka_unit_test(test_reply_to_unknown_id_is_enoent),
    cmocka_unit_test(test_misuse_returns_documented_errors),
};

HOMA_TEST_MAIN(tests)
