/*
 * Tests of homa-perf's parts: options, framing, the TCP stream parser, the
 * statistics and the load loop (against a scripted in-memory transport, so
 * no sockets or timing luck are involved except where a rate is the point).
 */
#define _GNU_SOURCE
#include "homa_test.h"
#include "perf_frame.h"
#include "perf_load.h"
#include "perf_opts.h"
#include "perf_stream.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int parse(struct perf_opts *o, const char *line, char *err, size_t errlen)
{
	static char buf[512]; /* options point into it */
	char *argv[32], *save = NULL;
	int argc = 0;

	snprintf(buf, sizeof(buf), "%s", line);
	for (char *t = strtok_r(buf, " ", &save); t && argc < 31;
	     t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	argv[argc] = NULL;
	perf_opts_default(o);
	return perf_opts_parse(o, argc, argv, err, errlen);
}

/* ----------------------------------------------------------------- options */

static void test_opts__client_options(void **state)
{
	struct perf_opts o;
	char err[256];

	(void)state;
	assert_int_equal(
	    parse(&o,
		  "client --server 127.0.0.1:4000,localhost:4002 --protocol tcp "
		  "--workload w3 --gbps 2.5 --seconds 3 --one-way --seed 7 "
		  "--samples out.txt --json --tcp-conns 4",
		  err, sizeof(err)),
	    0);
	assert_int_equal(o.nservers, 2);
	assert_int_equal(perf_addr_port(&o.servers[1]), 4002);
	assert_int_equal(o.proto, PERF_TCP);
	assert_string_equal(o.workload, "w3");
	assert_true(o.gbps == 2.5 && o.seconds == 3);
	assert_int_equal(o.one_way, 1);
	assert_int_equal(o.seed, 7);
	assert_string_equal(o.samples, "out.txt");
	assert_int_equal(o.json, 1);
	assert_int_equal(o.tcp_conns, 4);
}

static void test_opts__defaults(void **state)
{
	struct perf_opts o;
	char err[256];

	(void)state;
	unsetenv("HOMA_POLL_USECS");
	assert_int_equal(parse(&o, "server", err, sizeof(err)), 0);
	assert_int_equal(o.poll, 1);
	assert_int_equal(o.threads, 1);
	assert_int_equal(o.protos, 7);
	assert_int_equal(o.response_bytes, -1);
	assert_true(o.warmup < 0);
}

static void test_opts__no_poll_from_flag_and_env(void **state)
{
	struct perf_opts o;
	char err[256];

	(void)state;
	assert_int_equal(
	    parse(&o, "server --no-poll --protocols tcp,udp", err, sizeof(err)), 0);
	assert_int_equal(o.poll, 0);
	assert_int_equal(o.protos, (1u << PERF_TCP) | (1u << PERF_UDP));
	setenv("HOMA_POLL_USECS", "0", 1);
	assert_int_equal(parse(&o, "server", err, sizeof(err)), 0);
	assert_int_equal(o.poll, 0);
	unsetenv("HOMA_POLL_USECS");
}

static void test_opts__rejects_bad_input(void **state)
{
	static const char *const bad[] = {
	    "client --port 0",
	    "client --port 70000",
	    "client --gbps 0",
	    "client --gbps x",
	    "client --protocol sctp",
	    "client --server nohost",
	    "client --server h:0",
	    "client --bogus",
	    "client --length 1000001",
	    "server --protocols quic",
	    "client stray",
	    "client --client-max -1",
	};
	struct perf_opts o;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(parse(&o, bad[i], err, sizeof(err)), -1);
		assert_true(err[0] != '\0');
	}
}

static void test_opts__help(void **state)
{
	struct perf_opts o;
	char err[256];

	(void)state;
	assert_int_equal(parse(&o, "rtt --help", err, sizeof(err)), 1);
}

/* ----------------------------------------------------------------- framing */

