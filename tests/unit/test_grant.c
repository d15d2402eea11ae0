/*
 * test_grant.c - the receiver-side grant scheduler (homa_grant.c).
 *
 * Time is a plain integer; a fake send callback records every grant.
 */
#include "homa_test.h"

#include <string.h>

#include "homa_grant.h"

#define MAX_RECORDS 20000

struct record {
	struct homa_grant_rpc *r;
	uint32_t offset;
	int priority;
	uint64_t now;
};

struct fixture {
	struct homa_settings s;
	struct homa_grant g;
	struct record rec[MAX_RECORDS];
	size_t n;
};

static void record_grant(void *ctx, struct homa_grant_rpc *r, uint32_t offset,
			 int priority, uint64_t now)
{
	struct fixture *f = ctx;

	assert_true(f->n < MAX_RECORDS);
	/* Grants must only ever move forward and never pass the message's end. */
	assert_true(offset <= r->length);
	assert_int_equal(r->granted, offset);
	f->rec[f->n++] = (struct record){r, offset, priority, now};
}

/* The documented defaults (homa_settings_default lives in the engine). */
static void settings_default(struct homa_settings *s)
{
	static const uint32_t cutoffs[HOMA_MAX_PRIORITIES] = {0,       0,     0,    0,
							      1000000, 15000, 2800, 200};

	memset(s, 0, sizeof(*s));
	s->link_mbps = 25000;
	s->max_packet_bytes = 1472;
	s->unsched_bytes = 40000;
	s->max_incoming = 400000;
	s->max_overcommit = 8;
	s->grant_fifo_fraction = 50;
	s->fifo_grant_increment = 50000;
	s->num_priorities = 8;
	memcpy(s->unsched_cutoffs, cutoffs, sizeof(cutoffs));
}

static struct fixture *fixture_new(void)
{
	static struct fixture f;

	memset(&f, 0, sizeof(f));
	settings_default(&f.s);
	homa_grant_init(&f.g, &f.s, record_grant, &f);
	return &f;
}

/* A message as the engine creates it at its first packet. */
static void msg_init(struct homa_grant_rpc *r, const void *peer, uint64_t birth,
		     uint32_t length, uint32_t unsched)
{
	memset(r, 0, sizeof(*r));
	homa_grant_rpc_init(r);
	r->peer = peer;
	r->birth = birth;
	r->length = length;
	r->granted = unsched < length ? unsched : length;
}

static void receive(struct fixture *f, struct homa_grant_rpc *r, uint32_t received,
		    uint64_t now)
{
	r->received = received;
	homa_grant_check(&f->g, r, now);
}

static const struct record *last_for(const struct fixture *f,
				     const struct homa_grant_rpc *r)
{
	for (size_t i = f->n; i > 0; i--)
		if (f->rec[i - 1].r == r)
			return &f->rec[i - 1];
	return NULL;
}

static int peer_a, peer_b, peer_c, peer_d;

static void test_init__max_sched_prio_from_default_cutoffs(void **state)
{
	struct fixture *f = fixture_new();

	(void)state;
	assert_int_equal(f->g.max_sched_prio, 3);
	assert_int_equal(homa_grant_num_active(&f->g), 0);
	assert_int_equal(homa_grant_total_incoming(&f->g), 0);
	assert_int_equal(homa_grant_incoming_bound(&f->g), 400000 + 50000);
}

static void test_check__single_message_granted_up_to_window(void **state)
{
	struct fixture *f = fixture_new();
	struct homa_grant_rpc r;

	(void)state;
	msg_init(&r, &peer_a, 0, 1000000, 40000);
	homa_grant_check(&f->g, &r, 10);
	/* One active: window = max_incoming / 2. */
	assert_int_equal(f->n, 1);
	assert_int_equal(f->rec[0].offset, 200000);
	assert_int_equal(f->rec[0].priority, 0);
	assert_int_equal(f->rec[0].now, 10);
	assert_int_equal(r.granted, 200000);
	/* Unscheduled bytes are not the scheduler's incoming. */
	assert_int_equal(homa_grant_total_incoming(&f->g), 160000);

	receive(f, &r, 100000, 20);
	assert_int_equal(f->n, 2);
	assert_int_equal(r.granted, 300000);
	assert_int_equal(homa_grant_total_incoming(&f->g), 200000);
	/* A duplicate report grants nothing more. */
	receive(f, &r, 100000, 30);
	assert_int_equal(f->n, 2);
}

static void test_check__fixed_window_setting_is_used(void **state)
{
	struct fixture *f = fixture_new();
	struct homa_grant_rpc r;

	(void)state;
	f->s.window = 60000;
	msg_init(&r, &peer_a, 0, 1000000, 40000);
	receive(f, &r, 30000, 1);
	assert_int_equal(r.granted, 90000);
}

