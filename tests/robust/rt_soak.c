/*
 * rt_soak.c - real sockets on loopback for a minute, with packet loss
 * injected at the carrier and the server process killed and restarted.
 *
 *   rt_soak [SECONDS]          the soak (default 60): prints figures, exits 0
 *                              if every check held, 1 otherwise
 *   rt_soak --server PORT      (internal) the echo server process
 *
 * The server is this program re-executed with --server: it binds PORT over
 * the UDP carrier and echoes every request. The client process runs
 * CLIENT_THREADS threads, each issuing private RPCs of mixed sizes (100 B to
 * 300 kB) one after the other and checking every response byte. Both
 * processes drop DROP_RATE of their outgoing and incoming packets (the
 * runtime's seeded loss injection). At 1/3 and 2/3 of the run the server is
 * killed with SIGKILL and restarted DOWN_MS later on the same port.
 *
 * Checks: no RPC hangs (each ends, with its response or an error, within
 * RPC_BOUND_MS: the engine's timeout plus slack; a homa_recv() timeout far
 * beyond that would reveal a hang); responses are byte-exact; failures
 * happen only while the server is down or just after; RPCs succeed again
 * after each restart; the client's resident memory is flat after warm-up
 * (samples every second; growth below RSS_SLACK_KB). Figures: RPCs done and
 * failed, packets dropped, RSS over time of client and server.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "homa/homa.h"

#define CLIENT_THREADS 3
#define DROP_RATE      0.02
#define TIMEOUT_TICKS  2000 /* as tests/rt: a loaded shared machine is not a dead peer */
#define RPC_BOUND_MS   8000
#define DOWN_MS	       1500
#define WARMUP_S       10
#define RSS_SLACK_KB   (8 * 1024)
#define MAX_LEN	       300000

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void fill(uint8_t *b, size_t len, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 7;

	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		b[i] = (uint8_t)(x >> 16);
	}
}

static long rss_kb(pid_t pid)
{
	char path[64];
	long pages = 0, rss = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/statm", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
		rss = -1;
	fclose(f);
	return rss < 0 ? -1 : rss * (sysconf(_SC_PAGESIZE) / 1024);
}

static void config(struct homa_config *c, uint64_t seed)
{
	if (homa_config_default(c) != 0)
		fprintf(stderr, "rt_soak: an environment override did not parse\n");
	c->settings.timeout_ticks = TIMEOUT_TICKS;
	c->drop_send = DROP_RATE;
	c->drop_recv = DROP_RATE;
	c->drop_seed = seed;
}

/* ---------------------------------------------------------------- server */

static int server_main(uint16_t port)
{
	struct homa_config c;
	struct homa_socket *s;
	struct sockaddr_in a;
	struct homa_msg m;
	static uint8_t buf[HOMA_MAX_MESSAGE_LENGTH];
	int err;

	config(&c, (uint64_t)getpid());
	if (homa_init(&c) != 0 || homa_socket(AF_INET, 0, &s) != 0)
		return 2;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons(port);
	err = homa_bind(s, (struct sockaddr *)&a, sizeof(a));
	printf("%s\n", err == 0 ? "ready" : "busy");
	fflush(stdout);
	if (err != 0)
		return 3;
	memset(&m, 0, sizeof(m));
	for (;;) {
		int n;
		size_t len;

		m.id = 0; /* any request; num_bpages hands the last one's back */
		n = homa_recv(s, &m, 0);

		if (n < 0) {
			m.num_bpages = 0;
			continue;
		}
		len = homa_msg_copy(s, &m, 0, buf, (size_t)n);
		homa_reply(s, buf, len, &m.peer.sa, m.peer_len, m.id);
		/* The bpages go back with the next homa_recv(). */
	}
	return 0;
}

/* ---------------------------------------------------------------- client */

struct server_proc {
	pid_t pid;
	uint16_t port;
	char self[4096];
};

