/* perf_opts.c - one option table for every homa-perf mode. */
#define _GNU_SOURCE
#include "perf_opts.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	O_SERVER = 256,
	O_PORT,
	O_THREADS,
	O_PROTOCOL,
	O_PROTOCOLS,
	O_WORKLOAD,
	O_GBPS,
	O_CLIENT_MAX,
	O_SECONDS,
	O_WARMUP,
	O_COOLDOWN,
	O_ONE_WAY,
	O_RESPONSE,
	O_SEED,
	O_SAMPLES,
	O_JSON,
	O_TCP_CONNS,
	O_LENGTH,
	O_COUNT,
	O_OUTSTANDING,
	O_MAX_OUT,
	O_NO_POLL,
	O_CPU,
	O_READY_FD,
	O_SERVE_PORT,
	O_START_DELAY,
	O_QUIET,
	O_STATS,
	O_HELP,
};

static const struct option long_opts[] = {
    {"server", required_argument, NULL, O_SERVER},
    {"port", required_argument, NULL, O_PORT},
    {"threads", required_argument, NULL, O_THREADS},
    {"protocol", required_argument, NULL, O_PROTOCOL},
    {"protocols", required_argument, NULL, O_PROTOCOLS},
    {"workload", required_argument, NULL, O_WORKLOAD},
    {"gbps", required_argument, NULL, O_GBPS},
    {"client-max", required_argument, NULL, O_CLIENT_MAX},
    {"seconds", required_argument, NULL, O_SECONDS},
    {"warmup", required_argument, NULL, O_WARMUP},
    {"cooldown", required_argument, NULL, O_COOLDOWN},
    {"one-way", no_argument, NULL, O_ONE_WAY},
    {"response-bytes", required_argument, NULL, O_RESPONSE},
    {"seed", required_argument, NULL, O_SEED},
    {"samples", required_argument, NULL, O_SAMPLES},
    {"json", no_argument, NULL, O_JSON},
    {"tcp-conns", required_argument, NULL, O_TCP_CONNS},
    {"length", required_argument, NULL, O_LENGTH},
    {"count", required_argument, NULL, O_COUNT},
    {"outstanding", required_argument, NULL, O_OUTSTANDING},
    {"max-outstanding", required_argument, NULL, O_MAX_OUT},
    {"no-poll", no_argument, NULL, O_NO_POLL},
    {"cpu", required_argument, NULL, O_CPU},
    {"ready-fd", required_argument, NULL, O_READY_FD},
    {"serve-port", required_argument, NULL, O_SERVE_PORT},
    {"start-delay", required_argument, NULL, O_START_DELAY},
    {"quiet", no_argument, NULL, O_QUIET},
    {"stats", no_argument, NULL, O_STATS},
    {"help", no_argument, NULL, O_HELP},
    {NULL, 0, NULL, 0},
};

static const char *const proto_names[PERF_NPROTO] = {"homa", "tcp", "udp"};

const char *perf_proto_name(enum perf_proto p)
{
	return (unsigned)p < PERF_NPROTO ? proto_names[p] : "?";
}

int perf_proto_parse(const char *s, enum perf_proto *p)
{
	for (int i = 0; i < PERF_NPROTO; i++) {
		if (strcmp(s, proto_names[i]) == 0) {
			*p = (enum perf_proto)i;
			return 0;
		}
	}
	return -1;
}

void perf_opts_default(struct perf_opts *o)
{
	const char *env = getenv("HOMA_POLL_USECS");

	memset(o, 0, sizeof(*o));
	o->poll = !(env && strtol(env, NULL, 10) == 0);
	o->cpu = -1;
	o->port = 4000;
	o->threads = 1;
	o->protos = (1u << PERF_HOMA) | (1u << PERF_TCP) | (1u << PERF_UDP);
	o->ready_fd = -1;
	o->proto = PERF_HOMA;
	o->workload = "w4";
	o->seconds = 10;
	o->response_bytes = -1;
	o->seed = 1;
	o->tcp_conns = 1;
	o->length = 100;
	o->count = 100000;
	o->outstanding = 4;
	o->max_outstanding = 10000;
	o->warmup = -1;
	o->progress = 1;
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Parses an unsigned integer in [lo, hi]; returns 0 or -1. */
static int parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int parse_double(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= lo && v <= hi))
		return -1;
	*out = v;
	return 0;
}

static int parse_servers(struct perf_opts *o, const char *list, char *err, size_t errlen)
{
	char buf[4096], *save = NULL, *tok;

	if (strlen(list) >= sizeof(buf))
		return fail(err, errlen, "--server: list too long");
	snprintf(buf, sizeof(buf), "%s", list);
	o->nservers = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (o->nservers == PERF_MAX_SERVERS)
			return fail(err, errlen, "--server: at most %d servers",
				    PERF_MAX_SERVERS);
		if (perf_addr_parse(&o->servers[o->nservers], tok) != 0)
			return fail(err, errlen, "--server: bad HOST:PORT '%s'", tok);
		o->nservers++;
	}
	return o->nservers ? 0 : fail(err, errlen, "--server: empty list");
}

