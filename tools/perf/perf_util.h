/* perf_util.h - clocks, CPU accounting, addresses and sockets for homa-perf. */
#ifndef PERF_UTIL_H
#define PERF_UTIL_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#define PERF_NS_PER_SEC 1000000000ull

/* Monotonic nanoseconds (vDSO, ~20 ns): cheap enough for every RPC. */
static inline uint64_t perf_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * PERF_NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* User plus system CPU time of this process, in nanoseconds. */
uint64_t perf_cpu_ns(void);

void perf_sleep_ns(uint64_t ns);

/* A server address as given on the command line. */
struct perf_addr {
	struct sockaddr_storage ss;
	socklen_t len;
	char text[80]; /* "host:port" as given, for messages */
};

/*
 * Parses "HOST:PORT" (IPv4 literal, host name, or "[v6]:PORT") into *a.
 * Returns 0 or -1.
 */
int perf_addr_parse(struct perf_addr *a, const char *text);

/* Port of a (host byte order), and a copy of a with the port changed. */
uint16_t perf_addr_port(const struct perf_addr *a);
void perf_addr_with_port(struct perf_addr *out, const struct perf_addr *a, uint16_t port);

/* Sets O_NONBLOCK; returns 0 or -1. */
int perf_set_nonblock(int fd);

/*
 * Pins the calling thread to CPU cpu (cpu < 0: no change). Returns 0 or -1.
 * Used to keep a client and a server off each other's core.
 */
int perf_pin_cpu(int cpu);

/* Undoes perf_pin_cpu() (threads created later must not inherit the pin). */
void perf_unpin(void);

/*
 * Spins on fn(arg) (which must not block) until it reports progress (> 0),
 * fails (< 0) or timeout_ns passes; returns its last result. The busy-poll
 * loop shared by the TCP and UDP transports.
 */
int perf_spin(int (*fn)(void *arg), void *arg, uint64_t timeout_ns);

/* Cheap statistics: ns -> us as double. */
static inline double perf_us(double ns)
{
	return ns / 1000.0;
}

#endif