static void test_frame__round_trip(void **state)
{
	struct perf_hdr h = {
	    .len = 1000000, .resp_len = PERF_RESP_ECHO, .id = 0x123456789abcull};
	struct perf_hdr g;
	uint8_t b[PERF_HDR_LEN];

	(void)state;
	perf_hdr_put(b, &h);
	assert_int_equal(b[0], 0x40); /* little endian: 1000000 = 0x0f4240 */
	assert_int_equal(perf_hdr_get(b, sizeof(b), &g), 0);
	assert_int_equal(g.len, h.len);
	assert_int_equal(g.resp_len, h.resp_len);
	assert_true(g.id == h.id);
	assert_int_equal(perf_resp_len(&g), 1000000);
}

static void test_frame__rejects_bad_headers(void **state)
{
	struct perf_hdr h = {.len = 15, .resp_len = 0, .id = 1}, g;
	uint8_t b[PERF_HDR_LEN];

	(void)state;
	perf_hdr_put(b, &h);
	assert_int_equal(perf_hdr_get(b, sizeof(b), &g), -1);
	h.len = 1000001;
	perf_hdr_put(b, &h);
	assert_int_equal(perf_hdr_get(b, sizeof(b), &g), -1);
	h.len = 100;
	h.resp_len = 2000000;
	perf_hdr_put(b, &h);
	assert_int_equal(perf_hdr_get(b, sizeof(b), &g), -1);
	assert_int_equal(perf_hdr_get(b, PERF_HDR_LEN - 1, &g), -1);
}

static void test_frame__short_lengths_carry_the_header(void **state)
{
	struct perf_hdr h = {.len = 100, .resp_len = 3, .id = 1};

	(void)state;
	assert_int_equal(perf_wire_len(1), PERF_HDR_LEN);
	assert_int_equal(perf_wire_len(17), 17);
	assert_int_equal(perf_resp_len(&h), PERF_HDR_LEN);
}

/* ------------------------------------------------------------------ stream */

struct seen {
	uint64_t ids[16];
	int n;
};

static void collect(void *arg, struct perf_stream *s, const struct perf_hdr *h)
{
	struct seen *v = arg;

	(void)s;
	if (v->n < 16)
		v->ids[v->n++] = h->id;
}

static void test_stream__parses_byte_by_byte(void **state)
{
	uint8_t buf[3 * 40];
	struct perf_stream s;
	struct seen v = {0};

	(void)state;
	memset(buf, 0, sizeof(buf));
	for (int i = 0; i < 3; i++) {
		struct perf_hdr h = {.len = 40, .resp_len = 0, .id = 10 + (uint64_t)i};

		perf_hdr_put(buf + 40 * i, &h);
	}
	perf_stream_init(&s, -1);
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(perf_stream_feed(&s, buf + i, 1, collect, &v), 0);
	assert_int_equal(v.n, 3);
	assert_true(v.ids[0] == 10 && v.ids[2] == 12);
	perf_stream_destroy(&s);
}

static void test_stream__rejects_garbage(void **state)
{
	uint8_t junk[PERF_HDR_LEN];
	struct perf_stream s;
	struct seen v = {0};

	(void)state;
	memset(junk, 0xff, sizeof(junk));
	perf_stream_init(&s, -1);
	assert_int_equal(perf_stream_feed(&s, junk, sizeof(junk), collect, &v), -1);
	perf_stream_destroy(&s);
}

static void test_stream__delivers_in_order_over_a_socket(void **state)
{
	static const uint32_t lens[] = {16, 300000, 100, 70000, 16};
	struct perf_stream tx, rx;
	struct seen v = {0};
	uint8_t *scratch = malloc(65536);
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	perf_stream_init(&tx, sv[0]);
	perf_stream_init(&rx, sv[1]);
	for (uint64_t i = 0; i < 5; i++) {
		struct perf_hdr h = {.len = lens[i], .resp_len = 0, .id = i + 1};

		assert_int_equal(perf_stream_push(&tx, &h), 0);
	}
	/* Alternate until the receiver saw all five (bounded). */
	for (int turn = 0; turn < 10000 && v.n < 5; turn++) {
		assert_true(perf_stream_flush(&tx) >= 0);
		assert_true(perf_stream_read(&rx, scratch, 65536, collect, &v) >= 0);
	}
	assert_int_equal(v.n, 5);
	for (int i = 0; i < 5; i++)
		assert_true(v.ids[i] == (uint64_t)i + 1);
	assert_false(perf_stream_pending(&tx));
	perf_stream_destroy(&tx);
	perf_stream_destroy(&rx);
	free(scratch);
}

