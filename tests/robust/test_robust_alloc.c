/*
 * test_robust_alloc.c - every allocation of a fixed scenario fails in turn.
 *
 * The scenario: three RPCs (100 B, 20 kB and 300 kB requests; 200 B,
 * 150 kB and 1000 B responses, so both directions need grants) between two
 * engines on the test network, with one DATA packet and one GRANT lost, so
 * loss recovery runs too. A first run counts the allocations N the engines
 * make once the sockets exist. Then, for every n in 1..N, the scenario runs
 * again with an allocator that fails the n-th allocation only, and once more
 * with one that fails every allocation from the n-th on.
 *
 * Each run must: see every failure reported (homa_stats.alloc_failures, which
 * homa_mem counts, equals the number of failures injected; the API calls
 * return -ENOMEM); deliver no response twice and no wrong byte; end every RPC
 * with its response or a clear error when only one allocation failed; and
 * leave 0 bytes allocated once the sockets and engines are freed. ASan runs
 * the same binary in the sanitizer build.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "homa_pktbuild.h"
#include "homa_test.h"
#include "homa_testnet.h"

#define MS	    1000000ull
#define SERVER_PORT 99
#define NRPC	    3

static const uint32_t req_len[NRPC] = {100, 20000, 300000};
static const uint32_t resp_len[NRPC] = {200, 150000, 1000};

enum fail_mode { FAIL_NONE, FAIL_ONE, FAIL_FROM };

struct failing {
	int armed;
	enum fail_mode mode;
	long n;	     /* 1-based index of the allocation to fail (or first to fail) */
	long count;  /* allocations attempted since armed */
	long failed; /* failures injected */
};

static void *failing_alloc(void *ctx, size_t size)
{
	struct failing *f = ctx;

	if (f->armed) {
		f->count++;
		if ((f->mode == FAIL_ONE && f->count == f->n) ||
		    (f->mode == FAIL_FROM && f->count >= f->n)) {
			f->failed++;
			return NULL;
		}
	}
	return malloc(size);
}

static void failing_free(void *ctx, void *p, size_t size)
{
	(void)ctx;
	(void)size;
	free(p);
}

/* Loses the 7th DATA packet and the 2nd GRANT, once each. */
struct losses {
	int data_seen, grants_seen;
};

static enum htn_verdict lose_some(void *ctx, struct htn *net, int from, int to,
				  const struct homa_packet *pkt, uint64_t *delay_ns)
{
	struct losses *l = ctx;

	(void)net, (void)from, (void)to, (void)delay_ns;
	if (pkt->common.type == HOMA_PKT_DATA && ++l->data_seen == 7)
		return HTN_DROP;
	if (pkt->common.type == HOMA_PKT_GRANT && ++l->grants_seen == 2)
		return HTN_DROP;
	return HTN_PASS;
}

enum rpc_fate { PENDING, NOT_SENT, DONE, FAILED };

struct outcome {
	long allocations;
	long failed;
	uint64_t reported; /* alloc_failures over both engines */
	int fate[NRPC];
	int error[NRPC];
	int pending;	   /* RPCs neither done nor failed at the end */
	int server_dups;   /* a request handed to the server app twice */
	int replies_nomem; /* homa_sock_reply said -ENOMEM (then retried) */
	int sends_nomem;
	size_t leaked;
};

struct run {
	struct htn *net;
	struct htn_sock *c, *s;
	uint64_t ids[NRPC];
	/* Server side: requests received, reply owed. */
	struct {
		uint64_t id;
		struct homa_endpoint peer;
		int idx;
		int owed;
	} reqs[16];
	int nreqs;
	struct outcome *o;
	uint8_t *buf;	  /* received messages */
	uint8_t *pattern; /* hpb_pattern of [0, 1 MB): every message sent */
};

static int index_of_len(uint32_t len, const uint32_t *lens)
{
	int i;

	for (i = 0; i < NRPC; i++)
		if (lens[i] == len)
			return i;
	return -1;
}