/* Starts the server on port; 0, or -1 if the port is taken. */
static int server_start(struct server_proc *sp)
{
	int fds[2];
	char port[16], line[16] = "";
	struct pollfd pfd;
	ssize_t n;

	if (pipe(fds) != 0)
		return -1;
	snprintf(port, sizeof(port), "%u", sp->port);
	sp->pid = fork();
	if (sp->pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		execl(sp->self, sp->self, "--server", port, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	pfd.fd = fds[0];
	pfd.events = POLLIN;
	n = poll(&pfd, 1, 10000) == 1 ? read(fds[0], line, sizeof(line) - 1) : -1;
	close(fds[0]);
	if (n > 0 && strncmp(line, "ready", 5) == 0)
		return 0;
	kill(sp->pid, SIGKILL);
	waitpid(sp->pid, NULL, 0);
	sp->pid = 0;
	return -1;
}

static void server_kill(struct server_proc *sp)
{
	if (sp->pid > 0) {
		kill(sp->pid, SIGKILL);
		waitpid(sp->pid, NULL, 0);
		sp->pid = 0;
	}
}

struct shared {
	struct sockaddr_in server;
	atomic_int stop;
	atomic_ullong down_since, up_since; /* ms; down_since 0 while up */
	atomic_ullong done, failed, failed_unexplained, corrupt, hangs;
	atomic_ullong max_ms, max_ok_ms;
	atomic_ullong last_ok_ms;
	atomic_ullong errors[4]; /* ETIMEDOUT, ENOTCONN, EHOSTUNREACH, other */
};

static struct shared S;

static void record_max(atomic_ullong *m, uint64_t v)
{
	uint64_t cur = atomic_load(m);

	while (v > cur && !atomic_compare_exchange_weak(m, &cur, v))
		;
}

/* A failure is explained if the server was down (or restarting) meanwhile. */
static int explained(uint64_t start, uint64_t end)
{
	uint64_t down = atomic_load(&S.down_since), up = atomic_load(&S.up_since);

	(void)end;
	if (down != 0)
		return 1;
	/* Began while the server was down, or just after it came back (the
	 * client's RPC may still be aimed at the old incarnation). */
	return start <= up + 1000;
}

static void *client_thread(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	struct homa_socket *s;
	uint8_t *out = malloc(MAX_LEN), *in = malloc(MAX_LEN);
	struct homa_msg m;

	if (homa_socket(AF_INET, 0, &s) != 0 || out == NULL || in == NULL) {
		atomic_fetch_add(&S.hangs, 1);
		return NULL;
	}
	homa_set_recv_timeout(s, (uint64_t)RPC_BOUND_MS * 2 * 1000);
	while (!atomic_load(&S.stop)) {
		size_t len = 100 + (size_t)rand_r(&seed) % 1000;
		uint64_t id = 0, start = now_ms(), took;
		int n;

		if (rand_r(&seed) % 8 == 0)
			len = 1000 + (size_t)rand_r(&seed) % (MAX_LEN - 1000);
		fill(out, len, seed);
		if (homa_send(s, out, len, (struct sockaddr *)&S.server, sizeof(S.server),
			      &id, len, HOMA_SENDMSG_PRIVATE) != 0) {
			atomic_fetch_add(&S.errors[3], 1);
			continue;
		}
		memset(&m, 0, sizeof(m));
		m.id = id;
		n = homa_recv(s, &m, 0);
		took = now_ms() - start;
		record_max(&S.max_ms, took);
		if (n == -ETIMEDOUT && m.id == 0) {
			/* The receive timeout, far past the engine's: a hang. */
			atomic_fetch_add(&S.hangs, 1);
			homa_abort(s, id, 0);
			continue;
		}
		if (n < 0) {
			int e = -n == ETIMEDOUT	     ? 0
				: -n == ENOTCONN     ? 1
				: -n == EHOSTUNREACH ? 2
						     : 3;

			atomic_fetch_add(&S.errors[e], 1);
			atomic_fetch_add(&S.failed, 1);
			if (!explained(start, now_ms())) {
				atomic_fetch_add(&S.failed_unexplained, 1);
				printf(
				    "unexplained failure: %s after %llu ms, %zu bytes, "
				    "server up since %llu ms before the start\n",
				    strerror(-n), (unsigned long long)took, len,
				    (unsigned long long)(start -
							 atomic_load(&S.up_since)));
			}
			usleep(
			    10000); /* the server is probably down: back off a little */
			continue;
		}
		if ((size_t)n != len || m.completion_cookie != len ||
		    homa_msg_copy(s, &m, 0, in, len) != len || memcmp(in, out, len) != 0)
			atomic_fetch_add(&S.corrupt, 1);
		homa_release_bpages(s, m.bpage_offsets, m.num_bpages);
		record_max(&S.max_ok_ms, took);
		if (took > RPC_BOUND_MS)
			atomic_fetch_add(&S.hangs, 1);
		atomic_fetch_add(&S.done, 1);
		atomic_store(&S.last_ok_ms, now_ms());
	}
	homa_close(s);
	free(out);
	free(in);
	return NULL;
}

static int client_main(const char *self, int seconds)
{
	struct server_proc sp;
	struct homa_config c;
	pthread_t th[CLIENT_THREADS];
	long rss[4096], srv_rss[4096];
	int nrss = 0, i, ok = 1, tries;
	uint64_t t0, kill_at[2], restart_ok[2] = {0, 0};
	int kills = 0;
	struct homa_stats st;
	struct homa_rt_stats rst;

	memset(&sp, 0, sizeof(sp));
	snprintf(sp.self, sizeof(sp.self), "%s", self);
	for (tries = 0; tries < 50; tries++) {
		sp.port = (uint16_t)(12000 + (getpid() * 7919 + tries * 613) % 18000);
		if (server_start(&sp) == 0)
			break;
	}
	if (sp.pid <= 0) {
		fprintf(stderr, "rt_soak: could not start the server\n");
		return 1;
	}
	memset(&S.server, 0, sizeof(S.server));
	S.server.sin_family = AF_INET;
	S.server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	S.server.sin_port = htons(sp.port);
	config(&c, 12345);
	if (homa_init(&c) != 0) {
		fprintf(stderr, "rt_soak: homa_init: %s\n", homa_last_error_msg());
		server_kill(&sp);
		return 1;
	}
	t0 = now_ms();
	atomic_store(&S.up_since, t0 - 10000);
	for (i = 0; i < CLIENT_THREADS; i++)
		pthread_create(&th[i], NULL, client_thread, (void *)(uintptr_t)(i + 1));
	kill_at[0] = t0 + (uint64_t)seconds * 1000 / 3;
	kill_at[1] = t0 + (uint64_t)seconds * 2000 / 3;
	while (now_ms() < t0 + (uint64_t)seconds * 1000) {
		uint64_t now;

		usleep(100000);
		now = now_ms();
		if (kills < 2 && sp.pid > 0 && now >= kill_at[kills]) {
			atomic_store(&S.down_since, now);
			server_kill(&sp);
			printf("t=%5.1f s: server killed\n", (now - t0) / 1000.0);
		} else if (sp.pid == 0 && now >= atomic_load(&S.down_since) + DOWN_MS) {
			if (server_start(&sp) != 0) {
				fprintf(
				    stderr,
				    "rt_soak: the server did not restart on port %u\n",
				    sp.port);
				ok = 0;
				break;
			}
			atomic_store(&S.up_since, now_ms());
			atomic_store(&S.down_since, 0);
			printf("t=%5.1f s: server restarted (pid %d)\n",
			       (now_ms() - t0) / 1000.0, (int)sp.pid);
			kills++;
		}
		if (kills > 0 && sp.pid > 0 && restart_ok[kills - 1] == 0 &&
		    atomic_load(&S.last_ok_ms) > atomic_load(&S.up_since))
			restart_ok[kills - 1] =
			    atomic_load(&S.last_ok_ms) - atomic_load(&S.up_since);
		if ((now - t0) / 1000 > (uint64_t)nrss && nrss < 4096) {
			rss[nrss] = rss_kb(getpid());
			srv_rss[nrss] = sp.pid > 0 ? rss_kb(sp.pid) : -1;
			nrss++;
		}
	}
	atomic_store(&S.stop, 1);
	for (i = 0; i < CLIENT_THREADS; i++)
		pthread_join(th[i], NULL);
	homa_get_stats(&st, &rst);
	server_kill(&sp);
	homa_fini();

	printf(
	    "rt_soak: %d s, %d client threads, loss %.0f%% each way in both processes, "
	    "server killed %d times (down %d ms each)\n",
	    seconds, CLIENT_THREADS, DROP_RATE * 100, kills, DOWN_MS);
	printf(
	    "RPCs: %llu done, %llu failed (ETIMEDOUT %llu, ENOTCONN %llu, EHOSTUNREACH "
	    "%llu, other %llu), %llu failures outside a server outage, %llu corrupt, "
	    "%llu hung\n",
	    (unsigned long long)S.done, (unsigned long long)S.failed,
	    (unsigned long long)S.errors[0], (unsigned long long)S.errors[1],
	    (unsigned long long)S.errors[2], (unsigned long long)S.errors[3],
	    (unsigned long long)S.failed_unexplained, (unsigned long long)S.corrupt,
	    (unsigned long long)S.hangs);
	printf("longest RPC %llu ms (longest successful %llu ms); first success after "
	       "restarts: %llu ms, %llu ms\n",
	       (unsigned long long)S.max_ms, (unsigned long long)S.max_ok_ms,
	       (unsigned long long)restart_ok[0], (unsigned long long)restart_ok[1]);
	printf("client packets: %llu sent, %llu received, %llu dropped on send, %llu on "
	       "receive; engine resends %llu, timeouts %llu\n",
	       (unsigned long long)rst.tx_packets, (unsigned long long)rst.rx_packets,
	       (unsigned long long)rst.drop_send, (unsigned long long)rst.drop_recv,
	       (unsigned long long)st.tx_resend,
	       (unsigned long long)st.client_rpc_timeouts);
	printf("client RSS (KB) per second:");
	for (i = 0; i < nrss; i++)
		printf(" %ld", rss[i]);
	printf("\nserver RSS (KB) per second:");
	for (i = 0; i < nrss; i++)
		printf(" %ld", srv_rss[i]);
	printf("\n");
	if (nrss > WARMUP_S + 1) {
		long base = rss[WARMUP_S], max = base;

		for (i = WARMUP_S; i < nrss; i++)
			if (rss[i] > max)
				max = rss[i];
		printf("client RSS after %d s warm-up: %ld KB, max %ld KB, end %ld KB "
		       "(growth "
		       "%ld KB, limit %d KB)\n",
		       WARMUP_S, base, max, rss[nrss - 1], max - base, RSS_SLACK_KB);
		if (max - base > RSS_SLACK_KB)
			ok = 0;
	}
	if (S.hangs || S.corrupt || S.failed_unexplained || S.done < 100 || kills < 2 ||
	    restart_ok[0] == 0 || restart_ok[1] == 0 || S.errors[3] != 0)
		ok = 0;
	printf("rt_soak: %s\n", ok ? "PASS" : "FAIL");
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	char self[4096];
	ssize_t n;

	if (argc == 3 && strcmp(argv[1], "--server") == 0)
		return server_main((uint16_t)atoi(argv[2]));
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return 1;
	self[n] = 0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	return client_main(self, argc > 1 ? atoi(argv[1]) : 60);
}
