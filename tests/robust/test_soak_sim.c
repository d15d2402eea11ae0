/*
 * test_soak_sim.c - a long run on the simulated network (src/sim) under
 * every fault the simulator has.
 *
 * Thirty minutes of simulated time in five six-minute phases, one per
 * workload W1..W5, each with its own mix of faults: packet loss up to 10 %,
 * duplication, reordering, and hosts that crash and come back with a new
 * engine every few tens of seconds. Open-loop Poisson load at a fixed packet
 * budget per phase (so W1 issues many small RPCs, W5 a few large ones).
 *
 * After each phase: every RPC issued either completed exactly once with the
 * right bytes or failed with an errno (or was lost with its crashed client),
 * no request ran twice at a server incarnation, no engine leaked a byte and
 * no RPC outlived the drain. The whole run is done twice from the same seed
 * and must give the same digest of every result and every RPC record.
 *
 * HOMA_SOAK_SCALE (default 1) scales the simulated time; the sanitizer run
 * sets it lower (Makefile) because ASan makes the simulator ~5x slower.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "homa_sim.h"
#include "homa_test.h"

#define MS  1000000ull
#define SEC 1000000000ull

struct phase {
	const char *workload;
	double loss, dup, reorder;
	uint64_t crash_every_ns; /* 0: no crashes */
};

static const struct phase phases[] = {
    {"w1", 0.10, 0.00, 0.00, 40 * SEC}, {"w2", 0.05, 0.05, 0.00, 30 * SEC},
    {"w3", 0.02, 0.00, 0.20, 50 * SEC}, {"w4", 0.01, 0.02, 0.05, 45 * SEC},
    {"w5", 0.10, 0.01, 0.10, 60 * SEC},
};

#define NPHASES (sizeof(phases) / sizeof(phases[0]))
#define HOSTS	4
/* Packets (both directions, before faults) each phase aims to carry. */
#define PKT_BUDGET 400000.0

struct soak_totals {
	uint64_t requested, completed, failed, lost, events, sim_ns;
	uint64_t pkts, drops_loss, dups, reorders, crashes;
	uint64_t errors[HOMA_SIM_MAX_ERRNO];
	uint64_t peak_engine_bytes;
	uint64_t digest;
};

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 1099511628211ull;
	}
	return h;
}

static double soak_scale(void)
{
	const char *s = getenv("HOMA_SOAK_SCALE");
	double v = s != NULL ? atof(s) : 1.0;

	return v > 0 ? v : 1.0;
}

static uint64_t digest_rpcs(uint64_t h, struct homa_sim *sim)
{
	uint64_t i, n = homa_sim_num_rpcs(sim);

	for (i = 0; i < n; i++) {
		const struct homa_sim_rpc *r = homa_sim_rpc(sim, i);

		h = fnv(h, &r->client, sizeof(r->client));
		h = fnv(h, &r->server, sizeof(r->server));
		h = fnv(h, &r->length, sizeof(r->length));
		h = fnv(h, &r->state, sizeof(r->state));
		h = fnv(h, &r->error, sizeof(r->error));
		h = fnv(h, &r->id, sizeof(r->id));
		h = fnv(h, &r->start_ns, sizeof(r->start_ns));
		h = fnv(h, &r->end_ns, sizeof(r->end_ns));
	}
	return h;
}

/* Hosts down from crash_ns to up_ns (UINT64_MAX while still down). */
struct window {
	uint32_t host;
	uint64_t crash_ns, up_ns;
};

#define MAX_WINDOWS 64

/*
 * A failed RPC needs a cause: its server (or client) was down at some point
 * between its start and its end. Loss alone (<= 10 %) must never make an
 * RPC fail: RESENDs every 5 ms keep it alive long before the 100 ms timeout.
 */