/* ------------------------------------------------------------------- stats */

static void test_stats__percentiles_per_bucket(void **state)
{
	struct perf_samples s;
	struct perf_pct p;

	(void)state;
	perf_samples_init(&s, 1000);
	for (uint32_t i = 1; i <= 100; i++)
		perf_samples_add(&s, 50, i * 1000);
	perf_samples_add(&s, 5000, 7);
	perf_pct_compute(&s, 0, 100, &p);
	assert_int_equal(p.count, 100);
	assert_true(p.p50 == 50000 && p.p99 == 99000 && p.min == 1000 && p.max == 100000);
	perf_pct_compute(&s, 1000, 10000, &p);
	assert_int_equal(p.count, 1);
	assert_true(p.p999 == 7);
	perf_samples_free(&s);
}

static void test_stats__bounded(void **state)
{
	struct perf_samples s;

	(void)state;
	perf_samples_init(&s, 3);
	for (int i = 0; i < 5; i++)
		perf_samples_add(&s, 1, 1);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.dropped, 2);
	perf_samples_free(&s);
}

/* -------------------------------------------------------------------- load */

/* A transport that answers each request on the next poll, or never. */
struct fake {
	uint64_t ids[4096];
	int n;
	int answer;	/* complete requests on poll */
	int send_error; /* returned by send when nonzero */
	int fail_every; /* nonzero: every fail_every-th answer is an EIO */
	uint64_t answers;
	uint64_t sends;
};

static int fake_send(void *impl, int server, uint64_t id, uint32_t len, uint32_t resp_len)
{
	struct fake *f = impl;

	(void)server;
	(void)resp_len;
	assert_true(len >= PERF_HDR_LEN);
	if (f->send_error)
		return f->send_error;
	if (f->n == 4096)
		return -EAGAIN;
	f->ids[f->n++] = id;
	f->sends++;
	return 0;
}

static int fake_poll(void *impl, uint64_t timeout_ns, perf_done_fn done, void *arg)
{
	struct fake *f = impl;
	int n = f->n;

	(void)timeout_ns;
	if (!f->answer)
		return 0;
	f->n = 0;
	for (int i = 0; i < n; i++) {
		f->answers++;
		done(arg, f->ids[i],
		     f->fail_every && f->answers % (uint64_t)f->fail_every == 0 ? EIO
										: 0);
	}
	return n;
}

static void fake_close(void *impl)
{
	(void)impl;
}

static const struct perf_client_ops fake_ops = {fake_send, fake_poll, fake_close};

static void load_setup(struct perf_load_cfg *cfg, struct homa_workload *wl, const char *w)
{
	char err[128];

	assert_int_equal(homa_workload_load(wl, w, NULL, err, sizeof(err)), 0);
	perf_load_cfg_default(cfg);
	cfg->wl = wl;
	cfg->duration_ns = 2 * PERF_NS_PER_SEC;
}

static void test_load__closed_loop_counts(void **state)
{
	struct fake f = {.answer = 1};
	struct perf_client c = {&fake_ops, &f};
	struct perf_load_cfg cfg;
	struct perf_load_result r;
	struct homa_workload wl;

	(void)state;
	load_setup(&cfg, &wl, "w2");
	cfg.closed = 8;
	cfg.max_rpcs = 1000;
	assert_int_equal(perf_load_run(&c, &cfg, &r), 0);
	assert_int_equal(r.completed, 1000);
	assert_int_equal(r.samples.n, 1000);
	assert_true(r.sent >= 1000 && r.sent <= 1008);
	assert_int_equal(r.errors, 0);
	assert_true(r.req_bytes >= 1000 * PERF_HDR_LEN);
	assert_true(r.req_bytes == r.resp_bytes); /* echo */
	perf_samples_free(&r.samples);
	homa_workload_free(&wl);
}

