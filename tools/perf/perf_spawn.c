/* perf_spawn.c - a homa-perf server in a child process. */
#define _GNU_SOURCE
#include "perf_spawn.h"

#include "perf_util.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define READY_FD      3
#define READY_WAIT_MS 5000
#define PORT_TRIES    8

struct spawn {
	const char *self, *protos;
	int poll, cpu;
};

static void exec_server(const struct spawn *sp, int port, int wfd)
{
	char portbuf[16], fdbuf[16], cpubuf[16];
	char *argv[12] = {"homa-perf",	 "server",	     "--port",	   portbuf,
			  "--protocols", (char *)sp->protos, "--ready-fd", fdbuf};
	int n = 8;

	snprintf(portbuf, sizeof(portbuf), "%d", port);
	snprintf(fdbuf, sizeof(fdbuf), "%d", READY_FD);
	snprintf(cpubuf, sizeof(cpubuf), "%d", sp->cpu);
	if (!sp->poll)
		argv[n++] = "--no-poll";
	if (sp->cpu >= 0) {
		argv[n++] = "--cpu";
		argv[n++] = cpubuf;
	}
	argv[n] = NULL;
	if (dup2(wfd, READY_FD) < 0)
		_exit(127);
	execv(sp->self, argv);
	_exit(127);
}

/*
 * Waits for the ready byte: 0 when the server serves, -1 when it exited
 * (e.g. its port was taken: try another), -2 when it neither served nor
 * exited in time (another port would not help).
 */
static int wait_ready(int rfd)
{
	struct pollfd p = {.fd = rfd, .events = POLLIN};
	char b;

	if (poll(&p, 1, READY_WAIT_MS) != 1)
		return -2;
	return read(rfd, &b, 1) == 1 ? 0 : -1;
}

static int try_port(struct perf_child *c, const struct spawn *sp, int port)
{
	int fds[2], rc;

	if (pipe(fds) != 0)
		return -2;
	c->pid = fork();
	if (c->pid == 0) {
		close(fds[0]);
		exec_server(sp, port, fds[1]);
	}
	close(fds[1]);
	c->port = port;
	rc = c->pid < 0 ? -2 : wait_ready(fds[0]);
	close(fds[0]);
	if (rc != 0 && c->pid > 0)
		perf_stop_server(c);
	return rc;
}

int perf_spawn_server(struct perf_child *c, const char *self, const char *protos,
		      int first_port, int poll, int cpu)
{
	struct spawn sp = {.self = self, .protos = protos, .poll = poll, .cpu = cpu};

	for (int i = 0; i < PORT_TRIES; i++) {
		int rc = try_port(c, &sp, first_port + 2 * i);

		if (rc == 0)
			return 0;
		if (rc == -2)
			break;
	}
	c->pid = -1;
	return -1;
}

uint64_t perf_child_cpu_ns(const struct perf_child *c)
{
	char path[64], buf[1024], *p;
	unsigned long long ut = 0, st = 0;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)c->pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* Fields after the command name, which may contain spaces: utime is 14th. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
			 &ut, &st) != 2)
		return 0;
	return (ut + st) * (PERF_NS_PER_SEC / (uint64_t)sysconf(_SC_CLK_TCK));
}

void perf_stop_server(struct perf_child *c)
{
	if (c->pid <= 0)
		return;
	kill(c->pid, SIGTERM);
	for (int i = 0; i < 200; i++) {
		if (waitpid(c->pid, NULL, WNOHANG) == c->pid) {
			c->pid = -1;
			return;
		}
		perf_sleep_ns(10000000);
	}
	kill(c->pid, SIGKILL);
	waitpid(c->pid, NULL, 0);
	c->pid = -1;
}