static void test_check__grants_never_exceed_length(void **state)
{
	struct fixture *f = fixture_new();
	struct homa_grant_rpc r;

	(void)state;
	msg_init(&r, &peer_a, 0, 100000, 40000);
	homa_grant_check(&f->g, &r, 1);
	assert_int_equal(f->n, 1);
	assert_int_equal(r.granted, 100000);
	/* Fully granted: no longer grantable, but its bytes are still incoming. */
	assert_int_equal(homa_grant_num_grantable(&f->g), 0);
	assert_int_equal(homa_grant_num_active(&f->g), 0);
	assert_int_equal(homa_grant_total_incoming(&f->g), 60000);
	receive(f, &r, 70000, 2);
	assert_int_equal(homa_grant_total_incoming(&f->g), 30000);
	receive(f, &r, 100000, 3);
	assert_int_equal(homa_grant_total_incoming(&f->g), 0);
	assert_int_equal(r.state, HOMA_GRANT_UNMANAGED);
	assert_int_equal(f->n, 1);
}

static void test_check__message_within_unscheduled_is_ignored(void **state)
{
	struct fixture *f = fixture_new();
	struct homa_grant_rpc r;

	(void)state;
	msg_init(&r, &peer_a, 0, 30000, 40000);
	homa_grant_check(&f->g, &r, 1);
	receive(f, &r, 30000, 2);
	assert_int_equal(f->n, 0);
	assert_int_equal(r.state, HOMA_GRANT_UNMANAGED);
	assert_int_equal(homa_grant_num_grantable(&f->g), 0);
}

static void test_check__srpt_shorter_remaining_gets_higher_priority(void **state)
{
	struct fixture *f = fixture_new();
	struct homa_grant_rpc a, b;

	(void)state;
	msg_init(&a, &peer_a, 0, 500000, 40000);
	msg_init(&b, &peer_b, 1, 200000, 40000);
	homa_grant_check(&f->g, &a, 1);
	homa_grant_check(&f->g, &b, 2);
	/* Two active, M = 3: rank 0 gets 3 - 0 - 2 = 1, rank 1 gets 0. */
	assert_int_equal(last_for(f, &b)->priority, 1);
	receive(f, &a, 100000, 3);
	assert_int_equal(last_for(f, &a)->priority, 0);
	assert_int_equal(last_for(f, &a)->now, 3);
}

static void test_check__srpt_shorter_remaining_granted_first(void **state)
{
	struct fixture *f = fixture_new();
	struct homa_grant_rpc a, b;
	size_t before;

	(void)state;
	f->s.max_incoming = 60000;
	f->s.window = 50000;
	f->s.grant_fifo_fraction = 0;
	msg_init(&a, &peer_a, 0, 500000, 10000);
	msg_init(&b, &peer_b, 1, 100000, 10000);
	homa_grant_check(&f->g, &a, 1);
	assert_int_equal(a.granted, 50000);
	homa_grant_check(&f->g, &b, 2);
	/* Only 20000 bytes of headroom left for b. */
	assert_int_equal(b.granted, 30000);
	assert_int_equal(homa_grant_total_incoming(&f->g), 60000);

	/* a's granted bytes arrive: the freed headroom goes to b first. */
	before = f->n;
	receive(f, &a, 50000, 3);
	assert_int_equal(f->n, before + 2);
	assert_ptr_equal(f->rec[before].r, &b);
	assert_int_equal(b.granted, 50000);
	assert_ptr_equal(f->rec[before + 1].r, &a);
	assert_int_equal(a.granted, 70000);
	assert_int_equal(homa_grant_total_incoming(&f->g), 60000);
}

static void test_check__rank_refreshed_as_data_arrives(void **state)
{
	struct fixture *f = fixture_new();
	struct homa_grant_rpc a, b;

	(void)state;
	msg_init(&a, &peer_a, 0, 350000, 40000);
	msg_init(&b, &peer_b, 1, 200000, 40000);
	homa_grant_check(&f->g, &a, 1);
	homa_grant_check(&f->g, &b, 2);
	assert_ptr_equal(f->g.active[0], &b);
	/* a now has 150000 remaining, b 200000: a must take rank 0. */
	receive(f, &a, 200000, 3);
	assert_ptr_equal(f->g.active[0], &a);
	assert_int_equal(last_for(f, &a)->priority, 1);
}

static void test_check__ties_go_to_older_message(void **state)
{
	struct fixture *f = fixture_new();
	struct homa_grant_rpc a, b;

	(void)state;
	msg_init(&a, &peer_a, 50, 300000, 40000);
	msg_init(&b, &peer_b, 40, 300000, 40000);
	homa_grant_check(&f->g, &a, 60);
	homa_grant_check(&f->g, &b, 61);
	assert_ptr_equal(f->g.active[0], &b);
	assert_ptr_equal(f->g.active[1], &a);
}

static void test_check__only_max_overcommit_active_promotion_on_completion(void **state)
{
	struct fixture *f = fixture_new();
	struct homa_grant_rpc m[3];
	const void *peers[3] = {&peer_a, &peer_b, &peer_c};

	(void)state;
	f->s.max_overcommit = 2;
	f->s.grant_fifo_fraction = 0;
	for (int i = 0; i < 3; i++) {
		msg_init(&m[i], peers[i], (uint64_t)i, 100000 * (uint32_t)(i + 5), 10000);
		homa_grant_check(&f->g, &m[i], (uint64_t)i);
	}
	assert_int_equal(homa_grant_num_active(&f->g), 2);
	assert_int_equal(homa_grant_num_grantable(&f->g), 3);
	assert_true(m[0].active && m[1].active && !m[2].active);
	assert_null(last_for(f, &m[2]));

	/* The shortest completes: the longest is promoted and granted. */
	receive(f, &m[0], m[0].length, 10);
	assert_int_equal(homa_grant_num_active(&f->g), 2);
	assert_true(m[2].active);
	assert_non_null(last_for(f, &m[2]));
	assert_int_equal(last_for(f, &m[2])->now, 10);
}