static void test_load__open_loop_rate(void **state)
{
	struct fake f = {.answer = 1};
	struct perf_client c = {&fake_ops, &f};
	struct perf_load_cfg cfg;
	struct perf_load_result r;
	struct homa_workload wl;

	(void)state;
	load_setup(&cfg, &wl, "1000");
	/* 1000-byte requests at 0.08 Gbit/s: 10000 per second. */
	cfg.gbps = 0.08;
	cfg.duration_ns = PERF_NS_PER_SEC / 2;
	assert_int_equal(perf_load_run(&c, &cfg, &r), 0);
	assert_true(r.completed > 4000 && r.completed < 6000);
	assert_int_equal(r.cap_hits, 0);
	perf_samples_free(&r.samples);
	homa_workload_free(&wl);
}

static void test_load__cap_hits_and_stall_are_reported(void **state)
{
	struct fake f = {.answer = 0};
	struct perf_client c = {&fake_ops, &f};
	struct perf_load_cfg cfg;
	struct perf_load_result r;
	struct homa_workload wl;

	(void)state;
	load_setup(&cfg, &wl, "100");
	cfg.gbps = 1;
	cfg.max_outstanding = 10;
	cfg.stall_ns = PERF_NS_PER_SEC / 10;
	assert_int_equal(perf_load_run(&c, &cfg, &r), -1);
	assert_int_equal(r.stalled, 1);
	assert_int_equal(r.sent, 10);
	assert_true(r.cap_hits >= 1);
	assert_int_equal(r.completed, 0);
	perf_samples_free(&r.samples);
	homa_workload_free(&wl);
}

static void test_load__fatal_send_error_stops(void **state)
{
	struct fake f = {.answer = 1, .send_error = -EINVAL};
	struct perf_client c = {&fake_ops, &f};
	struct perf_load_cfg cfg;
	struct perf_load_result r;
	struct homa_workload wl;

	(void)state;
	load_setup(&cfg, &wl, "100");
	assert_int_equal(perf_load_run(&c, &cfg, &r), -1);
	assert_int_equal(r.error, -EINVAL);
	assert_int_equal(r.sent, 0);
	perf_samples_free(&r.samples);
	homa_workload_free(&wl);
}

static void test_load__rpc_timeout_abandons(void **state)
{
	struct fake f = {.answer = 0};
	struct perf_client c = {&fake_ops, &f};
	struct perf_load_cfg cfg;
	struct perf_load_result r;
	struct homa_workload wl;

	(void)state;
	load_setup(&cfg, &wl, "100");
	cfg.duration_ns = PERF_NS_PER_SEC / 5;
	cfg.rpc_timeout_ns = PERF_NS_PER_SEC / 50;
	assert_int_equal(perf_load_run(&c, &cfg, &r), 0);
	assert_true(r.timeouts >= 3);
	assert_int_equal(r.completed, 0);
	perf_samples_free(&r.samples);
	homa_workload_free(&wl);
}

static void test_load__cooldown_counts_rpcs_by_start(void **state)
{
	struct fake f = {.answer = 1};
	struct perf_client c = {&fake_ops, &f};
	struct perf_load_cfg cfg;
	struct perf_load_result r;
	struct homa_workload wl;

	(void)state;
	load_setup(&cfg, &wl, "1000");
	cfg.gbps = 0.08; /* 10000 requests per second */
	cfg.warmup_ns = PERF_NS_PER_SEC / 10;
	cfg.duration_ns = PERF_NS_PER_SEC / 4;
	cfg.cooldown_ns = PERF_NS_PER_SEC / 10;
	assert_int_equal(perf_load_run(&c, &cfg, &r), 0);
	/* Exactly the RPCs started in the window are measured, all answered. */
	assert_true(r.window_rpcs > 1500 && r.window_rpcs < 3500);
	assert_int_equal(r.completed, r.window_rpcs);
	assert_int_equal(r.req_bytes, r.window_bytes);
	assert_int_equal(r.unfinished, 0);
	/* Load went on before and after the window. */
	assert_true(r.sent > r.window_rpcs + 1000);
	assert_int_equal(r.elapsed_ns, cfg.duration_ns);
	/* Delivered by the window's end, then by +1 s (the end of the run). */
	assert_int_equal(r.done_by_n, 2);
	assert_true(r.done_by_s[0] <= r.done_by_s[1]);
	assert_int_equal(r.done_by_s[1], r.window_bytes);
	perf_samples_free(&r.samples);
	homa_workload_free(&wl);
}