static void server_poll(struct run *r)
{
	struct homa_recv_msg m;
	int i;

	while (htn_recv(r->net, r->s, 0, &m, r->buf, 1000000) == 0) {
		int idx;

		assert_int_equal(m.error, 0);
		idx = index_of_len(m.length, req_len);
		assert_true(idx >= 0);
		assert_int_equal(hpb_pattern_check(r->buf, 0, m.length), m.length);
		for (i = 0; i < r->nreqs; i++)
			if (r->reqs[i].idx == idx)
				r->o->server_dups++;
		assert_true(r->nreqs < 16);
		r->reqs[r->nreqs].id = m.id;
		r->reqs[r->nreqs].peer = m.peer;
		r->reqs[r->nreqs].idx = idx;
		r->reqs[r->nreqs].owed = 1;
		r->nreqs++;
	}
	for (i = 0; i < r->nreqs; i++) {
		struct homa_iov iov;
		int err;

		if (!r->reqs[i].owed)
			continue;
		iov.base = r->pattern;
		iov.len = resp_len[r->reqs[i].idx];
		err = homa_sock_reply(r->s->sock, r->reqs[i].id, &r->reqs[i].peer, &iov,
				      1, r->net->now);
		if (err == -ENOMEM) {
			r->o->replies_nomem++;
			continue; /* the application tries again later */
		}
		/* 0, or the RPC failed meanwhile (its error, then it is gone). */
		r->reqs[i].owed = 0;
	}
}

static void client_poll(struct run *r)
{
	struct homa_recv_msg m;
	int i;

	while (htn_recv(r->net, r->c, 0, &m, r->buf, 1000000) == 0) {
		for (i = 0; i < NRPC; i++)
			if (r->ids[i] == m.id && r->o->fate[i] == PENDING)
				break;
		if (i == NRPC)
			fail_msg("response for id %llu delivered twice or unknown",
				 (unsigned long long)m.id);
		assert_int_equal(m.completion_cookie, (uint64_t)i);
		if (m.error != 0) {
			r->o->fate[i] = FAILED;
			r->o->error[i] = m.error;
			continue;
		}
		assert_int_equal(m.length, resp_len[i]);
		assert_int_equal(hpb_pattern_check(r->buf, 0, m.length), m.length);
		r->o->fate[i] = DONE;
	}
}

static int resolved(const struct outcome *o)
{
	int i;

	for (i = 0; i < NRPC; i++)
		if (o->fate[i] == PENDING)
			return 0;
	return 1;
}

static void run_scenario(enum fail_mode mode, long n, struct outcome *o)
{
	struct failing f = {0, mode, n, 0, 0};
	struct homa_allocator a = {failing_alloc, failing_free, &f};
	struct losses l = {0, 0};
	struct run r;
	uint64_t deadline;
	int i;

	memset(o, 0, sizeof(*o));
	memset(&r, 0, sizeof(r));
	r.o = o;
	r.buf = malloc(1000000);
	r.pattern = malloc(1000000);
	hpb_pattern_fill(r.pattern, 0, 1000000);
	r.net = htn_new_with(2, NULL, 1000, 25000, &a);
	r.c = htn_sock(r.net, 0, 0, 64);
	r.s = htn_sock(r.net, 1, SERVER_PORT, 64);
	r.net->hook = lose_some;
	r.net->hook_ctx = &l;
	f.armed = 1;
	for (i = 0; i < NRPC; i++) {
		struct homa_endpoint ep = htn_endpoint(r.net, 1, r.s);
		struct homa_iov iov = {r.pattern, req_len[i]};
		int err;

		err = homa_sock_send_request(r.c->sock, &ep, &iov, 1, (uint64_t)i, 0,
					     r.net->now, &r.ids[i]);
		if (err != 0) {
			assert_int_equal(err, -ENOMEM);
			o->sends_nomem++;
			o->fate[i] = NOT_SENT;
		}
	}
	/* Long enough for every timeout (100 ms) and NEED_ACK give-up to play out. */
	deadline = r.net->now + 2000 * MS;
	while (!resolved(o) && htn_step(r.net, deadline)) {
		server_poll(&r);
		client_poll(&r);
	}
	/* Let acks, NEED_ACKs and server timeouts finish. */
	htn_run_for(r.net, 500 * MS);
	server_poll(&r);
	client_poll(&r);
	for (i = 0; i < NRPC; i++)
		o->pending += o->fate[i] == PENDING;
	o->reported = homa_engine_stats(r.net->hosts[0].engine)->alloc_failures +
		      homa_engine_stats(r.net->hosts[1].engine)->alloc_failures;
	f.armed = 0;
	o->allocations = f.count;
	o->failed = f.failed;
	o->leaked = htn_free(r.net);
	free(r.buf);
	free(r.pattern);
}