static void test_check__newcomer_displaces_worse_active_message(void **state)
{
	struct fixture *f = fixture_new();
	struct homa_grant_rpc a, b;
	uint64_t incoming;

	(void)state;
	f->s.max_overcommit = 1;
	f->s.grant_fifo_fraction = 0;
	msg_init(&a, &peer_a, 0, 900000, 10000);
	msg_init(&b, &peer_b, 1, 300000, 10000);
	homa_grant_check(&f->g, &a, 1);
	incoming = homa_grant_total_incoming(&f->g);
	assert_true(incoming > 0);
	homa_grant_check(&f->g, &b, 2);
	assert_true(b.active);
	assert_false(a.active);
	/* a's outstanding grants still count until they arrive. */
	assert_true(homa_grant_total_incoming(&f->g) > incoming);
}

static void test_check__each_peer_gets_a_slot_before_any_gets_a_second(void **state)
{
	struct fixture *f = fixture_new();
	struct homa_grant_rpc x1, x2, x3, y, z;

	(void)state;
	f->s.max_overcommit = 3;
	f->s.window = 20000;
	f->s.grant_fifo_fraction = 0;
	msg_init(&x1, &peer_a, 0, 100000, 10000);
	msg_init(&x2, &peer_a, 1, 110000, 10000);
	msg_init(&x3, &peer_a, 2, 120000, 10000);
	msg_init(&y, &peer_b, 3, 900000, 10000);
	msg_init(&z, &peer_c, 4, 800000, 10000);
	homa_grant_check(&f->g, &x1, 1);
	homa_grant_check(&f->g, &x2, 2);
	homa_grant_check(&f->g, &x3, 3);
	assert_true(x1.active && x2.active && x3.active);
	homa_grant_check(&f->g, &y, 4);
	assert_true(x1.active && x2.active && y.active);
	assert_false(x3.active);
	homa_grant_check(&f->g, &z, 5);
	assert_true(x1.active && y.active && z.active);
	assert_false(x2.active);
	/* Ranks among active still follow SRPT. */
	assert_ptr_equal(f->g.active[0], &x1);
	assert_ptr_equal(f->g.active[1], &z);
	assert_ptr_equal(f->g.active[2], &y);
	/* When z leaves, peer a gets its second slot back. */
	homa_grant_remove(&f->g, &z, 6);
	assert_true(x2.active);
}

static void test_priority__table_for_1_4_8_active(void **state)
{
	struct fixture *f = fixture_new();
	static const int four[4] = {3, 2, 1, 0};
	static const int eight[8] = {3, 2, 1, 0, 0, 0, 0, 0};

	(void)state;
	assert_int_equal(homa_grant_priority(&f->g, 0, 1), 0);
	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(homa_grant_priority(&f->g, i, 4), four[i]);
	for (uint32_t i = 0; i < 8; i++)
		assert_int_equal(homa_grant_priority(&f->g, i, 8), eight[i]);
	homa_grant_set_max_sched_prio(&f->g, 5);
	assert_int_equal(homa_grant_priority(&f->g, 0, 8), 5);
	assert_int_equal(homa_grant_priority(&f->g, 0, 2), 1);
	/* A level above the available priorities is clamped. */
	homa_grant_set_max_sched_prio(&f->g, 12);
	assert_int_equal(homa_grant_priority(&f->g, 0, 8), 7);
	f->s.num_priorities = 1;
	for (uint32_t i = 0; i < 8; i++)
		assert_int_equal(homa_grant_priority(&f->g, i, 8), 0);
}

static void test_check__grant_priorities_with_four_active(void **state)
{
	struct fixture *f = fixture_new();
	struct homa_grant_rpc m[4];
	const void *peers[4] = {&peer_a, &peer_b, &peer_c, &peer_d};

	(void)state;
	f->s.window = 50000;
	f->s.grant_fifo_fraction = 0;
	for (int i = 0; i < 4; i++) {
		msg_init(&m[i], peers[i], (uint64_t)i, 200000 * (uint32_t)(i + 1), 10000);
		homa_grant_check(&f->g, &m[i], (uint64_t)i);
	}
	/* Each reports progress; each one's grant carries its rank's level. */
	for (int i = 0; i < 4; i++) {
		receive(f, &m[i], m[i].granted, 10);
		assert_int_equal(last_for(f, &m[i])->priority, 3 - i);
	}
}

static void test_remove__is_idempotent(void **state)
{
	struct fixture *f = fixture_new();
	struct homa_grant_rpc a, b, never;

	(void)state;
	msg_init(&a, &peer_a, 0, 500000, 40000);
	msg_init(&b, &peer_b, 1, 600000, 40000);
	msg_init(&never, &peer_c, 2, 600000, 40000);
	homa_grant_check(&f->g, &a, 1);
	homa_grant_check(&f->g, &b, 2);
	homa_grant_remove(&f->g, &a, 3);
	assert_int_equal(homa_grant_num_grantable(&f->g), 1);
	assert_int_equal(homa_grant_total_incoming(&f->g), b.granted - 40000);
	size_t n = f->n;
	homa_grant_remove(&f->g, &a, 4);
	homa_grant_remove(&f->g, &never, 4);
	assert_int_equal(f->n, n);
	assert_int_equal(homa_grant_num_grantable(&f->g), 1);
	assert_int_equal(homa_grant_num_active(&f->g), 1);
	assert_ptr_equal(f->g.head, &b);
	assert_null(b.next);
	homa_grant_remove(&f->g, &b, 5);
	homa_grant_remove(&f->g, &b, 5);
	assert_int_equal(homa_grant_total_incoming(&f->g), 0);
	assert_null(f->g.head);
	assert_null(f->g.tail);
}

