/*
 * perf_cluster.c - `homa-perf cluster`: tail latency under load on an
 * emulated cluster (docs/results.md).
 *
 * The network part (namespaces, bridge, shaped priority queues, starting
 * servers and clients) is a shell script, scripts/cluster/cluster.sh, because
 * it is a sequence of `ip` and `tc` commands whose teardown must survive any
 * failure (a trap). This file chooses the parameters, runs the script, and
 * turns the clients' raw samples into slowdown statistics, a .data table, a
 * gnuplot plot and JSON.
 *
 * Slowdown of an RPC = its round trip / the unloaded round trip of its
 * length. The unloaded round trip of a length is the median of a few RPCs
 * sent one at a time on the same testbed; when several protocols run, the
 * denominator is the smallest of their medians (the best this testbed can do
 * for that length), so slowdowns compare like round trips do.
 */
#define _GNU_SOURCE
#include "homa_workload.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int perf_cluster_main(int argc, char **argv);

#define MAX_PROTOS  4
#define MAX_BUCKETS 10
#define MAX_HOSTS   32

struct cluster_opts {
	int hosts;
	const char *workload;
	double load;
	double seconds;
	double warmup;
	double cooldown; /* load goes on this long; RPCs counted by start */
	int link_mbps;
	int priorities;
	int queue_kb;
	char protocols[64];
	uint64_t seed;
	const char *out;
	const char *name; /* run name; default derived from the options */
	int json;
	int unloaded_rpcs; /* RPCs per length wanted in the unloaded pass */
	int tcp_conns;	   /* TCP connections per client-server pair */
	int max_lengths;   /* unloaded pass: at most this many lengths (0: all) */
	int keep;	   /* --analyze-only: reuse raw results of an earlier run */
	double loadavg[2]; /* 1-minute load average before and after the run */
};

/* One RPC sample: drawn message length and round trip. */
struct sample {
	uint32_t len;
	uint64_t rtt_ns;
};

struct sample_set {
	struct sample *v;
	size_t n, cap;
};

struct bucket {
	uint32_t max_length;
	double cum_fraction; /* fraction of all samples with length <= max_length */
};

struct bucket_stats {
	size_t count;
	double p50_sd, p99_sd, p50_us, p99_us;
};

#define DONE_BY_MAX 61

struct proto_result {
	char name[16];
	int present;
	struct sample_set s;
	double *slowdown; /* per sample of s; NAN when no unloaded baseline */
	uint64_t rpcs, sent, errors, cap_hits, drops;
	uint64_t other_errors; /* failed RPCs started outside the window */
	double achieved_gbps;
	double started_gbps; /* request bytes started inside the window */
	uint64_t unfinished, unfinished_bytes;
	/* By-start counting: window bytes, and those delivered by the window's
	 * end plus k seconds (k < done_n), summed over the hosts. */
	uint64_t window_bytes, done_by[DONE_BY_MAX];
	int done_n;
	int failed_clients;
	double avg_slowdown;
	struct bucket_stats b[MAX_BUCKETS];
	struct bucket_stats shorts;
	/* unloaded median round trip (ns) per workload point; 0 = unmeasured */
	double *unloaded;
};

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: homa-perf cluster [--hosts N] [--workload W] [--load F] [--seconds "
	    "S]\n"
	    "         [--link-mbps M] [--priorities K] [--protocols homa,tcp] [--seed "
	    "S]\n"
	    "         [--out DIR] [--name RUN] [--json] [--queue-kb Q] [--warmup S]\n"
	    "         [--cooldown S] [--unloaded-rpcs N] [--analyze-only]\n"
	    "Builds N hosts (network namespaces) around one switch (a bridge) whose\n"
	    "ports toward the hosts are shaped to M Mbit/s with Q KiB queues (K strict\n"
	    "priority queues chosen by DSCP when K > 1), runs one homa-perf process per\n"
	    "host that serves the others and loads them with an open-loop Poisson\n"
	    "client (one-way messages, F x link rate, uniform over the other hosts;\n"
	    "COMBINED=0 in the environment: separate server and client processes), for\n"
	    "each protocol with the same seeds, and\n"
	    "reports slowdown per size bucket. Needs root. Defaults: 4 hosts, w3, load\n"
	    "0.5, 10 s (+1 s warm-up, +5 s cool-down), 1000 Mbit/s, 1 queue of 256 KiB,\n"
	    "homa,tcp, seed 1,\n"
	    "out results/, 5 unloaded RPCs per length (median), 1 TCP connection per\n"
	    "client-server pair; every distinct length is measured unloaded unless\n"
	    "--unloaded-lengths N (then N of them, the rest interpolated).\n"
	    "--analyze-only redoes\n"
	    "the analysis from the raw files of an earlier run (OUT/tmp/RUN).\n"
	    "The RPCs measured are those started in the S-second window; the load goes\n"
	    "on for the cool-down, and a window RPC still unfinished at its end counts\n"
	    "as not delivered (--cooldown 0: count what completes inside the window).\n");
}