static uint64_t failures_without_crash(struct homa_sim *sim, const struct window *w,
				       int nw)
{
	uint64_t i, n = homa_sim_num_rpcs(sim), bad = 0;

	for (i = 0; i < n; i++) {
		const struct homa_sim_rpc *r = homa_sim_rpc(sim, i);
		int k, explained = 0;

		if (r->state != HOMA_SIM_RPC_FAILED)
			continue;
		for (k = 0; k < nw && !explained; k++)
			explained = (w[k].host == r->server || w[k].host == r->client) &&
				    w[k].crash_ns <= r->end_ns &&
				    w[k].up_ns >= r->start_ns;
		if (!explained) {
			if (bad < 5)
				print_message(
				    "  unexplained failure: RPC %llu %u->%u len %u "
				    "error %d, %llu..%llu ns\n",
				    (unsigned long long)i, r->client, r->server,
				    r->length, r->error, (unsigned long long)r->start_ns,
				    (unsigned long long)r->end_ns);
			bad++;
		}
	}
	return bad;
}

static void run_phase(const struct phase *ph, uint64_t seed, uint64_t duration,
		      struct soak_totals *t)
{
	struct homa_sim_config c;
	struct homa_workload w;
	struct homa_sim *sim;
	const struct homa_sim_results *r;
	char err[200];
	double per_rpc, rate;
	uint64_t next_crash, now, rpcs;
	uint32_t victim = 0;
	int down = -1;
	struct window win[MAX_WINDOWS];
	int nwin = 0;

	assert_int_equal(homa_workload_load(&w, ph->workload, NULL, err, sizeof(err)), 0);
	homa_sim_config_default(&c);
	c.hosts = HOSTS;
	c.seed = seed;
	c.loss = ph->loss;
	c.dup = ph->dup;
	c.reorder = ph->reorder;
	c.response_bytes = 1000;
	c.workload = &w;
	/* Load from the packet budget: RPCs/s per host, then the load fraction. */
	per_rpc = homa_sim_wire_bytes_per_rpc(&c, &w);
	rate = PKT_BUDGET * (duration / (double)(360 * SEC)) / (per_rpc / HOMA_SIM_MTU) /
	       ((double)duration / SEC) / HOSTS;
	c.load = rate * per_rpc * 8.0 / (c.link_gbps * 1e9);
	rpcs = (uint64_t)(rate * ((double)duration / SEC) * HOSTS) + 1;
	c.rpcs = rpcs;
	assert_int_equal(homa_sim_new(&c, &sim), 0);
	assert_int_equal(homa_sim_start_load(sim), 0);
	/* Crash a host now and then; bring it back 1 s later. */
	next_crash = ph->crash_every_ns ? ph->crash_every_ns : UINT64_MAX;
	for (now = 0; now < duration;) {
		uint64_t step = 1 * SEC;

		if (down < 0 && now >= next_crash) {
			victim = (victim + 1) % HOSTS;
			homa_sim_crash(sim, victim);
			down = (int)victim;
			t->crashes++;
			assert_true(nwin < MAX_WINDOWS);
			win[nwin].host = victim;
			win[nwin].crash_ns = homa_sim_now(sim);
			win[nwin].up_ns = UINT64_MAX;
			nwin++;
		} else if (down >= 0 && now >= next_crash + 1 * SEC) {
			assert_int_equal(
			    homa_sim_restart(sim, (uint32_t)down, seed + now), 0);
			win[nwin - 1].up_ns = homa_sim_now(sim);
			down = -1;
			next_crash += ph->crash_every_ns;
		}
		now += step;
		homa_sim_run_until(sim, now);
	}
	if (down >= 0)
		assert_int_equal(homa_sim_restart(sim, (uint32_t)down, seed + now), 0);
	/* Stop the load, let every RPC end, then the tombstones. */
	assert_int_equal(homa_sim_drain(sim, homa_sim_now(sim) + 60 * SEC), 0);
	homa_sim_finish(sim);
	r = homa_sim_results(sim);
	print_message(
	    "  %s loss %.2f dup %.2f reorder %.2f: %llu RPCs (%llu done, %llu "
	    "failed, %llu lost), %llu packets, %llu events, peak engine %llu B\n",
	    ph->workload, ph->loss, ph->dup, ph->reorder,
	    (unsigned long long)r->rpcs_requested, (unsigned long long)r->rpcs_completed,
	    (unsigned long long)r->rpcs_failed, (unsigned long long)r->rpcs_lost,
	    (unsigned long long)r->pkts_sent, (unsigned long long)r->events,
	    (unsigned long long)r->peak_engine_bytes);
	/* Every RPC ends once: done, failed with an errno, or lost with its client. */
	assert_int_equal(r->rpcs_completed + r->rpcs_failed + r->rpcs_lost,
			 r->rpcs_requested);
	assert_int_equal(r->duplicate_executions, 0);
	assert_int_equal(r->corrupted_messages, 0);
	assert_int_equal(r->unexpected_messages, 0);
	assert_int_equal(r->errors[0], 0);
	assert_int_equal(r->errors[ETIMEDOUT], r->rpcs_failed);
	assert_int_equal(failures_without_crash(sim, win, nwin), 0);
	/* Nothing leaks, nothing outlives the drain. */
	assert_int_equal(r->rpcs_leaked, 0);
	assert_int_equal(r->bytes_leaked, 0);
	assert_int_equal(r->grant_violations, 0);
	assert_true(r->rpcs_requested > 0);
	t->requested += r->rpcs_requested;
	t->completed += r->rpcs_completed;
	t->failed += r->rpcs_failed;
	t->lost += r->rpcs_lost;
	t->events += r->events;
	t->sim_ns += duration;
	t->pkts += r->pkts_sent;
	t->drops_loss += r->drops_loss;
	t->dups += r->dups;
	t->reorders += r->reorders;
	for (int e = 0; e < HOMA_SIM_MAX_ERRNO; e++)
		t->errors[e] += r->errors[e];
	if (r->peak_engine_bytes > t->peak_engine_bytes)
		t->peak_engine_bytes = r->peak_engine_bytes;
	t->digest = fnv(t->digest, r, sizeof(*r));
	t->digest = digest_rpcs(t->digest, sim);
	homa_sim_free(sim);
	homa_workload_free(&w);
}