static void test_remove__frees_headroom_for_others(void **state)
{
	struct fixture *f = fixture_new();
	struct homa_grant_rpc a, b;

	(void)state;
	f->s.max_incoming = 90000;
	f->s.window = 100000;
	f->s.grant_fifo_fraction = 0;
	msg_init(&a, &peer_a, 0, 500000, 10000);
	msg_init(&b, &peer_b, 1, 600000, 10000);
	homa_grant_check(&f->g, &a, 1);
	homa_grant_check(&f->g, &b, 2);
	assert_int_equal(b.granted, 10000); /* no headroom: b is needy */
	homa_grant_remove(&f->g, &a, 3);
	assert_int_equal(b.granted, 100000);
	assert_int_equal(last_for(f, &b)->now, 3);
}

static void test_tick__serves_needy_slot_after_settings_change(void **state)
{
	struct fixture *f = fixture_new();
	struct homa_grant_rpc a;

	(void)state;
	f->s.max_incoming = 20000;
	f->s.window = 100000;
	f->s.grant_fifo_fraction = 0;
	msg_init(&a, &peer_a, 0, 500000, 10000);
	homa_grant_check(&f->g, &a, 1);
	assert_int_equal(a.granted, 30000);
	f->s.max_incoming = 200000;
	homa_grant_tick(&f->g, 2);
	assert_int_equal(a.granted, 100000);
}

static void test_fifo__interval_from_link_rate(void **state)
{
	struct homa_settings s;

	(void)state;
	settings_default(&s);
	/* 50 KB at 5% of 25 Gbps = 1.25 Gbps -> 320 us. */
	assert_int_equal(homa_grant_fifo_interval(&s), 320000);
	s.grant_fifo_fraction = 900; /* capped at 500 permil */
	assert_int_equal(homa_grant_fifo_interval(&s), 32000);
	s.grant_fifo_fraction = 0;
	assert_int_equal(homa_grant_fifo_interval(&s), 0);
	s.grant_fifo_fraction = 50;
	s.fifo_grant_increment = 0;
	assert_int_equal(homa_grant_fifo_interval(&s), 0);
}

static void test_fifo__oldest_granted_after_interval(void **state)
{
	struct fixture *f = fixture_new();
	struct homa_grant_rpc old, young;
	size_t n;

	(void)state;
	f->s.max_overcommit = 1;
	f->s.max_incoming = 100000;
	msg_init(&old, &peer_a, 0, 900000, 10000);
	msg_init(&young, &peer_b, 5, 200000, 10000);
	homa_grant_check(&f->g, &old, 0); /* arms the FIFO clock: due at 320000 */
	homa_grant_check(&f->g, &young, 5);
	assert_false(old.active);
	uint32_t before = old.granted;
	n = f->n;
	homa_grant_tick(&f->g, 319999);
	assert_int_equal(f->n, n);
	homa_grant_tick(&f->g, 320000);
	assert_int_equal(f->n, n + 1);
	assert_ptr_equal(f->rec[n].r, &old);
	assert_int_equal(f->rec[n].offset, before + 50000);
	assert_int_equal(f->rec[n].priority, 6);
	assert_int_equal(f->g.fifo_grant_bytes, 50000);
	assert_true(homa_grant_total_incoming(&f->g) > f->s.max_incoming);
	assert_true(homa_grant_total_incoming(&f->g) <= homa_grant_incoming_bound(&f->g));
	/* Not again before another interval. */
	homa_grant_tick(&f->g, 320001);
	assert_int_equal(f->n, n + 1);
}

static void test_fifo__skips_unresponsive_sender(void **state)
{
	struct fixture *f = fixture_new();
	struct homa_grant_rpc old, next, best;

	(void)state;
	f->s.max_overcommit = 1;
	f->s.max_incoming = 1000000;
	f->s.window = 10000;
	msg_init(&old, &peer_a, 0, 900000, 10000);
	msg_init(&next, &peer_b, 1, 900000, 10000);
	msg_init(&best, &peer_c, 2, 200000, 10000); /* the active one */
	homa_grant_check(&f->g, &old, 0);
	homa_grant_check(&f->g, &next, 1);
	homa_grant_check(&f->g, &best, 2);
	assert_true(best.active);
	/* old got FIFO grants but sent nothing: window + 2 * increment unreceived. */
	homa_grant_tick(&f->g, 320000);
	homa_grant_tick(&f->g, 640000);
	assert_int_equal(old.granted, 110000);
	homa_grant_tick(&f->g, 960000);
	assert_int_equal(old.granted, 110000);
	assert_ptr_equal(f->rec[f->n - 1].r, &next);
}