static void test_load__cooldown_reports_unfinished(void **state)
{
	struct fake f = {.answer = 0};
	struct perf_client c = {&fake_ops, &f};
	struct perf_load_cfg cfg;
	struct perf_load_result r;
	struct homa_workload wl;

	(void)state;
	load_setup(&cfg, &wl, "1000");
	cfg.gbps = 0.08;
	cfg.duration_ns = PERF_NS_PER_SEC / 10;
	cfg.cooldown_ns = PERF_NS_PER_SEC / 20;
	assert_int_equal(perf_load_run(&c, &cfg, &r), 0);
	assert_true(r.window_rpcs > 500);
	assert_int_equal(r.completed, 0);
	assert_int_equal(r.unfinished, r.window_rpcs);
	assert_int_equal(r.unfinished_bytes, r.window_bytes);
	assert_int_equal(r.done_by_n, 2);
	assert_int_equal(r.done_by_s[1], 0);
	perf_samples_free(&r.samples);
	homa_workload_free(&wl);
}

/* By-start counting with failures: a window RPC either completes or fails,
 * failures outside the window are counted apart, and none is measured. */
static void test_load__cooldown_separates_window_errors(void **state)
{
	struct fake f = {.answer = 1, .fail_every = 7};
	struct perf_client c = {&fake_ops, &f};
	struct perf_load_cfg cfg;
	struct perf_load_result r;
	struct homa_workload wl;

	(void)state;
	load_setup(&cfg, &wl, "1000");
	cfg.gbps = 0.08;
	cfg.warmup_ns = PERF_NS_PER_SEC / 10;
	cfg.duration_ns = PERF_NS_PER_SEC / 4;
	cfg.cooldown_ns = PERF_NS_PER_SEC / 10;
	assert_int_equal(perf_load_run(&c, &cfg, &r), 0);
	assert_true(r.window_rpcs > 1500);
	assert_int_equal(r.unfinished, 0);
	assert_true(r.errors > r.window_rpcs / 10 && r.errors < r.window_rpcs / 5);
	assert_int_equal(r.completed + r.errors, r.window_rpcs);
	assert_int_equal(r.samples.n, r.completed);
	assert_true(r.other_errors > 0); /* warm-up and cool-down RPCs */
	assert_int_equal(r.done_by_s[r.done_by_n - 1], r.req_bytes);
	assert_true(r.req_bytes < r.window_bytes);
	perf_samples_free(&r.samples);
	homa_workload_free(&wl);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_opts__client_options),
    cmocka_unit_test(test_opts__defaults),
    cmocka_unit_test(test_opts__no_poll_from_flag_and_env),
    cmocka_unit_test(test_opts__rejects_bad_input),
    cmocka_unit_test(test_opts__help),
    cmocka_unit_test(test_frame__round_trip),
    cmocka_unit_test(test_frame__rejects_bad_headers),
    cmocka_unit_test(test_frame__short_lengths_carry_the_header),
    cmocka_unit_test(test_stream__parses_byte_by_byte),
    cmocka_unit_test(test_stream__rejects_garbage),
    cmocka_unit_test(test_stream__delivers_in_order_over_a_socket),
    cmocka_unit_test(test_stats__percentiles_per_bucket),
    cmocka_unit_test(test_stats__bounded),
    cmocka_unit_test(test_load__closed_loop_counts),
    cmocka_unit_test(test_load__open_loop_rate),
    cmocka_unit_test(test_load__cap_hits_and_stall_are_reported),
    cmocka_unit_test(test_load__fatal_send_error_stops),
    cmocka_unit_test(test_load__rpc_timeout_abandons),
    cmocka_unit_test(test_load__cooldown_counts_rpcs_by_start),
    cmocka_unit_test(test_load__cooldown_reports_unfinished),
    cmocka_unit_test(test_load__cooldown_separates_window_errors),
};

HOMA_TEST_MAIN(tests)
