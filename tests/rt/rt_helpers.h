/*
 * rt_helpers.h - shared helpers of the libhoma runtime tests: bring the
 * runtime up with test settings, bind a free server port, run an echo
 * server in threads, make and check message contents.
 */
#ifndef RT_HELPERS_H
#define RT_HELPERS_H

#include <pthread.h>
#include <stdint.h>

#include "homa/homa.h"

/* Starts the runtime with defaults adjusted by tweak (may be NULL). */
void rt_up(void (*tweak)(struct homa_config *c));
/* Stops it; every socket must be closed. */
void rt_down(void);

/* Opens a socket and binds a free server port; returns the socket. */
struct homa_socket *rt_server(int family, int flags);
/* Binds a free server port. */
void rt_bind_free(struct homa_socket *s);
/* The address of s on the loopback interface of its family. */
void rt_loopback(const struct homa_socket *s, union homa_sockaddr *a, socklen_t *len);

/* Fills buf with bytes derived from seed; checks such bytes. */
void rt_pattern(void *buf, size_t len, uint32_t seed);
int rt_pattern_ok(const void *buf, size_t len, uint32_t seed);

/* An echo server: nthreads threads answer every request with its bytes. */
struct rt_echo {
	struct homa_socket *s;
	pthread_t threads[8];
	int nthreads;
};
void rt_echo_start(struct rt_echo *e, int family, int flags, int nthreads);
void rt_echo_stop(struct rt_echo *e);

/* One request/response of len bytes to dst, contents checked; returns 0. */
int rt_round_trip(struct homa_socket *c, const union homa_sockaddr *dst, socklen_t dlen,
		  size_t len, uint32_t seed);

/* 1 if this process may open raw sockets (root/CAP_NET_RAW); 0 prints why not. */
int rt_can_raw(void);
/* 1 if IPv6 on loopback works; 0 prints why not. */
int rt_can_ipv6(void);

#endif