static void test_fifo__priority_clamped_with_one_level(void **state)
{
	struct fixture *f = fixture_new();
	struct homa_grant_rpc a, b;

	(void)state;
	f->s.num_priorities = 1;
	f->s.max_incoming = 10000;
	f->s.max_overcommit = 1;
	msg_init(&a, &peer_a, 0, 900000, 10000);
	msg_init(&b, &peer_b, 1, 200000, 10000); /* active: a gets no SRPT grants */
	homa_grant_check(&f->g, &a, 0);
	homa_grant_check(&f->g, &b, 1);
	homa_grant_tick(&f->g, 320000);
	assert_ptr_equal(f->rec[f->n - 1].r, &a);
	assert_int_equal(f->rec[f->n - 1].priority, 0);
	assert_int_equal(f->g.fifo_grant_bytes, 50000);
}

static void test_fifo__waits_while_bound_would_be_exceeded(void **state)
{
	struct fixture *f = fixture_new();
	struct homa_grant_rpc a, b;

	(void)state;
	f->s.max_incoming = 100000;
	f->s.window = 100000;
	f->s.max_overcommit = 1;
	msg_init(&a, &peer_a, 0, 900000, 10000);
	msg_init(&b, &peer_b, 1, 200000, 10000);
	homa_grant_check(&f->g, &a, 0);
	assert_int_equal(homa_grant_total_incoming(&f->g), 90000);
	homa_grant_check(&f->g, &b, 1); /* b takes the slot and the last 10000 */
	assert_false(a.active);
	assert_int_equal(b.granted, 20000);
	assert_int_equal(homa_grant_total_incoming(&f->g), 100000);
	homa_grant_tick(&f->g, 320000); /* first FIFO grant, to a */
	assert_int_equal(a.granted, 150000);
	assert_int_equal(homa_grant_total_incoming(&f->g), 150000);
	homa_grant_tick(&f->g, 640000); /* would reach 200000 > bound: waits */
	assert_int_equal(homa_grant_total_incoming(&f->g), 150000);
	assert_int_equal(f->g.fifo_grant_bytes, 50000);
	/* 70000 arrive: SRPT tops b up to max_incoming, then the due FIFO grant goes. */
	receive(f, &a, 70000, 650000);
	assert_int_equal(b.granted, 30000);
	assert_int_equal(f->g.fifo_grant_bytes, 100000);
	assert_int_equal(a.granted, 200000);
	assert_int_equal(homa_grant_total_incoming(&f->g),
			 homa_grant_incoming_bound(&f->g));
}

static void test_fifo__skips_message_srpt_serves_in_full(void **state)
{
	struct fixture *f = fixture_new();
	struct homa_grant_rpc a, b;

	(void)state;
	f->s.max_incoming = 100000;
	f->s.window = 60000;
	msg_init(&a, &peer_a, 0, 900000, 10000);
	homa_grant_check(&f->g, &a, 0);
	assert_int_equal(a.granted, 60000);
	/* a has its whole window: it is not starving, so no FIFO grant. */
	homa_grant_tick(&f->g, 320000);
	homa_grant_tick(&f->g, 640000);
	assert_int_equal(f->g.fifo_grant_bytes, 0);
	assert_int_equal(a.granted, 60000);
	/* b ranks better and takes most of the headroom: a, the oldest, is
	 * now short of it and the FIFO grant goes to a. */
	msg_init(&b, &peer_b, 700000, 100000, 10000);
	homa_grant_check(&f->g, &b, 700000);
	assert_int_equal(b.granted, 60000);
	assert_int_equal(homa_grant_total_incoming(&f->g), 100000);
	receive(f, &a, 5000, 700001); /* 5000 free: below the minimum grant */
	assert_int_equal(a.granted, 60000);
	homa_grant_tick(&f->g, 960000);
	assert_int_equal(f->g.fifo_grant_bytes, 50000);
	assert_int_equal(a.granted, 110000);
}

static void test_fifo__clock_restarts_when_nobody_waits(void **state)
{
	struct fixture *f = fixture_new();
	struct homa_grant_rpc a, b;
	size_t n;

	(void)state;
	f->s.max_overcommit = 1;
	homa_grant_tick(&f->g, 0);	/* arms: due at 320000 */
	homa_grant_tick(&f->g, 400000); /* due, nobody waiting: next at 720000 */
	msg_init(&a, &peer_a, 500000, 900000, 10000);
	msg_init(&b, &peer_b, 500001, 300000, 10000); /* active: a waits */
	homa_grant_check(&f->g, &a, 500000);
	homa_grant_check(&f->g, &b, 500001);
	n = f->n;
	homa_grant_tick(&f->g, 719999);
	assert_int_equal(f->n, n);
	assert_int_equal(f->g.fifo_grant_bytes, 0);
	homa_grant_tick(&f->g, 720000);
	assert_int_equal(f->g.fifo_grant_bytes, 50000);
}