static int parse_protos(struct perf_opts *o, const char *list, char *err, size_t errlen)
{
	char buf[64], *save = NULL, *tok;
	enum perf_proto p;

	snprintf(buf, sizeof(buf), "%s", list);
	o->protos = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (perf_proto_parse(tok, &p) != 0)
			return fail(err, errlen, "--protocols: unknown '%s'", tok);
		o->protos |= 1u << p;
	}
	return o->protos ? 0 : fail(err, errlen, "--protocols: empty list");
}

/* Numeric options: one table row each, range-checked the same way. */
static int parse_number(struct perf_opts *o, int c, const char *arg)
{
	uint64_t v = 0;

	switch (c) {
	case O_PORT:
		return parse_u64(arg, 1, 65534, &v) ? -1 : (o->port = (int)v, 0);
	case O_THREADS:
		return parse_u64(arg, 1, 64, &v) ? -1 : (o->threads = (int)v, 0);
	case O_CLIENT_MAX:
		return parse_u64(arg, 1, 1u << 20, &v) ? -1
						       : (o->client_max = (uint32_t)v, 0);
	case O_RESPONSE:
		return parse_u64(arg, 1, 1000000, &v)
			   ? -1
			   : (o->response_bytes = (int64_t)v, 0);
	case O_SEED:
		return parse_u64(arg, 0, UINT64_MAX, &o->seed);
	case O_TCP_CONNS:
		return parse_u64(arg, 1, 256, &v) ? -1 : (o->tcp_conns = (int)v, 0);
	case O_LENGTH:
		return parse_u64(arg, 1, 1000000, &v) ? -1 : (o->length = (uint32_t)v, 0);
	case O_COUNT:
		return parse_u64(arg, 1, 1000000000, &o->count);
	case O_OUTSTANDING:
		return parse_u64(arg, 1, 1u << 20, &v)
			   ? -1
			   : (o->outstanding = (uint32_t)v, 0);
	case O_MAX_OUT:
		return parse_u64(arg, 1, 1u << 22, &v)
			   ? -1
			   : (o->max_outstanding = (uint32_t)v, 0);
	case O_CPU:
		return parse_u64(arg, 0, 1023, &v) ? -1 : (o->cpu = (int)v, 0);
	case O_READY_FD:
		return parse_u64(arg, 0, 1 << 20, &v) ? -1 : (o->ready_fd = (int)v, 0);
	case O_SERVE_PORT:
		return parse_u64(arg, 1, 32767, &v) ? -1 : (o->serve_port = (int)v, 0);
	case O_START_DELAY:
		return parse_double(arg, 0, 60, &o->start_delay);
	case O_GBPS:
		return parse_double(arg, 1e-6, 10000, &o->gbps);
	case O_SECONDS:
		return parse_double(arg, 0.001, 86400, &o->seconds);
	case O_WARMUP:
		return parse_double(arg, 0, 3600, &o->warmup);
	case O_COOLDOWN:
		return parse_double(arg, 0, 3600, &o->cooldown);
	}
	return -1;
}

static int parse_one(struct perf_opts *o, int c, const char *arg, char *err,
		     size_t errlen)
{
	switch (c) {
	case O_SERVER:
		return parse_servers(o, arg, err, errlen);
	case O_PROTOCOLS:
		return parse_protos(o, arg, err, errlen);
	case O_PROTOCOL:
		if (perf_proto_parse(arg, &o->proto) != 0)
			return fail(err, errlen, "--protocol: expected homa, tcp or udp");
		return 0;
	case O_WORKLOAD:
		o->workload = arg;
		return 0;
	case O_SAMPLES:
		o->samples = arg;
		return 0;
	case O_ONE_WAY:
		o->one_way = 1;
		return 0;
	case O_JSON:
		o->json = 1;
		return 0;
	case O_NO_POLL:
		o->poll = 0;
		return 0;
	case O_QUIET:
		o->progress = 0;
		return 0;
	case O_STATS:
		o->stats = 1;
		return 0;
	}
	return 1; /* not a flag or text option: try the numeric ones */
}

int perf_opts_parse(struct perf_opts *o, int argc, char **argv, char *err, size_t errlen)
{
	int c, idx;

	optind = 0; /* glibc: full reset, so tests can parse repeatedly */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", long_opts, &idx)) != -1) {
		if (c == 'h' || c == O_HELP)
			return 1;
		if (c == '?' || c == ':')
			return fail(err, errlen, "unknown or incomplete option '%s'",
				    argv[optind - 1]);
		int rc = parse_one(o, c, optarg, err, errlen);

		if (rc < 0)
			return -1;
		if (rc > 0 && parse_number(o, c, optarg) != 0)
			return fail(err, errlen, "--%s: bad value '%s'",
				    long_opts[idx].name, optarg);
	}
	if (optind < argc)
		return fail(err, errlen, "unexpected argument '%s'", argv[optind]);
	return 0;
}

void perf_opts_apply_env(const struct perf_opts *o)
{
	if (!o->poll)
		setenv("HOMA_POLL_USECS", "0", 1);
}
