/*
 * perf_server.c - `homa-perf server`: Homa and TCP echo on --port, raw UDP
 * echo on --port + 1.
 *
 * Busy-polling, each of the --threads threads serves every protocol in turn
 * (one spinning thread per core at most is the user's budget, so protocols
 * share a thread rather than each getting one). A thread with a single
 * protocol waits inside that protocol, which spins its own best way. With
 * --no-poll every protocol of every thread gets its own thread that sleeps
 * in the kernel until work arrives.
 */
#define _GNU_SOURCE
#include "perf_modes.h"
#include "perf_transport.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WAIT_NS	    100000000ull /* longest wait, so threads notice the stop flag */
#define MAX_WORKERS 256

static volatile sig_atomic_t stop_flag;

struct worker {
	pthread_t thread;
	struct perf_endpoint eps[PERF_NPROTO];
	int neps;
	int cpu;
	int err;
};

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	uint64_t wait = w->neps == 1 ? WAIT_NS : 0;

	perf_pin_cpu(w->cpu);
	while (!stop_flag) {
		for (int i = 0; i < w->neps; i++) {
			int rc = w->eps[i].ops->serve(w->eps[i].impl, wait);

			if (rc < 0) {
				w->err = rc;
				stop_flag = 1;
			}
		}
	}
	for (int i = 0; i < w->neps; i++)
		w->eps[i].ops->close(w->eps[i].impl);
	return NULL;
}

static int open_listeners(const struct perf_opts *o, struct perf_listener *ls, int *n)
{
	char err[256] = "";

	*n = 0;
	for (int p = 0; p < PERF_NPROTO; p++) {
		struct perf_listener *l = &ls[*n];
		int rc = -1;

		if (!(o->protos & (1u << p)))
			continue;
		if (p == PERF_TCP)
			rc = perf_tcp_listen(l, o->port, err, sizeof(err));
		else if (p == PERF_UDP)
			rc = perf_udp_listen(l, o->port, err, sizeof(err));
		else
			rc = perf_homa_listen(l, o->port, o->poll, err, sizeof(err));
		if (rc == 0) {
			(*n)++;
			continue;
		}
		fprintf(stderr, "homa-perf server: %s\n", err);
		/* Homa may be missing from this build; the others must work. */
		if (p != PERF_HOMA || o->protos == (1u << PERF_HOMA))
			return -1;
	}
	return 0;
}

/* Splits listeners over workers: all on each (polling) or one each (blocking). */
static int make_workers(const struct perf_opts *o, struct perf_listener *ls, int nls,
			struct worker *ws)
{
	int nw = 0;

	for (int t = 0; t < o->threads; t++) {
		for (int i = 0; i < nls; i++) {
			struct worker *w = &ws[o->poll ? t : nw];

			if (!o->poll || i == 0) {
				*w = (struct worker){.cpu = o->cpu};
				nw++;
			}
			if (ls[i].endpoint(&ls[i], o->poll, &w->eps[w->neps]) != 0)
				return -1;
			w->neps++;
		}
	}
	return nw;
}

static void announce(const struct perf_opts *o, const struct perf_listener *ls, int nls)
{
	fprintf(stderr, "homa-perf server: port %d:", o->port);
	for (int i = 0; i < nls; i++)
		fprintf(stderr, " %s%s", ls[i].name,
			strcmp(ls[i].name, "udp") ? "" : "(+1)");
	fprintf(stderr, ", %d thread(s), %s\n", o->threads,
		o->poll ? "busy-polling" : "blocking");
	if (o->ready_fd >= 0) {
		/* The demo waits for this byte before it starts measuring. */
		if (write(o->ready_fd, "R", 1) != 1)
			perror("homa-perf server: ready-fd");
		close(o->ready_fd);
	}
}

static int run_workers(struct worker *ws, int nw)
{
	int err = 0;

	for (int i = 0; i < nw; i++)
		pthread_create(&ws[i].thread, NULL, worker_run, &ws[i]);
	for (int i = 0; i < nw; i++) {
		pthread_join(ws[i].thread, NULL);
		if (ws[i].err && !err)
			err = ws[i].err;
	}
	if (err)
		fprintf(stderr, "homa-perf server: stopped: %s\n", strerror(-err));
	return err ? 1 : 0;
}

/* ------------------------------------------------- serving inside a client */

static struct perf_listener bg_ls[PERF_NPROTO];
static struct worker bg_ws[PERF_NPROTO];
static int bg_nls, bg_nw;

int perf_server_bg_start(const struct perf_opts *o, int port, enum perf_proto p)
{
	struct perf_opts so = *o;

	so.port = port;
	so.threads = 1;
	so.protos = 1u << p;
	so.ready_fd = -1;
	stop_flag = 0;
	bg_nls = bg_nw = 0;
	if (open_listeners(&so, bg_ls, &bg_nls) != 0 || bg_nls == 0)
		return -1;
	bg_nw = make_workers(&so, bg_ls, bg_nls, bg_ws);
	if (bg_nw < 0) {
		bg_nw = 0;
		perf_server_bg_stop();
		return -1;
	}
	for (int i = 0; i < bg_nw; i++) {
		if (pthread_create(&bg_ws[i].thread, NULL, worker_run, &bg_ws[i]) != 0) {
			bg_nw = i;
			perf_server_bg_stop();
			return -1;
		}
	}
	fprintf(stderr, "homa-perf client: also serving %s on port %d\n",
		perf_proto_name(p), port);
	return 0;
}

void perf_server_bg_stop(void)
{
	stop_flag = 1;
	for (int i = 0; i < bg_nw; i++)
		pthread_join(bg_ws[i].thread, NULL);
	for (int i = 0; i < bg_nls; i++)
		bg_ls[i].close(&bg_ls[i]);
	bg_nw = bg_nls = 0;
}

int perf_server_main(const struct perf_opts *o)
{
	struct perf_listener ls[PERF_NPROTO];
	static struct worker ws[MAX_WORKERS];
	struct sigaction sa = {.sa_handler = on_signal};
	int nls, nw, rc = 1;

	if (o->threads * PERF_NPROTO > MAX_WORKERS)
		return 2;
	perf_opts_apply_env(o);
	if (o->poll && o->threads > sysconf(_SC_NPROCESSORS_ONLN))
		fprintf(stderr,
			"homa-perf server: warning: %d busy-polling threads on %ld CPUs "
			"starve each other; use fewer threads or --no-poll\n",
			o->threads, sysconf(_SC_NPROCESSORS_ONLN));
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (open_listeners(o, ls, &nls) != 0)
		goto out;
	nw = make_workers(o, ls, nls, ws);
	if (nw < 0) {
		fprintf(stderr, "homa-perf server: out of memory\n");
		goto out;
	}
	announce(o, ls, nls);
	rc = run_workers(ws, nw);
	if (o->stats)
		perf_homa_print_stats(stderr, 0);
out:
	for (int i = 0; i < nls; i++)
		ls[i].close(&ls[i]);
	return rc;
}