static void test_fifo__grant_cut_at_length_makes_message_full(void **state)
{
	struct fixture *f = fixture_new();
	struct homa_grant_rpc a, b;

	(void)state;
	f->s.window = 10000;
	f->s.max_overcommit = 1;
	msg_init(&a, &peer_a, 0, 30000, 10000);
	msg_init(&b, &peer_b, 1, 20000, 10000); /* active: a waits */
	homa_grant_check(&f->g, &a, 0);
	homa_grant_check(&f->g, &b, 1);
	homa_grant_tick(&f->g, 320000);
	assert_int_equal(a.granted, 30000);
	assert_int_equal(f->g.fifo_grant_bytes, 20000);
	assert_int_equal(a.state, HOMA_GRANT_FULL);
	assert_int_equal(homa_grant_num_grantable(&f->g), 1); /* b */
}

static void test_check__bytes_beyond_grant_count_nothing_incoming(void **state)
{
	struct fixture *f = fixture_new();
	struct homa_grant_rpc a;

	(void)state;
	f->s.window = 50000;
	f->s.grant_fifo_fraction = 0;
	msg_init(&a, &peer_a, 0, 900000, 10000);
	homa_grant_check(&f->g, &a, 0);
	assert_int_equal(homa_grant_total_incoming(&f->g), 40000);
	/* A misbehaving sender sent past its grant. */
	receive(f, &a, 70000, 1);
	assert_int_equal(a.granted, 120000);
	assert_int_equal(homa_grant_total_incoming(&f->g), 50000);
}

static void test_check__removed_message_starts_afresh(void **state)
{
	struct fixture *f = fixture_new();
	struct homa_grant_rpc a;

	(void)state;
	f->s.window = 50000;
	f->s.grant_fifo_fraction = 0;
	msg_init(&a, &peer_a, 0, 900000, 10000);
	homa_grant_check(&f->g, &a, 0);
	homa_grant_remove(&f->g, &a, 1); /* e.g. stalled for buffers */
	assert_int_equal(homa_grant_total_incoming(&f->g), 0);
	homa_grant_check(&f->g, &a, 2);
	/* Its earlier grant now counts as unscheduled: nothing new is due. */
	assert_int_equal(a.granted, 50000);
	assert_int_equal(a.base, 50000);
	assert_int_equal(homa_grant_total_incoming(&f->g), 0);
	receive(f, &a, 20000, 3);
	assert_int_equal(a.granted, 70000);
	assert_int_equal(homa_grant_total_incoming(&f->g), 20000);
}

static void test_destroy__forgets_all_rpcs(void **state)
{
	struct fixture *f = fixture_new();
	struct homa_grant_rpc a, b;

	(void)state;
	msg_init(&a, &peer_a, 0, 500000, 40000);
	msg_init(&b, &peer_b, 1, 60000, 40000);
	homa_grant_check(&f->g, &a, 1);
	homa_grant_check(&f->g, &b, 1); /* fully granted at once */
	homa_grant_destroy(&f->g);
	assert_int_equal(a.state, HOMA_GRANT_UNMANAGED);
	assert_int_equal(b.state, HOMA_GRANT_UNMANAGED);
	assert_false(a.active);
	assert_int_equal(homa_grant_num_grantable(&f->g), 0);
	assert_int_equal(homa_grant_num_active(&f->g), 0);
	assert_int_equal(homa_grant_total_incoming(&f->g), 0);
}

/* ------------------------------------------------ seeded random walk */

#define WALK_MSGS 64

struct walk_msg {
	struct homa_grant_rpc r;
	int live;
	uint32_t last_granted;
};

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

/*
 * Oracle for the active set: with k = how many better messages of the same
 * peer precede an entry, the active messages are the max_overcommit entries
 * smallest in (k, rank order). Also checks the list is in rank order with
 * fresh snapshots.
 */
static void walk_check_active(const struct fixture *f)
{
	enum { MAX = 64 };
	const struct homa_grant_rpc *e[MAX];
	uint32_t k[MAX], n = 0, chosen = 0;
	uint32_t limit = f->s.max_overcommit;

	for (const struct homa_grant_rpc *r = f->g.head; r; r = r->next) {
		assert_true(n < MAX);
		assert_int_equal(r->rank_remaining, r->length - r->received);
		if (n > 0)
			assert_true(e[n - 1]->rank_remaining <= r->rank_remaining);
		k[n] = 0;
		for (uint32_t j = 0; j < n; j++)
			k[n] += e[j]->peer == r->peer;
		e[n++] = r;
	}
	for (uint32_t round = 0; chosen < limit && round < MAX; round++)
		for (uint32_t i = 0; i < n && chosen < limit; i++)
			if (k[i] == round) {
				assert_true(e[i]->active);
				chosen++;
			}
	assert_int_equal(f->g.num_active, chosen);
}

/* Recomputes what total_incoming must be and checks the scheduler's state. */
static void walk_check(struct fixture *f, struct walk_msg *m)
{
	uint64_t total = 0;
	size_t grantable = 0, active = 0;

	for (int i = 0; i < WALK_MSGS; i++) {
		struct homa_grant_rpc *r = &m[i].r;
		uint32_t floor;

		if (!m[i].live)
			continue;
		assert_true(r->granted <= r->length);
		assert_true(r->granted >= m[i].last_granted);
		m[i].last_granted = r->granted;
		if (r->state == HOMA_GRANT_UNMANAGED)
			continue;
		floor = r->received > r->base ? r->received : r->base;
		total += r->granted > floor ? r->granted - floor : 0;
		grantable += r->state == HOMA_GRANT_GRANTABLE;
		active += r->active;
	}
	assert_int_equal(homa_grant_total_incoming(&f->g), total);
	assert_true(total <= homa_grant_incoming_bound(&f->g));
	assert_int_equal(homa_grant_num_grantable(&f->g), grantable);
	assert_int_equal(homa_grant_num_active(&f->g), active);
	assert_true(active <= f->s.max_overcommit);
	if (grantable >= f->s.max_overcommit)
		assert_int_equal(active, f->s.max_overcommit);
	else
		assert_int_equal(active, grantable);
	for (uint32_t i = 1; i < f->g.num_active; i++)
		assert_true(f->g.active[i - 1]->rank_remaining <=
			    f->g.active[i]->rank_remaining);
	walk_check_active(f);
}