static void test_alloc__scenario_without_failures(void **state)
{
	struct outcome o;
	int i;

	(void)state;
	run_scenario(FAIL_NONE, 0, &o);
	print_message("scenario: %ld allocations\n", o.allocations);
	assert_true(o.allocations > 10);
	for (i = 0; i < NRPC; i++)
		assert_int_equal(o.fate[i], DONE);
	assert_int_equal(o.server_dups, 0);
	assert_int_equal(o.leaked, 0);
}

static void sweep(enum fail_mode mode)
{
	struct outcome base, o;
	long n, done_all = 0, some_failed = 0, pending_runs = 0, nomem_api = 0;
	int i;

	run_scenario(FAIL_NONE, 0, &base);
	for (n = 1; n <= base.allocations; n++) {
		run_scenario(mode, n, &o);
		if (o.leaked != 0)
			fail_msg("allocation %ld failing leaks %zu bytes", n, o.leaked);
		if (o.server_dups != 0)
			fail_msg("allocation %ld failing: a request ran twice", n);
		/* Every failure reaches the application as -ENOMEM or is counted. */
		if ((uint64_t)o.failed > o.reported + (uint64_t)o.sends_nomem +
					     (uint64_t)o.replies_nomem ||
		    o.reported > (uint64_t)o.failed)
			fail_msg("allocation %ld failing: %ld failures injected, %llu "
				 "counted, %d -ENOMEM returned",
				 n, o.failed, (unsigned long long)o.reported,
				 o.sends_nomem + o.replies_nomem);
		for (i = 0; i < NRPC; i++)
			if (o.fate[i] == FAILED && o.error[i] != ETIMEDOUT &&
			    o.error[i] != ENOMEM)
				fail_msg("allocation %ld failing: RPC %d failed with %d",
					 n, i, o.error[i]);
		if (mode == FAIL_ONE && o.pending != 0)
			fail_msg("allocation %ld failing: %d RPCs never ended", n,
				 o.pending);
		pending_runs += o.pending != 0;
		nomem_api += o.sends_nomem + o.replies_nomem;
		for (i = 0; i < NRPC && o.fate[i] == DONE; i++)
			;
		if (i == NRPC)
			done_all++;
		else
			some_failed++;
	}
	print_message("%s: %ld failure points; all RPCs done in %ld runs, some failed "
		      "cleanly in %ld, RPCs left waiting on a failing server in %ld; "
		      "-ENOMEM returned to the application %ld times\n",
		      mode == FAIL_ONE ? "fail the n-th" : "fail from the n-th on",
		      base.allocations, done_all, some_failed, pending_runs, nomem_api);
}

static void test_alloc__each_single_failure_handled(void **state)
{
	(void)state;
	sweep(FAIL_ONE);
}

static void test_alloc__every_failure_from_n_on_handled(void **state)
{
	(void)state;
	sweep(FAIL_FROM);
}

/* homa_stats.alloc_failures must count a failure inside an API call at once,
 * not only after the next packet or timer. */
static void test_alloc__failure_in_api_call_counted_at_once(void **state)
{
	struct failing f = {0, FAIL_FROM, 1, 0, 0};
	struct homa_allocator a = {failing_alloc, failing_free, &f};
	struct htn *net = htn_new_with(2, NULL, 1000, 25000, &a);
	struct htn_sock *c = htn_sock(net, 0, 0, 64);
	struct homa_endpoint ep = {net->hosts[1].addr, SERVER_PORT};
	uint8_t b[100] = {0};
	struct homa_iov iov = {b, sizeof(b)};
	uint64_t id;

	(void)state;
	f.armed = 1;
	assert_int_equal(
	    homa_sock_send_request(c->sock, &ep, &iov, 1, 0, 0, net->now, &id), -ENOMEM);
	f.armed = 0;
	assert_true(f.failed >= 1);
	assert_int_equal(homa_engine_stats(net->hosts[0].engine)->alloc_failures,
			 (uint64_t)f.failed);
	assert_int_equal(htn_free(net), 0);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_alloc__failure_in_api_call_counted_at_once),
    cmocka_unit_test(test_alloc__scenario_without_failures),
    cmocka_unit_test(test_alloc__each_single_failure_handled),
    cmocka_unit_test(test_alloc__every_failure_from_n_on_handled),
};

HOMA_TEST_MAIN(tests)
