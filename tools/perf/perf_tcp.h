/* perf_tcp.h - helpers shared by the TCP client and server. */
#ifndef PERF_TCP_H
#define PERF_TCP_H

/* TCP_NODELAY and quick ACKs: the best small-message latency TCP offers. */
void perf_tcp_tune(int fd);

#endif