static void walk_step(struct fixture *f, struct walk_msg *m, uint64_t *rng, uint64_t now)
{
	static const int peers[4];
	int i = (int)(rng_next(rng) % WALK_MSGS);
	struct homa_grant_rpc *r = &m[i].r;
	uint64_t op = rng_next(rng) % 10;

	if (!m[i].live) {
		uint32_t len = 1 + (uint32_t)(rng_next(rng) % 1000000);

		msg_init(r, &peers[rng_next(rng) % 4], now, len, 40000);
		m[i].live = 1;
		m[i].last_granted = r->granted;
		homa_grant_check(&f->g, r, now);
	} else if (op < 7) {
		/* The sender delivers part of what it may send. */
		uint32_t room = r->granted - r->received;

		r->received += room ? 1 + (uint32_t)(rng_next(rng) % room) : 0;
		homa_grant_check(&f->g, r, now);
		if (r->received == r->length)
			m[i].live = 0;
	} else if (op < 9) {
		homa_grant_remove(&f->g, r, now);
		m[i].live = 0;
	} else {
		homa_grant_tick(&f->g, now);
	}
}

/* Delivers every granted byte until all messages complete: nobody starves. */
static void walk_drain(struct fixture *f, struct walk_msg *m, uint64_t now)
{
	int live = 1;

	for (int round = 0; live && round < 100000; round++) {
		live = 0;
		for (int i = 0; i < WALK_MSGS; i++) {
			if (!m[i].live)
				continue;
			if (m[i].r.received < m[i].r.granted)
				receive(f, &m[i].r, m[i].r.granted, now);
			if (m[i].r.received == m[i].r.length)
				m[i].live = 0;
			live |= m[i].live;
			walk_check(f, m);
		}
		now += 1000;
		homa_grant_tick(&f->g, now);
	}
	assert_false(live);
}

/* Runs one walk; returns the highest total_incoming seen. */
static uint64_t run_walk(uint64_t seed, uint32_t overcommit, uint32_t window,
			 uint32_t fifo_fraction)
{
	struct fixture *f = fixture_new();
	static struct walk_msg m[WALK_MSGS];
	uint64_t rng = seed, now = 0, peak = 0;

	memset(m, 0, sizeof(m));
	f->s.max_overcommit = overcommit;
	f->s.window = window;
	f->s.grant_fifo_fraction = fifo_fraction;
	for (int step = 0; step < 5000; step++) {
		now += rng_next(&rng) % 20000;
		walk_step(f, m, &rng, now);
		walk_check(f, m);
		if (homa_grant_total_incoming(&f->g) > peak)
			peak = homa_grant_total_incoming(&f->g);
	}
	assert_true(fifo_fraction == 0 || f->g.fifo_grant_bytes > 0);
	walk_drain(f, m, now);
	assert_int_equal(homa_grant_total_incoming(&f->g), 0);
	assert_int_equal(homa_grant_num_grantable(&f->g), 0);
	return peak;
}

static void test_invariant__incoming_bound_holds_over_random_walk(void **state)
{
	uint64_t peak = 0, p;

	(void)state;
	for (uint64_t seed = 1; seed <= 8; seed++) {
		p = run_walk(seed * 0x9e3779b97f4a7c15ull, 8, 0, 50);
		peak = p > peak ? p : peak;
		p = run_walk(seed * 0x2545f4914f6cdd1dull, 1 + (uint32_t)seed % 8, 30000,
			     50);
		peak = p > peak ? p : peak;
	}
	/* The walks must have used the FIFO allowance, or they prove little. */
	assert_true(peak > 400000);
}

static void test_invariant__srpt_alone_starves_nobody_once_senders_deliver(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 4; seed++) {
		uint64_t p =
		    run_walk(seed * 0xbf58476d1ce4e5b9ull, 1 + (uint32_t)seed % 8, 0, 0);

		assert_true(p <= 400000);
	}
}

static void test_check__small_window_advance_is_coalesced(void **state)
{
	struct fixture *f = fixture_new();
	struct homa_grant_rpc a;

	(void)state;
	f->s.window = 50000; /* minimum grant: 4 * 1472 = 5888 bytes */
	msg_init(&a, &peer_a, 0, 900000, 10000);
	homa_grant_check(&f->g, &a, 0);
	assert_int_equal(a.granted, 50000);
	receive(f, &a, 1400, 1);
	receive(f, &a, 5000, 2);
	assert_int_equal(f->n, 1);
	receive(f, &a, 6000, 3);
	assert_int_equal(f->n, 2);
	assert_int_equal(a.granted, 56000);
}

