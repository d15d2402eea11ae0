/* perf_util.c - clocks, CPU accounting, addresses and small socket helpers. */
#define _GNU_SOURCE
#include "perf_util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

uint64_t perf_cpu_ns(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * PERF_NS_PER_SEC +
	       (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000u;
}

void perf_sleep_ns(uint64_t ns)
{
	struct timespec ts = {.tv_sec = (time_t)(ns / PERF_NS_PER_SEC),
			      .tv_nsec = (long)(ns % PERF_NS_PER_SEC)};

	nanosleep(&ts, NULL);
}

/* Splits "host:port" / "[v6]:port" into host and port strings. */
static int split_host_port(const char *text, char *host, size_t hostlen,
			   const char **port)
{
	const char *colon;
	size_t n;

	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (!close || close[1] != ':')
			return -1;
		n = (size_t)(close - text - 1);
		text++;
		colon = close + 1;
	} else {
		colon = strrchr(text, ':');
		if (!colon)
			return -1;
		n = (size_t)(colon - text);
	}
	if (n == 0 || n >= hostlen)
		return -1;
	memcpy(host, text, n);
	host[n] = '\0';
	*port = colon + 1;
	return 0;
}

int perf_addr_parse(struct perf_addr *a, const char *text)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
	char host[64], *end;
	const char *port;
	long p;

	memset(a, 0, sizeof(*a));
	if (strlen(text) >= sizeof(a->text) ||
	    split_host_port(text, host, sizeof(host), &port))
		return -1;
	p = strtol(port, &end, 10);
	if (*port == '\0' || *end || p < 1 || p > 65535)
		return -1;
	if (getaddrinfo(host, port, &hints, &res) != 0 || !res)
		return -1;
	memcpy(&a->ss, res->ai_addr, res->ai_addrlen);
	a->len = res->ai_addrlen;
	freeaddrinfo(res);
	snprintf(a->text, sizeof(a->text), "%s", text);
	return 0;
}

uint16_t perf_addr_port(const struct perf_addr *a)
{
	if (a->ss.ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
	return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
}

void perf_addr_with_port(struct perf_addr *out, const struct perf_addr *a, uint16_t port)
{
	*out = *a;
	if (out->ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&out->ss)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)&out->ss)->sin_port = htons(port);
}

int perf_set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -1;
	return fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Set while this thread is pinned by perf_pin_cpu(). */
static _Thread_local int pinned;

int perf_pin_cpu(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0)
		return -1;
	pinned = 1;
	return 0;
}

void perf_unpin(void)
{
	cpu_set_t set;
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (!pinned)
		return;
	CPU_ZERO(&set);
	for (long i = 0; i < n && i < CPU_SETSIZE; i++)
		CPU_SET((int)i, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	pinned = 0;
}

/*
 * After this long without work a spinning thread also yields on every turn.
 * Whatever it waits for may need its core: the peer process, or the kernel
 * thread that delivers loopback packets (ksoftirqd). Without the yield, a
 * spinner keeps them off the core for a whole time slice: measured, a pinned
 * UDP ping-pong (client and server on their own cores, no yield) took
 * 200-700 ms per round trip on the loaded machine. When another process
 * holds the other core, client and server share one and each half round
 * trip costs this threshold: a TCP ping-pong had a 57 us minimum with 20 us
 * and 21 us with 2 us. Alone on its core, sched_yield() returns in a
 * fraction of a microsecond, so yielding early costs little.
 *
 * The Homa runtime yields once per 2 us instead (homa_rt_recv.c). For these
 * loops that policy was measured too (seventh session, 16 interleaved rtt
 * rounds each): UDP's P50 did not move (median ratio 1.00) and TCP's was 6%
 * slower, so the baselines keep yielding on every turn, their best.
 */
#ifndef YIELD_AFTER_NS
#define YIELD_AFTER_NS 2000u
#endif

int perf_spin(int (*fn)(void *arg), void *arg, uint64_t timeout_ns)
{
	uint64_t start = 0, now;

	for (;;) {
		int rc = fn(arg);

		if (rc != 0 || timeout_ns == 0)
			return rc;
		/* Read the clock only once idle: the first pass costs nothing extra. */
		now = perf_now_ns();
		if (!start)
			start = now;
		else if (now - start >= timeout_ns)
			return 0;
		else if (now - start >= YIELD_AFTER_NS)
			sched_yield();
	}
}