static void soak(uint64_t seed, struct soak_totals *t)
{
	uint64_t duration = (uint64_t)(360.0 * soak_scale() * (double)SEC);
	size_t i;

	memset(t, 0, sizeof(*t));
	t->digest = 1469598103934665603ull;
	for (i = 0; i < NPHASES; i++)
		run_phase(&phases[i], seed + i, duration, t);
}

static double cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_soak__thirty_simulated_minutes_every_rpc_ends_once(void **state)
{
	struct soak_totals a, b;
	double t0 = cpu_seconds(), t1, t2;
	int e;

	(void)state;
	soak(7001, &a);
	t1 = cpu_seconds();
	print_message(
	    "soak: %.1f simulated s, %llu RPCs: %llu done, %llu failed, %llu lost "
	    "with a crashed client; %llu packets, %llu lost, %llu duplicated, "
	    "%llu reordered; %llu crashes; peak engine %llu B; %.1f s CPU; "
	    "digest %016llx\n",
	    (double)a.sim_ns / SEC, (unsigned long long)a.requested,
	    (unsigned long long)a.completed, (unsigned long long)a.failed,
	    (unsigned long long)a.lost, (unsigned long long)a.pkts,
	    (unsigned long long)a.drops_loss, (unsigned long long)a.dups,
	    (unsigned long long)a.reorders, (unsigned long long)a.crashes,
	    (unsigned long long)a.peak_engine_bytes, t1 - t0,
	    (unsigned long long)a.digest);
	for (e = 1; e < HOMA_SIM_MAX_ERRNO; e++)
		if (a.errors[e] != 0)
			print_message("  failed with %s: %llu\n", strerror(e),
				      (unsigned long long)a.errors[e]);
	/* The same seed again: the same run, bit for bit. */
	soak(7001, &b);
	t2 = cpu_seconds();
	print_message("soak again: digest %016llx, %.1f s CPU\n",
		      (unsigned long long)b.digest, t2 - t1);
	assert_int_equal(a.digest, b.digest);
	assert_int_equal(a.requested, b.requested);
	assert_true(a.completed > a.requested / 2);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_soak__thirty_simulated_minutes_every_rpc_ends_once),
};

HOMA_TEST_MAIN(tests)
