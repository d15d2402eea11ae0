/*
 * perf_spawn.h - starting and stopping a homa-perf server as a child
 * process, for the demo and the smoke tests. The child is this same binary
 * run with `server`, so it gets a fresh process (no runtime state inherited
 * through fork) and is measured exactly as a user-started server would be.
 */
#ifndef PERF_SPAWN_H
#define PERF_SPAWN_H

#include <stdint.h>
#include <sys/types.h>

struct perf_child {
	pid_t pid;
	int port;
};

/*
 * Starts `self server --port P --protocols protos [--no-poll] [--cpu C]`
 * (cpu < 0: not pinned) and waits (at
 * most 5 s) until it serves. Tries a few ports from first_port on, two
 * apart (UDP uses port + 1). Returns 0 or -1.
 */
int perf_spawn_server(struct perf_child *c, const char *self, const char *protos,
		      int first_port, int poll, int cpu);

/* CPU time (user + system) the child has used so far, ns; 0 if unknown. */
uint64_t perf_child_cpu_ns(const struct perf_child *c);

/* Stops the child (SIGTERM, then SIGKILL after 2 s) and reaps it. */
void perf_stop_server(struct perf_child *c);

#endif