/* A small window: the minimum grant is a quarter of it (not 4 packets). */
static void test_check__minimum_grant_is_a_quarter_of_a_small_window(void **state)
{
	struct fixture *f = fixture_new();
	struct homa_grant_rpc a;

	(void)state;
	f->s.window = 20000; /* minimum grant: 20000 / 4 = 5000 < 4 * 1472 */
	msg_init(&a, &peer_a, 0, 900000, 10000);
	homa_grant_check(&f->g, &a, 0);
	assert_int_equal(a.granted, 20000);
	receive(f, &a, 2500, 1);
	receive(f, &a, 4999, 2);
	assert_int_equal(f->n, 1);
	receive(f, &a, 5000, 3);
	assert_int_equal(f->n, 2);
	assert_int_equal(a.granted, 25000);
}

static void test_check__last_bytes_granted_below_minimum(void **state)
{
	struct fixture *f = fixture_new();
	struct homa_grant_rpc a;

	(void)state;
	f->s.window = 50000;
	msg_init(&a, &peer_a, 0, 52000, 10000);
	homa_grant_check(&f->g, &a, 0);
	receive(f, &a, 1000, 1);
	assert_int_equal(a.granted, 50000);
	receive(f, &a, 2000, 2);
	assert_int_equal(a.granted, 52000);
}

static void test_check__short_headroom_kept_for_best_message(void **state)
{
	struct fixture *f = fixture_new();
	struct homa_grant_rpc a, b, c;
	size_t n;

	(void)state;
	f->s.max_incoming = 60000; /* minimum grant: 5888 bytes */
	f->s.window = 50000;
	f->s.grant_fifo_fraction = 0;
	msg_init(&b, &peer_b, 0, 500000, 10000);
	msg_init(&a, &peer_a, 1, 45000, 10000);
	msg_init(&c, &peer_c, 2, 49000, 47000);
	homa_grant_check(&f->g, &b, 0);
	homa_grant_check(&f->g, &a, 1);
	assert_int_equal(a.granted, 30000);
	homa_grant_check(&f->g, &c, 2);
	assert_int_equal(homa_grant_total_incoming(&f->g), 60000);
	n = f->n;
	/* 4000 bytes of headroom: too little for a, and c (ranked below a) may
	 * not take it although its last 2000 bytes would fit. */
	receive(f, &b, 14000, 3);
	assert_int_equal(f->n, n);
	assert_int_equal(c.granted, 47000);
	receive(f, &b, 20000, 4); /* 10000 free: a gets it */
	assert_int_equal(f->n, n + 1);
	assert_int_equal(a.granted, 40000);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_init__max_sched_prio_from_default_cutoffs),
    cmocka_unit_test(test_check__single_message_granted_up_to_window),
    cmocka_unit_test(test_check__fixed_window_setting_is_used),
    cmocka_unit_test(test_check__grants_never_exceed_length),
    cmocka_unit_test(test_check__message_within_unscheduled_is_ignored),
    cmocka_unit_test(test_check__srpt_shorter_remaining_gets_higher_priority),
    cmocka_unit_test(test_check__srpt_shorter_remaining_granted_first),
    cmocka_unit_test(test_check__rank_refreshed_as_data_arrives),
    cmocka_unit_test(test_check__ties_go_to_older_message),
    cmocka_unit_test(test_check__only_max_overcommit_active_promotion_on_completion),
    cmocka_unit_test(test_check__newcomer_displaces_worse_active_message),
    cmocka_unit_test(test_check__each_peer_gets_a_slot_before_any_gets_a_second),
    cmocka_unit_test(test_check__grant_priorities_with_four_active),
    cmocka_unit_test(test_priority__table_for_1_4_8_active),
    cmocka_unit_test(test_remove__is_idempotent),
    cmocka_unit_test(test_remove__frees_headroom_for_others),
    cmocka_unit_test(test_tick__serves_needy_slot_after_settings_change),
    cmocka_unit_test(test_fifo__interval_from_link_rate),
    cmocka_unit_test(test_fifo__oldest_granted_after_interval),
    cmocka_unit_test(test_fifo__skips_unresponsive_sender),
    cmocka_unit_test(test_fifo__priority_clamped_with_one_level),
    cmocka_unit_test(test_fifo__waits_while_bound_would_be_exceeded),
    cmocka_unit_test(test_fifo__skips_message_srpt_serves_in_full),
    cmocka_unit_test(test_fifo__clock_restarts_when_nobody_waits),
    cmocka_unit_test(test_fifo__grant_cut_at_length_makes_message_full),
    cmocka_unit_test(test_check__bytes_beyond_grant_count_nothing_incoming),
    cmocka_unit_test(test_check__removed_message_starts_afresh),
    cmocka_unit_test(test_destroy__forgets_all_rpcs),
    cmocka_unit_test(test_check__small_window_advance_is_coalesced),
    cmocka_unit_test(test_check__minimum_grant_is_a_quarter_of_a_small_window),
    cmocka_unit_test(test_check__last_bytes_granted_below_minimum),
    cmocka_unit_test(test_check__short_headroom_kept_for_best_message),
    cmocka_unit_test(test_invariant__incoming_bound_holds_over_random_walk),
    cmocka_unit_test(test_invariant__srpt_alone_starves_nobody_once_senders_deliver),
};

HOMA_TEST_MAIN(tests)