static int parse_opts(struct cluster_opts *o, int argc, char **argv)
{
	*o = (struct cluster_opts){.hosts = 4,
				   .workload = "w3",
				   .load = 0.5,
				   .seconds = 10,
				   .warmup = 1,
				   .cooldown = 5,
				   .link_mbps = 1000,
				   .priorities = 1,
				   .queue_kb = 256,
				   .seed = 1,
				   .out = "results",
				   .unloaded_rpcs = 5,
				   .tcp_conns = 1};
	snprintf(o->protocols, sizeof(o->protocols), "homa,tcp");
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 1;
		}
		if (!strcmp(a, "--json")) {
			o->json = 1;
			continue;
		}
		if (!strcmp(a, "--analyze-only")) {
			o->keep = 1;
			continue;
		}
		if (!v) {
			fprintf(stderr, "homa-perf cluster: %s needs a value\n", a);
			return -1;
		}
		i++;
		if (!strcmp(a, "--hosts"))
			o->hosts = atoi(v);
		else if (!strcmp(a, "--workload"))
			o->workload = v;
		else if (!strcmp(a, "--load"))
			o->load = atof(v);
		else if (!strcmp(a, "--seconds"))
			o->seconds = atof(v);
		else if (!strcmp(a, "--warmup"))
			o->warmup = atof(v);
		else if (!strcmp(a, "--cooldown"))
			o->cooldown = atof(v);
		else if (!strcmp(a, "--link-mbps"))
			o->link_mbps = atoi(v);
		else if (!strcmp(a, "--priorities"))
			o->priorities = atoi(v);
		else if (!strcmp(a, "--queue-kb"))
			o->queue_kb = atoi(v);
		else if (!strcmp(a, "--protocols"))
			snprintf(o->protocols, sizeof(o->protocols), "%s", v);
		else if (!strcmp(a, "--seed"))
			o->seed = strtoull(v, NULL, 0);
		else if (!strcmp(a, "--out"))
			o->out = v;
		else if (!strcmp(a, "--name"))
			o->name = v;
		else if (!strcmp(a, "--unloaded-rpcs"))
			o->unloaded_rpcs = atoi(v);
		else if (!strcmp(a, "--tcp-conns"))
			o->tcp_conns = atoi(v);
		else if (!strcmp(a, "--unloaded-lengths"))
			o->max_lengths = atoi(v);
		else {
			fprintf(stderr, "homa-perf cluster: unknown option %s\n", a);
			return -1;
		}
	}
	if (o->hosts < 2 || o->hosts > MAX_HOSTS || o->load <= 0 || o->load > 1.5 ||
	    o->seconds <= 0 || o->warmup < 0 || o->cooldown < 0 || o->link_mbps <= 0 ||
	    o->priorities < 1 || o->priorities > 8 || o->queue_kb <= 0 ||
	    o->unloaded_rpcs < 1 || o->tcp_conns < 1) {
		fprintf(stderr,
			"homa-perf cluster: option out of range (hosts 2..%d, load "
			"(0,1.5], priorities 1..8)\n",
			MAX_HOSTS);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------- utilities */

/* snprintf for paths: a path too long for PATH_MAX becomes "" (open fails). */
static void pathf(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void pathf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len)
		buf[0] = 0;
}

static int mkdirs(const char *path)
{
	char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(buf, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

static int sample_push(struct sample_set *s, uint32_t len, uint64_t rtt)
{
	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 4096;
		struct sample *nv = realloc(s->v, ncap * sizeof(*nv));

		if (!nv)
			return -1;
		s->v = nv;
		s->cap = ncap;
	}
	s->v[s->n++] = (struct sample){len, rtt};
	return 0;
}

/* Appends the "length rtt_ns" lines of a file; a missing file adds nothing. */
static int read_samples(const char *path, struct sample_set *s)
{
	FILE *f = fopen(path, "r");
	unsigned long len;
	unsigned long long rtt;

	if (!f)
		return 0;
	while (fscanf(f, "%lu %llu", &len, &rtt) == 2)
		if (sample_push(s, (uint32_t)len, rtt) != 0) {
			fclose(f);
			return -1;
		}
	fclose(f);
	return 0;
}

/* Reads a whole small text file into a static buffer ("" when absent). */
static const char *slurp(const char *path)
{
	static char buf[65536];
	FILE *f = fopen(path, "r");
	size_t n = 0;

	buf[0] = 0;
	if (!f)
		return buf;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

/* The number after "key": in a flat JSON text, or dflt. */
static double json_num(const char *text, const char *key, double dflt)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(text, pat);
	if (!p)
		return dflt;
	p += strlen(pat);
	if (!strncmp(p, "true", 4))
		return 1;
	if (!strncmp(p, "false", 5))
		return 0;
	return strtod(p, NULL);
}

/*
 * Adds the numbers of the JSON array after "key": to sum[]; returns how many
 * it found (at most max), 0 when absent.
 */
static int json_add_array(const char *text, const char *key, uint64_t *sum, int max)
{
	char pat[64];
	const char *p;
	int n = 0;

	snprintf(pat, sizeof(pat), "\"%s\":[", key);
	p = strstr(text, pat);
	if (!p)
		return 0;
	p += strlen(pat);
	while (n < max && *p && *p != ']') {
		char *end;
		unsigned long long v = strtoull(p, &end, 10);

		if (end == p)
			break;
		sum[n++] += v;
		p = end;
		if (*p == ',')
			p++;
	}
	return n;
}

static int cmp_sample_len(const void *a, const void *b)
{
	const struct sample *x = a, *y = b;

	return x->len < y->len ? -1 : x->len > y->len;
}

/* Index of the workload point holding len, or -1. */
static int point_of(const struct homa_workload *w, uint32_t len)
{
	int lo = 0, hi = (int)w->n - 1;

	while (lo <= hi) {
		int mid = (lo + hi) / 2;

		if (w->lengths[mid] == len)
			return mid;
		if (w->lengths[mid] < len)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

/* ------------------------------------------------------------ experiment */

/* Where scripts/cluster lives: $HOMA_CLUSTER_SCRIPTS, else next to this source. */
static void script_dir(char *buf, size_t len)
{
	const char *env = getenv("HOMA_CLUSTER_SCRIPTS");
	char src[PATH_MAX];

	if (env && *env) {
		snprintf(buf, len, "%s", env);
		return;
	}
	/* CMake compiles with absolute source paths, so __FILE__ locates the tree. */
	snprintf(src, sizeof(src), "%s", __FILE__);
	pathf(buf, len, "%s/../scripts/cluster", dirname(src));
}

/*
 * Unloaded pass: every distinct length for long enough to complete
 * unloaded_rpcs of them one after another at line rate, at least 30 ms.
 */
static int write_lengths(const struct cluster_opts *o, const struct homa_workload *w,
			 const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	/*
	 * --unloaded-lengths N measures only N lengths spread evenly over the
	 * distribution's points (always the smallest and the largest); the
	 * others are interpolated (baselines()). For quick runs only.
	 */
	uint32_t step = o->max_lengths > 1 && (uint32_t)o->max_lengths < w->n
			    ? (w->n - 1 + (uint32_t)o->max_lengths - 2) /
				  ((uint32_t)o->max_lengths - 1)
			    : 1;

	for (uint32_t i = 0; i < w->n; i++) {
		if (i % step != 0 && i != w->n - 1)
			continue;
		double wire_s = (double)w->lengths[i] * 8 / (o->link_mbps * 1e6);
		double secs = 0.03 + o->unloaded_rpcs * (wire_s * 1.5 + 100e-6);

		fprintf(f, "%u %.3f\n", w->lengths[i], secs);
	}
	return fclose(f);
}

/*
 * The 1-minute load average: the testbed shares two cores with whatever else
 * runs on the machine, and the results say how busy it was.
 */
static double loadavg1(void)
{
	FILE *f = fopen("/proc/loadavg", "r");
	double v = -1;

	if (f) {
		if (fscanf(f, "%lf", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static pid_t child_pid;

static void forward_signal(int sig)
{
	if (child_pid > 0)
		kill(child_pid, sig);
}

static int run_script(const struct cluster_opts *o, const char *run_dir,
		      const char *lengths)
{
	char dir[PATH_MAX], script[PATH_MAX + 16], exe[PATH_MAX], v[64];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	int status;

	if (n <= 0)
		return -1;
	exe[n] = 0;
	script_dir(dir, sizeof(dir));
	pathf(script, sizeof(script), "%s/cluster.sh", dir);
	if (access(script, R_OK) != 0) {
		fprintf(stderr,
			"homa-perf cluster: cannot find %s (set HOMA_CLUSTER_SCRIPTS)\n",
			script);
		return -1;
	}
	setenv("PERF", exe, 1);
	setenv("RUN_DIR", run_dir, 1);
	setenv("LENGTHS", lengths, 1);
	setenv("WORKLOAD", o->workload, 1);
	setenv("PROTOCOLS", o->protocols, 1);
	snprintf(v, sizeof(v), "%d", o->hosts);
	setenv("HOSTS", v, 1);
	snprintf(v, sizeof(v), "%d", o->link_mbps);
	setenv("LINK_MBPS", v, 1);
	snprintf(v, sizeof(v), "%d", o->priorities);
	setenv("PRIORITIES", v, 1);
	snprintf(v, sizeof(v), "%d", o->queue_kb);
	setenv("QUEUE_KB", v, 1);
	/* Offered load per client: F x link rate, in message bytes. */
	snprintf(v, sizeof(v), "%.6f", o->load * o->link_mbps / 1000.0);
	setenv("GBPS", v, 1);
	snprintf(v, sizeof(v), "%g", o->seconds);
	setenv("SECONDS", v, 1);
	snprintf(v, sizeof(v), "%g", o->warmup);
	setenv("WARMUP", v, 1);
	snprintf(v, sizeof(v), "%g", o->cooldown);
	setenv("COOLDOWN", v, 1);
	snprintf(v, sizeof(v), "%llu", (unsigned long long)o->seed);
	setenv("SEED", v, 1);
	snprintf(v, sizeof(v), "%d", o->tcp_conns);
	setenv("TCP_CONNS", v, 1);

	child_pid = fork();
	if (child_pid < 0)
		return -1;
	if (child_pid == 0) {
		execlp("bash", "bash", script, (char *)NULL);
		perror("homa-perf cluster: bash");
		_exit(127);
	}
	/*
	 * INT and TERM are passed on to the script, whose trap tears the
	 * testbed down; we wait for that instead of dying first.
	 */
	signal(SIGINT, forward_signal);
	signal(SIGTERM, forward_signal);
	while (waitpid(child_pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* -------------------------------------------------------------- analysis */

/* Median unloaded round trip per workload point, from unloaded.samples. */
static int load_unloaded(struct proto_result *r, const struct homa_workload *w,
			 const char *dir)
{
	char path[PATH_MAX];
	struct sample_set u = {0};

	pathf(path, sizeof(path), "%s/unloaded.samples", dir);
	if (read_samples(path, &u) != 0)
		return -1;
	r->unloaded = calloc(w->n, sizeof(double));
	double *tmp = malloc((u.n + 1) * sizeof(double));

	if (!r->unloaded || !tmp) {
		free(tmp);
		free(u.v);
		return -1;
	}
	qsort(u.v, u.n, sizeof(*u.v), cmp_sample_len);
	for (size_t i = 0; i < u.n;) {
		size_t j = i, k = 0;

		while (j < u.n && u.v[j].len == u.v[i].len)
			tmp[k++] = (double)u.v[j++].rtt_ns;
		int p = point_of(w, u.v[i].len);

		if (p >= 0)
			r->unloaded[p] = homa_percentile(tmp, k, 50.0);
		i = j;
	}
	free(tmp);
	free(u.v);
	return 0;
}

/*
 * Slowdown denominators per workload point: the smallest protocol median;
 * points nobody measured take the nearest measured neighbour's value scaled
 * linearly between its neighbours (interpolation over length).
 */
static double *baselines(struct proto_result *pr, int np, const struct homa_workload *w)
{
	double *b = calloc(w->n, sizeof(double));

	if (!b)
		return NULL;
	for (uint32_t i = 0; i < w->n; i++)
		for (int p = 0; p < np; p++)
			if (pr[p].present && pr[p].unloaded[i] > 0 &&
			    (b[i] == 0 || pr[p].unloaded[i] < b[i]))
				b[i] = pr[p].unloaded[i];
	for (uint32_t i = 0; i < w->n; i++) {
		if (b[i] > 0)
			continue;
		int lo = (int)i - 1, hi = (int)i + 1;

		while (lo >= 0 && b[lo] == 0)
			lo--;
		while (hi < (int)w->n && b[hi] == 0)
			hi++;
		if (lo >= 0 && hi < (int)w->n)
			b[i] = b[lo] + (b[hi] - b[lo]) *
					   (w->lengths[i] - w->lengths[lo]) /
					   (double)(w->lengths[hi] - w->lengths[lo]);
		else if (lo >= 0)
			b[i] = b[lo];
		else if (hi < (int)w->n)
			b[i] = b[hi];
	}
	return b;
}

/* Percentiles of slowdown and round trip over samples with len in (lo, hi]. */
static void stats_range(const struct proto_result *r, uint32_t lo, uint32_t hi,
			struct bucket_stats *st)
{
	double *sd = malloc((r->s.n + 1) * sizeof(double));
	double *us = malloc((r->s.n + 1) * sizeof(double));
	size_t k = 0;

	memset(st, 0, sizeof(*st));
	if (!sd || !us) {
		free(sd);
		free(us);
		return;
	}
	for (size_t i = 0; i < r->s.n; i++) {
		uint32_t len = r->s.v[i].len;

		if (len <= lo || len > hi || isnan(r->slowdown[i]))
			continue;
		sd[k] = r->slowdown[i];
		us[k] = (double)r->s.v[i].rtt_ns / 1000.0;
		k++;
	}
	st->count = k;
	if (k) {
		st->p50_sd = homa_percentile(sd, k, 50.0);
		st->p99_sd = homa_percentile(sd, k, 99.0);
		st->p50_us = homa_percentile(us, k, 50.0);
		st->p99_us = homa_percentile(us, k, 99.0);
	}
	free(sd);
	free(us);
}

/*
 * About ten buckets holding ~10% of the messages each, cut at distinct
 * lengths of all protocols' samples together (so every protocol uses the
 * same buckets). A length holding more than 10% makes a bucket of its own.
 */
static int make_buckets(struct proto_result *pr, int np, struct bucket *b)
{
	size_t total = 0, done = 0;
	int nb = 0;
	struct sample_set all = {0};

	for (int p = 0; p < np; p++)
		for (size_t i = 0; pr[p].present && i < pr[p].s.n; i++)
			if (sample_push(&all, pr[p].s.v[i].len, 0) != 0)
				return -1;
	total = all.n;
	if (!total) {
		free(all.v);
		return 0;
	}
	qsort(all.v, all.n, sizeof(*all.v), cmp_sample_len);
	for (size_t i = 0; i < all.n;) {
		size_t j = i;

		while (j < all.n && all.v[j].len == all.v[i].len)
			j++;
		done = j;
		double frac = (double)done / (double)total;

		if (j == all.n || frac >= (nb + 1) / (double)MAX_BUCKETS - 1e-9) {
			b[nb].max_length = all.v[i].len;
			b[nb].cum_fraction = frac;
			nb++;
		}
		i = j;
	}
	free(all.v);
	return nb;
}

static void analyze_proto(const struct cluster_opts *o, struct proto_result *r,
			  const struct homa_workload *w, const double *base,
			  const char *dir)
{
	char path[PATH_MAX];
	double sum = 0;
	size_t n = 0;

	for (int h = 1; h <= o->hosts; h++) {
		pathf(path, sizeof(path), "%s/h%d.samples", dir, h);
		read_samples(path, &r->s);
		pathf(path, sizeof(path), "%s/h%d.json", dir, h);
		const char *j = slurp(path);

		r->rpcs += (uint64_t)json_num(j, "rpcs", 0);
		r->sent += (uint64_t)json_num(j, "sent", 0);
		r->errors += (uint64_t)json_num(j, "errors", 0);
		r->other_errors += (uint64_t)json_num(j, "other_errors", 0);
		r->cap_hits += (uint64_t)json_num(j, "cap_hits", 0);
		r->achieved_gbps += json_num(j, "req_gbps", 0);
		r->started_gbps += json_num(j, "window_gbps", 0);
		r->unfinished += (uint64_t)json_num(j, "unfinished", 0);
		r->unfinished_bytes += (uint64_t)json_num(j, "unfinished_bytes", 0);
		r->window_bytes += (uint64_t)json_num(j, "window_bytes", 0);
		{
			int nd =
			    json_add_array(j, "done_bytes_by_s", r->done_by, DONE_BY_MAX);

			if (h == 1 || nd < r->done_n)
				r->done_n = nd;
		}
		pathf(path, sizeof(path), "%s/h%d.rc", dir, h);
		if (atoi(slurp(path)) != 0 || json_num(j, "stalled", 0) != 0)
			r->failed_clients++;
	}
	pathf(path, sizeof(path), "%s/switch_drops", dir);
	r->drops = strtoull(slurp(path), NULL, 10);
	r->slowdown = malloc((r->s.n + 1) * sizeof(double));
	if (!r->slowdown)
		return;
	for (size_t i = 0; i < r->s.n; i++) {
		int p = point_of(w, r->s.v[i].len);
		double d = p >= 0 ? base[p] : 0;

		r->slowdown[i] = d > 0 ? (double)r->s.v[i].rtt_ns / d : NAN;
		if (d > 0) {
			sum += r->slowdown[i];
			n++;
		}
	}
	r->avg_slowdown = n ? sum / (double)n : 0;
}

/* The length below which the smallest 10% of all messages (by count) lie. */
static uint32_t short_limit(struct proto_result *pr, int np)
{
	struct sample_set all = {0};
	uint32_t lim = 0;

	for (int p = 0; p < np; p++)
		for (size_t i = 0; pr[p].present && i < pr[p].s.n; i++)
			if (sample_push(&all, pr[p].s.v[i].len, 0) != 0)
				break;
	if (all.n) {
		qsort(all.v, all.n, sizeof(*all.v), cmp_sample_len);
		lim = all.v[(all.n - 1) / 10].len;
	}
	free(all.v);
	return lim;
}

/* ---------------------------------------------------------------- output */

static void run_name(const struct cluster_opts *o, char *buf, size_t len)
{
	if (o->name)
		snprintf(buf, len, "%s", o->name);
	else
		snprintf(buf, len, "%s_load%02d_p%d", o->workload,
			 (int)lround(o->load * 100), o->priorities);
}

static double offered_gbps(const struct cluster_opts *o)
{
	return o->load * o->link_mbps / 1000.0 * o->hosts;
}

/*
 * The fraction of the offered load delivered: by-issue counting divides by
 * what the Poisson draws actually started in the window (the same for every
 * protocol, same seeds), otherwise by the nominal offered rate.
 */
static double sustained(const struct cluster_opts *o, const struct proto_result *r)
{
	return r->achieved_gbps /
	       (r->started_gbps > 0 ? r->started_gbps : offered_gbps(o));
}

/* The fraction of the window's request bytes delivered by its end + k s. */
static double delivered_by(const struct proto_result *r, int k)
{
	if (k >= r->done_n)
		k = r->done_n - 1;
	return k >= 0 && r->window_bytes ? (double)r->done_by[k] / (double)r->window_bytes
					 : 0;
}

static void write_json(FILE *f, const struct cluster_opts *o, const char *run,
		       struct proto_result *pr, int np, const struct bucket *b, int nb,
		       uint32_t shortlen)
{
	double cap = o->link_mbps / 1000.0 * o->hosts;
	int hi = -1, ti = -1;

	fprintf(f,
		"{\"run\":\"%s\",\"workload\":\"%s\",\"hosts\":%d,\"link_mbps\":%d,"
		"\"priorities\":%d,\"queue_kb\":%d,\"load\":%.3f,\"seconds\":%g,",
		run, o->workload, o->hosts, o->link_mbps, o->priorities, o->queue_kb,
		o->load, o->seconds);
	fprintf(f,
		"\"warmup\":%g,\"cooldown\":%g,\"seed\":%llu,\"tcp_conns\":%d,\"loadavg_"
		"before\":%.2f,"
		"\"loadavg_after\":%.2f,",
		o->warmup, o->cooldown, (unsigned long long)o->seed, o->tcp_conns,
		o->loadavg[0], o->loadavg[1]);
	fprintf(
	    f,
	    "\"unloaded\":\"median of ~%d one-at-a-time RPCs per length, smallest over "
	    "protocols\",\"short_max_length\":%u,\"protocols\":{",
	    o->unloaded_rpcs, shortlen);
	for (int p = 0, first = 1; p < np; p++) {
		const struct proto_result *r = &pr[p];

		if (!r->present)
			continue;
		if (!strcmp(r->name, "homa"))
			hi = p;
		if (!strcmp(r->name, "tcp"))
			ti = p;
		fprintf(
		    f,
		    "%s\"%s\":{\"offered_load\":%.4f,\"achieved_load\":%.4f,"
		    "\"sustained_fraction\":%.4f,\"offered_gbps\":%.4f,\"started_gbps\":"
		    "%.4f,\"achieved_gbps\":%.4f,\"unfinished\":%llu,"
		    "\"unfinished_bytes\":%llu,"
		    "\"rpcs\":%llu,\"sent\":%llu,\"errors\":%llu,\"other_errors\":%llu,"
		    "\"cap_hits\":%llu,"
		    "\"failed_clients\":%d,\"switch_drops\":%llu,\"avg_slowdown\":%.3f,"
		    "\"short_count\":%zu,\"short_p50_slowdown\":%.3f,"
		    "\"short_p99_slowdown\":%.3f,\"short_p50_rtt_us\":%.1f,"
		    "\"short_p99_rtt_us\":%.1f,\"delivered_by_s\":[",
		    first ? "" : ",", r->name, o->load, r->achieved_gbps / cap,
		    sustained(o, r), offered_gbps(o), r->started_gbps, r->achieved_gbps,
		    (unsigned long long)r->unfinished,
		    (unsigned long long)r->unfinished_bytes, (unsigned long long)r->rpcs,
		    (unsigned long long)r->sent, (unsigned long long)r->errors,
		    (unsigned long long)r->other_errors, (unsigned long long)r->cap_hits,
		    r->failed_clients, (unsigned long long)r->drops, r->avg_slowdown,
		    r->shorts.count, r->shorts.p50_sd, r->shorts.p99_sd, r->shorts.p50_us,
		    r->shorts.p99_us);
		for (int k = 0; k < r->done_n; k++)
			fprintf(f, "%s%.4f", k ? "," : "", delivered_by(r, k));
		fprintf(f, "],\"buckets\":[");
		for (int k = 0; k < nb; k++)
			fprintf(
			    f,
			    "%s{\"max_length\":%u,\"cum_fraction\":%.4f,\"count\":%zu,"
			    "\"p50_slowdown\":%.3f,\"p99_slowdown\":%.3f,\"p50_rtt_us\":%"
			    ".1f,"
			    "\"p99_rtt_us\":%.1f}",
			    k ? "," : "", b[k].max_length, b[k].cum_fraction,
			    r->b[k].count, r->b[k].p50_sd, r->b[k].p99_sd, r->b[k].p50_us,
			    r->b[k].p99_us);
		fprintf(f, "]}");
		first = 0;
	}
	fprintf(f, "}");
	if (hi >= 0 && ti >= 0) {
		const struct proto_result *h = &pr[hi], *t = &pr[ti];
		double r1 =
		    t->shorts.p99_sd > 0 ? h->shorts.p99_sd / t->shorts.p99_sd : 0;

		fprintf(f,
			",\"targets\":{\"short_p99_ratio\":%.4f,\"short_p99_ok\":%s,"
			"\"avg_slowdown_ok\":%s,\"load_ok\":%s}",
			r1, r1 > 0 && r1 <= 0.1 ? "true" : "false",
			h->avg_slowdown > 0 && h->avg_slowdown < t->avg_slowdown
			    ? "true"
			    : "false",
			sustained(o, h) >= sustained(o, t) * 0.99 ? "true" : "false");
	}
	fprintf(f, "}\n");
}

static void write_data(FILE *f, const struct cluster_opts *o, struct proto_result *pr,
		       int np, const struct bucket *b, int nb)
{
	fprintf(
	    f,
	    "# homa-perf cluster: workload %s, %d hosts, %d Mbit/s, %d priority "
	    "queue(s), load %.2f, %g s, seed %llu\n"
	    "# slowdown = RTT / unloaded RTT of the same length (median, smallest over "
	    "protocols)\n# max_length cum_fraction",
	    o->workload, o->hosts, o->link_mbps, o->priorities, o->load, o->seconds,
	    (unsigned long long)o->seed);
	for (int p = 0; p < np; p++)
		if (pr[p].present)
			fprintf(f, " %s_count %s_p50_sd %s_p99_sd %s_p50_us %s_p99_us",
				pr[p].name, pr[p].name, pr[p].name, pr[p].name,
				pr[p].name);
	fprintf(f, "\n");
	for (int k = 0; k < nb; k++) {
		fprintf(f, "%u %.4f", b[k].max_length, b[k].cum_fraction);
		for (int p = 0; p < np; p++)
			if (pr[p].present)
				fprintf(f, " %zu %.3f %.3f %.1f %.1f", pr[p].b[k].count,
					pr[p].b[k].p50_sd, pr[p].b[k].p99_sd,
					pr[p].b[k].p50_us, pr[p].b[k].p99_us);
		fprintf(f, "\n");
	}
}

/* A gnuplot script (kept next to the data so the plot can be redone). */
static int write_plot(const char *out, const char *run, const struct cluster_opts *o,
		      struct proto_result *pr, int np, const struct bucket *b, int nb)
{
	char path[PATH_MAX], cmd[PATH_MAX * 2 + 64];
	FILE *f;
	int col = 3, first = 1;
	/* Homa red, TCP blue, on every plot. */
	static const char *colors[] = {"#d62728", "#1f77b4"};

	pathf(path, sizeof(path), "%s/%s.gp", out, run);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f,
		"# gnuplot %s.gp (from %s/) redraws %s.png from %s.data\n"
		"set terminal pngcairo size 900,520 font ',11'\n"
		"set output '%s.png'\n"
		"set title 'Slowdown, %s, %d hosts, %d Mbit/s, load %.0f%%, %d priority "
		"queue(s)'\n"
		"set logscale y\nset grid ytics mytics xtics\n"
		"set xlabel 'cumulative fraction of messages, 0 to 1 (ticks: largest "
		"length of "
		"each 10%% bucket)'\n"
		"set ylabel 'slowdown (RTT / unloaded RTT)'\nset xrange [0:1]\n"
		"set key top left\nset xtics rotate by -45 font ',9' (",
		run, out, run, run, run, o->workload, o->hosts, o->link_mbps,
		o->load * 100, o->priorities);
	for (int k = 0; k < nb; k++)
		fprintf(f, "%s\"%u B\" %.4f", k ? ", " : "", b[k].max_length,
			b[k].cum_fraction);
	fprintf(f, ")\nplot ");
	for (int p = 0; p < np; p++) {
		const char *color = colors[strcmp(pr[p].name, "homa") ? 1 : 0];

		if (!pr[p].present)
			continue; /* absent protocols have no columns in the .data */
		fprintf(
		    f,
		    "%s'%s.data' using 2:%d with linespoints lw 2 pt 7 lc rgb '%s' dt 2 "
		    "title '%s P50', \\\n     '%s.data' using 2:%d with linespoints lw 2 "
		    "pt 5 lc rgb '%s' title '%s P99'",
		    first ? "" : ", \\\n     ", run, col + 1, color, pr[p].name, run,
		    col + 2, color, pr[p].name);
		first = 0;
		col += 5;
	}
	fprintf(f, "\n");
	fclose(f);
	if (first)
		return 0;
	pathf(cmd, sizeof(cmd), "cd '%s' && gnuplot '%s.gp' 2>/dev/null", out, run);
	if (system(cmd) != 0)
		fprintf(stderr, "homa-perf cluster: gnuplot failed (plot script %s)\n",
			path);
	return 0;
}

static void print_text(const struct cluster_opts *o, const char *run,
		       struct proto_result *pr, int np, const struct bucket *b, int nb,
		       uint32_t shortlen)
{
	printf("cluster %s: %s, %d hosts, %d Mbit/s, %d priority queue(s), load %.0f%%, "
	       "%g s per protocol\n",
	       run, o->workload, o->hosts, o->link_mbps, o->priorities, o->load * 100,
	       o->seconds);
	for (int p = 0; p < np; p++) {
		const struct proto_result *r = &pr[p];

		if (!r->present)
			continue;
		printf("%s: %llu RPCs, offered %.3f Gbit/s (started %.3f), achieved %.3f "
		       "Gbit/s (%.1f%%, %llu unfinished), "
		       "avg slowdown %.2f, short (<= %u B) slowdown P50 %.2f P99 %.2f, "
		       "switch drops %llu%s\n",
		       r->name, (unsigned long long)r->rpcs, offered_gbps(o),
		       r->started_gbps, r->achieved_gbps, 100 * sustained(o, r),
		       (unsigned long long)r->unfinished, r->avg_slowdown, shortlen,
		       r->shorts.p50_sd, r->shorts.p99_sd, (unsigned long long)r->drops,
		       r->failed_clients ? "  (some clients failed)" : "");
		if (r->done_n > 1)
			printf(
			    "  window bytes delivered by its end: %.1f%%, +1 s: %.1f%%, "
			    "+2 s: %.1f%%, +%d s (end): %.1f%%\n",
			    100 * delivered_by(r, 0), 100 * delivered_by(r, 1),
			    100 * delivered_by(r, 2), r->done_n - 1,
			    100 * delivered_by(r, r->done_n - 1));
		printf("  %10s %6s %8s %9s %9s %10s %10s\n", "max_len", "cum", "count",
		       "P50 sd", "P99 sd", "P50 us", "P99 us");
		for (int k = 0; k < nb; k++)
			printf("  %10u %6.3f %8zu %9.2f %9.2f %10.1f %10.1f\n",
			       b[k].max_length, b[k].cum_fraction, r->b[k].count,
			       r->b[k].p50_sd, r->b[k].p99_sd, r->b[k].p50_us,
			       r->b[k].p99_us);
	}
}

static int write_unloaded(const char *path, const struct homa_workload *w,
			  struct proto_result *pr, int np, const double *base)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fprintf(f, "# length baseline_us");
	for (int p = 0; p < np; p++)
		if (pr[p].present)
			fprintf(f, " %s_median_us", pr[p].name);
	fprintf(f, "   (0: not measured)\n");
	for (uint32_t i = 0; i < w->n; i++) {
		fprintf(f, "%u %.1f", w->lengths[i], base[i] / 1000);
		for (int p = 0; p < np; p++)
			if (pr[p].present)
				fprintf(f, " %.1f", pr[p].unloaded[i] / 1000);
		fprintf(f, "\n");
	}
	return fclose(f);
}

/* ------------------------------------------------------------------ main */

int perf_cluster_main(int argc, char **argv)
{
	struct cluster_opts o;
	struct homa_workload w;
	struct proto_result pr[MAX_PROTOS];
	struct bucket b[MAX_BUCKETS + 2];
	char run[128], run_dir[PATH_MAX], path[PATH_MAX], err[256], protos[64];
	int np = 0, nb, rc = 0, any = 0;
	double *base;
	uint32_t shortlen;

	rc = parse_opts(&o, argc, argv);
	if (rc != 0)
		return rc > 0 ? 0 : 2;
	if (!o.keep && geteuid() != 0) {
		fprintf(stderr,
			"homa-perf cluster: needs root (it builds network "
			"namespaces, veth pairs and tc queues); run it with sudo\n");
		return 2;
	}
	if (homa_workload_load(&w, o.workload, NULL, err, sizeof(err)) != 0) {
		fprintf(stderr, "homa-perf cluster: %s\n", err);
		return 2;
	}
	memset(pr, 0, sizeof(pr));
	snprintf(protos, sizeof(protos), "%s", o.protocols);
	for (char *save = NULL, *t = strtok_r(protos, ",", &save); t && np < MAX_PROTOS;
	     t = strtok_r(NULL, ",", &save)) {
		if (strcmp(t, "homa") && strcmp(t, "tcp")) {
			fprintf(stderr, "homa-perf cluster: protocol %s: homa or tcp\n",
				t);
			homa_workload_free(&w);
			return 2;
		}
		snprintf(pr[np++].name, sizeof(pr[0].name), "%s", t);
	}
	run_name(&o, run, sizeof(run));
	pathf(run_dir, sizeof(run_dir), "%s/tmp/%s", o.out, run);
	if (mkdirs(run_dir) != 0) {
		fprintf(stderr, "homa-perf cluster: %s: %s\n", run_dir, strerror(errno));
		homa_workload_free(&w);
		return 2;
	}
	if (!o.keep) {
		pathf(path, sizeof(path), "%s/lengths.txt", run_dir);
		if (write_lengths(&o, &w, path) != 0) {
			homa_workload_free(&w);
			return 2;
		}
		o.loadavg[0] = loadavg1();
		rc = run_script(&o, run_dir, path);
		o.loadavg[1] = loadavg1();
		if (rc != 0) {
			fprintf(stderr,
				"homa-perf cluster: experiment failed (exit %d)\n", rc);
			homa_workload_free(&w);
			return rc == 2 || rc == 3 ? rc : 1;
		}
	}

	for (int p = 0; p < np; p++) {
		pathf(path, sizeof(path), "%s/%s", run_dir, pr[p].name);
		pr[p].present = access(path, F_OK) == 0;
		if (pr[p].present && load_unloaded(&pr[p], &w, path) != 0)
			pr[p].present = 0;
	}
	base = baselines(pr, np, &w);
	for (int p = 0; base && p < np; p++) {
		if (!pr[p].present)
			continue;
		pathf(path, sizeof(path), "%s/%s", run_dir, pr[p].name);
		analyze_proto(&o, &pr[p], &w, base, path);
	}
	nb = make_buckets(pr, np, b);
	shortlen = short_limit(pr, np);
	for (int p = 0; p < np; p++) {
		if (!pr[p].present)
			continue;
		for (int k = 0; k < nb; k++)
			stats_range(&pr[p], k ? b[k - 1].max_length : 0, b[k].max_length,
				    &pr[p].b[k]);
		stats_range(&pr[p], 0, shortlen, &pr[p].shorts);
		any |= pr[p].rpcs > 0;
	}

	pathf(path, sizeof(path), "%s/%s.data", o.out, run);
	FILE *f = fopen(path, "w");

	if (f) {
		write_data(f, &o, pr, np, b, nb);
		fclose(f);
	}
	pathf(path, sizeof(path), "%s/%s.json", o.out, run);
	f = fopen(path, "w");
	if (f) {
		write_json(f, &o, run, pr, np, b, nb, shortlen);
		fclose(f);
	}
	pathf(path, sizeof(path), "%s/%s.unloaded.data", o.out, run);
	if (base)
		write_unloaded(path, &w, pr, np, base);
	write_plot(o.out, run, &o, pr, np, b, nb);
	if (o.json)
		write_json(stdout, &o, run, pr, np, b, nb, shortlen);
	else
		print_text(&o, run, pr, np, b, nb, shortlen);

	for (int p = 0; p < np; p++) {
		free(pr[p].s.v);
		free(pr[p].slowdown);
		free(pr[p].unloaded);
	}
	free(base);
	homa_workload_free(&w);
	return any ? 0 : 1;
}
