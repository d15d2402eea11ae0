/*
 * test_msgin.c - gap tracking of one incoming message (homa_msgin.c).
 */
#include "homa_test.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "homa_msgin.h"

/* An allocator that fails once `fail_after` more allocations have succeeded. */
struct fail_alloc {
	int fail_after; /* -1: never fail */
};

static void *fail_alloc_alloc(void *ctx, size_t size)
{
	struct fail_alloc *f = ctx;

	if (f->fail_after == 0)
		return NULL;
	if (f->fail_after > 0)
		f->fail_after--;
	return malloc(size);
}

static void fail_alloc_free(void *ctx, void *ptr, size_t size)
{
	(void)ctx;
	(void)size;
	free(ptr);
}

struct fixture {
	struct fail_alloc fa;
	struct homa_allocator a;
	struct homa_mem mem;
	struct homa_msgin m;
};

static void fixture_init(struct fixture *f, uint32_t length)
{
	f->fa.fail_after = -1;
	f->a = (struct homa_allocator){fail_alloc_alloc, fail_alloc_free, &f->fa};
	homa_mem_init(&f->mem, &f->a);
	homa_msgin_init(&f->m, length);
}

static void fixture_destroy(struct fixture *f)
{
	homa_msgin_destroy(&f->m, &f->mem);
	assert_int_equal(f->mem.in_use, 0);
}

static void assert_gap(const struct homa_msgin *m, uint32_t i, uint32_t start,
		       uint32_t end)
{
	assert_true(i < m->num_gaps);
	assert_int_equal(m->gaps[i].start, start);
	assert_int_equal(m->gaps[i].end, end);
}

/* Checks the module's invariant: sorted, disjoint, non-empty gaps below recv_end. */
static void assert_consistent(const struct homa_msgin *m)
{
	uint32_t gap_bytes = 0;

	for (uint32_t i = 0; i < m->num_gaps; i++) {
		assert_true(m->gaps[i].start < m->gaps[i].end);
		assert_true(m->gaps[i].end <= m->recv_end);
		if (i > 0)
			assert_true(m->gaps[i - 1].end < m->gaps[i].start);
		gap_bytes += m->gaps[i].end - m->gaps[i].start;
	}
	assert_true(m->recv_end <= m->length);
	assert_int_equal(m->bytes_remaining, m->length - m->recv_end + gap_bytes);
	assert_int_equal(homa_msgin_gap_bytes(m), gap_bytes);
}

static void test_init__nothing_received(void **state)
{
	struct fixture f;

	(void)state;
	fixture_init(&f, 5000);
	assert_int_equal(f.m.bytes_remaining, 5000);
	assert_int_equal(f.m.recv_end, 0);
	assert_int_equal(f.m.num_gaps, 0);
	assert_false(homa_msgin_complete(&f.m));
	fixture_destroy(&f);
}

static void test_add__in_order_completes(void **state)
{
	struct fixture f;

	(void)state;
	fixture_init(&f, 3000);
	assert_int_equal(homa_msgin_add(&f.m, &f.mem, 0, 1400, 1), 1400);
	assert_int_equal(homa_msgin_add(&f.m, &f.mem, 1400, 2800, 2), 1400);
	assert_false(homa_msgin_complete(&f.m));
	assert_int_equal(homa_msgin_add(&f.m, &f.mem, 2800, 3000, 3), 200);
	assert_true(homa_msgin_complete(&f.m));
	assert_int_equal(f.m.num_gaps, 0);
	assert_int_equal(f.m.recv_end, 3000);
	assert_int_equal(f.mem.in_use, 0); /* in-order data allocates nothing */
	fixture_destroy(&f);
}

static void test_add__out_of_order_creates_gap_with_time(void **state)
{
	struct fixture f;

	(void)state;
	fixture_init(&f, 10000);
	assert_int_equal(homa_msgin_add(&f.m, &f.mem, 3000, 4000, 77), 1000);
	assert_int_equal(f.m.recv_end, 4000);
	assert_int_equal(f.m.num_gaps, 1);
	assert_gap(&f.m, 0, 0, 3000);
	assert_int_equal(f.m.gaps[0].time, 77);
	assert_int_equal(f.m.bytes_remaining, 9000);
	assert_consistent(&f.m);
	fixture_destroy(&f);
}

static void test_add__strictly_inside_gap_splits_it(void **state)
{
	struct fixture f;

	(void)state;
	fixture_init(&f, 10000);
	homa_msgin_add(&f.m, &f.mem, 5000, 6000, 10);
	assert_int_equal(homa_msgin_add(&f.m, &f.mem, 2000, 3000, 20), 1000);
	assert_int_equal(f.m.num_gaps, 2);
	assert_gap(&f.m, 0, 0, 2000);
	assert_gap(&f.m, 1, 3000, 5000);
	/* Both pieces keep the creation time of the gap they came from. */
	assert_int_equal(f.m.gaps[0].time, 10);
	assert_int_equal(f.m.gaps[1].time, 10);
	assert_consistent(&f.m);
	fixture_destroy(&f);
}

static void test_add__gap_start_trims_gap(void **state)
{
	struct fixture f;

	(void)state;
	fixture_init(&f, 10000);
	homa_msgin_add(&f.m, &f.mem, 5000, 6000, 1);
	assert_int_equal(homa_msgin_add(&f.m, &f.mem, 0, 1000, 2), 1000);
	assert_int_equal(f.m.num_gaps, 1);
	assert_gap(&f.m, 0, 1000, 5000);
	assert_consistent(&f.m);
	fixture_destroy(&f);
}

static void test_add__gap_end_trims_gap(void **state)
{
	struct fixture f;

	(void)state;
	fixture_init(&f, 10000);
	homa_msgin_add(&f.m, &f.mem, 5000, 6000, 1);
	assert_int_equal(homa_msgin_add(&f.m, &f.mem, 4000, 5000, 2), 1000);
	assert_int_equal(f.m.num_gaps, 1);
	assert_gap(&f.m, 0, 0, 4000);
	assert_consistent(&f.m);
	fixture_destroy(&f);
}

static void test_add__fill_gap_exactly_removes_it(void **state)
{
	struct fixture f;

	(void)state;
	fixture_init(&f, 6000);
	homa_msgin_add(&f.m, &f.mem, 0, 1000, 1);
	homa_msgin_add(&f.m, &f.mem, 2000, 6000, 1);
	assert_int_equal(f.m.num_gaps, 1);
	assert_int_equal(homa_msgin_add(&f.m, &f.mem, 1000, 2000, 2), 1000);
	assert_int_equal(f.m.num_gaps, 0);
	assert_true(homa_msgin_complete(&f.m));
	fixture_destroy(&f);
}

static void test_add__overlaps_gap_start_counts_only_missing(void **state)
{
	struct fixture f;

	(void)state;
	fixture_init(&f, 10000);
	homa_msgin_add(&f.m, &f.mem, 0, 2000, 1);
	homa_msgin_add(&f.m, &f.mem, 4000, 5000, 1); /* gap [2000, 4000) */
	/* The reference drops this whole packet; only [2000, 2500) is new. */
	assert_int_equal(homa_msgin_add(&f.m, &f.mem, 1500, 2500, 2), 500);
	assert_gap(&f.m, 0, 2500, 4000);
	assert_int_equal(f.m.bytes_remaining, 10000 - 2000 - 1000 - 500);
	assert_consistent(&f.m);
	fixture_destroy(&f);
}

static void test_add__overlaps_gap_end_counts_only_missing(void **state)
{
	struct fixture f;

	(void)state;
	fixture_init(&f, 10000);
	homa_msgin_add(&f.m, &f.mem, 4000, 5000, 1); /* gap [0, 4000) */
	assert_int_equal(homa_msgin_add(&f.m, &f.mem, 3500, 4500, 2), 500);
	assert_gap(&f.m, 0, 0, 3500);
	assert_consistent(&f.m);
	fixture_destroy(&f);
}

static void test_add__overlaps_end_extends_recv_end(void **state)
{
	struct fixture f;

	(void)state;
	fixture_init(&f, 10000);
	homa_msgin_add(&f.m, &f.mem, 0, 2000, 1);
	assert_int_equal(homa_msgin_add(&f.m, &f.mem, 1000, 3000, 2), 1000);
	assert_int_equal(f.m.recv_end, 3000);
	assert_int_equal(f.m.num_gaps, 0);
	assert_consistent(&f.m);
	fixture_destroy(&f);
}

static void test_add__spans_several_gaps_and_recv_end(void **state)
{
	struct fixture f;

	(void)state;
	fixture_init(&f, 10000);
	homa_msgin_add(&f.m, &f.mem, 1000, 2000, 1);
	homa_msgin_add(&f.m, &f.mem, 3000, 4000, 1);
	homa_msgin_add(&f.m, &f.mem, 5000, 6000, 1);
	assert_int_equal(f.m.num_gaps, 3); /* [0,1000) [2000,3000) [4000,5000) */
	/* [500, 7000): 500 + 1000 + 1000 from the gaps, 1000 beyond recv_end. */
	assert_int_equal(homa_msgin_add(&f.m, &f.mem, 500, 7000, 2), 3500);
	assert_int_equal(f.m.num_gaps, 1);
	assert_gap(&f.m, 0, 0, 500);
	assert_int_equal(f.m.recv_end, 7000);
	assert_consistent(&f.m);
	fixture_destroy(&f);
}

static void test_add__duplicate_returns_zero(void **state)
{
	struct fixture f;

	(void)state;
	fixture_init(&f, 10000);
	homa_msgin_add(&f.m, &f.mem, 0, 1000, 1);
	homa_msgin_add(&f.m, &f.mem, 3000, 4000, 1);
	assert_int_equal(homa_msgin_add(&f.m, &f.mem, 0, 1000, 2), 0);
	assert_int_equal(homa_msgin_add(&f.m, &f.mem, 3000, 4000, 2), 0);
	assert_int_equal(homa_msgin_add(&f.m, &f.mem, 3200, 3300, 2), 0);
	assert_int_equal(f.m.num_gaps, 1);
	assert_gap(&f.m, 0, 1000, 3000);
	assert_int_equal(f.m.bytes_remaining, 8000);
	fixture_destroy(&f);
}

static void test_add__rejects_empty_and_beyond_length(void **state)
{
	struct fixture f;

	(void)state;
	fixture_init(&f, 1000);
	assert_int_equal(homa_msgin_add(&f.m, &f.mem, 100, 100, 1), -EINVAL);
	assert_int_equal(homa_msgin_add(&f.m, &f.mem, 200, 100, 1), -EINVAL);
	assert_int_equal(homa_msgin_add(&f.m, &f.mem, 900, 1001, 1), -EINVAL);
	assert_int_equal(homa_msgin_add(&f.m, &f.mem, 1000, 1400, 1), -EINVAL);
	assert_int_equal(homa_msgin_add(&f.m, &f.mem, 0xfffff000u, 0xffffffffu, 1),
			 -EINVAL);
	assert_int_equal(f.m.bytes_remaining, 1000);
	assert_int_equal(f.m.recv_end, 0);
	assert_int_equal(homa_msgin_add(&f.m, &f.mem, 900, 1000, 1), 100);
	fixture_destroy(&f);
}

static void test_add__gap_cap_refuses_and_changes_nothing(void **state)
{
	struct fixture f;
	uint32_t remaining;

	(void)state;
	fixture_init(&f, 1000000);
	/* Every other 100-byte slice: each adds one gap. */
	for (uint32_t i = 0; i < HOMA_MSGIN_MAX_GAPS; i++)
		assert_int_equal(
		    homa_msgin_add(&f.m, &f.mem, 200 * i + 100, 200 * i + 200, i), 100);
	assert_int_equal(f.m.num_gaps, HOMA_MSGIN_MAX_GAPS);
	remaining = f.m.bytes_remaining;
	assert_int_equal(homa_msgin_add(&f.m, &f.mem, 300000, 300100, 9), -E2BIG);
	/* Splitting a gap would need one more too. */
	assert_int_equal(homa_msgin_add(&f.m, &f.mem, 210, 220, 9), -E2BIG);
	assert_int_equal(f.m.num_gaps, HOMA_MSGIN_MAX_GAPS);
	assert_int_equal(f.m.bytes_remaining, remaining);
	assert_int_equal(f.m.recv_end, 200 * HOMA_MSGIN_MAX_GAPS);
	/* Data that does not add a gap is still accepted at the cap. */
	assert_int_equal(homa_msgin_add(&f.m, &f.mem, 0, 100, 9), 100);
	assert_int_equal(
	    homa_msgin_add(&f.m, &f.mem, 200 * HOMA_MSGIN_MAX_GAPS, 300000, 9),
	    300000 - 200 * HOMA_MSGIN_MAX_GAPS);
	assert_true(f.m.cap_gaps <= HOMA_MSGIN_MAX_GAPS);
	assert_consistent(&f.m);
	fixture_destroy(&f);
}

static void test_add__allocation_failure_leaves_state_unchanged(void **state)
{
	struct fixture f;
	struct homa_msgin before;

	(void)state;
	fixture_init(&f, 100000);
	f.fa.fail_after = 0;
	assert_int_equal(homa_msgin_add(&f.m, &f.mem, 1000, 2000, 1), -ENOMEM);
	assert_int_equal(f.m.recv_end, 0);
	assert_int_equal(f.m.bytes_remaining, 100000);
	assert_int_equal(f.m.num_gaps, 0);

	/* Fill the first array, then fail the growth. */
	f.fa.fail_after = 1;
	for (uint32_t i = 0; f.m.num_gaps < f.m.cap_gaps || i == 0; i++)
		assert_true(
		    homa_msgin_add(&f.m, &f.mem, 200 * i + 100, 200 * i + 200, 1) > 0);
	before = f.m;
	assert_int_equal(homa_msgin_add(&f.m, &f.mem, 50000, 50100, 1), -ENOMEM);
	assert_int_equal(f.m.num_gaps, before.num_gaps);
	assert_int_equal(f.m.cap_gaps, before.cap_gaps);
	assert_ptr_equal(f.m.gaps, before.gaps);
	assert_int_equal(f.m.recv_end, before.recv_end);
	assert_int_equal(f.m.bytes_remaining, before.bytes_remaining);
	assert_int_equal(f.mem.failures, 2);

	f.fa.fail_after = -1;
	assert_int_equal(homa_msgin_add(&f.m, &f.mem, 50000, 50100, 1), 100);
	assert_consistent(&f.m);
	fixture_destroy(&f);
}

static void test_missing__gaps_then_tail_cut_at_limit(void **state)
{
	struct fixture f;
	struct homa_gap out[8];

	(void)state;
	fixture_init(&f, 10000);
	homa_msgin_add(&f.m, &f.mem, 1000, 2000, 5);
	homa_msgin_add(&f.m, &f.mem, 3000, 4000, 6);
	assert_int_equal(homa_msgin_missing(&f.m, 6000, out, 8), 3);
	assert_int_equal(out[0].start, 0);
	assert_int_equal(out[0].end, 1000);
	assert_int_equal(out[0].time, 5);
	assert_int_equal(out[1].start, 2000);
	assert_int_equal(out[1].end, 3000);
	assert_int_equal(out[1].time, 6);
	assert_int_equal(out[2].start, 4000);
	assert_int_equal(out[2].end, 6000);

	assert_int_equal(homa_msgin_missing(&f.m, 2500, out, 8), 2);
	assert_int_equal(out[1].start, 2000);
	assert_int_equal(out[1].end, 2500);
	assert_int_equal(homa_msgin_missing(&f.m, 6000, out, 1), 1);
	assert_int_equal(homa_msgin_missing(&f.m, 0, out, 8), 0);
	/* A limit beyond the message is cut at its length. */
	assert_int_equal(homa_msgin_missing(&f.m, 50000, out, 8), 3);
	assert_int_equal(out[2].end, 10000);
	fixture_destroy(&f);
}

static void test_missing__complete_message_has_none(void **state)
{
	struct fixture f;
	struct homa_gap out[2];

	(void)state;
	fixture_init(&f, 100);
	homa_msgin_add(&f.m, &f.mem, 0, 100, 1);
	assert_int_equal(homa_msgin_missing(&f.m, 100, out, 2), 0);
	fixture_destroy(&f);
}

static uint64_t rng_next(uint64_t *s)
{
	/* xorshift64*: deterministic, good enough to shuffle packets. */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

/* One seeded run: packets of a random message, shuffled, some duplicated, some
 * re-cut (retransmissions with other boundaries). */
static void run_permutation(uint64_t seed)
{
	enum { MAX_PKTS = 800 };
	static uint32_t starts[MAX_PKTS * 2], ends[MAX_PKTS * 2];
	struct fixture f;
	uint64_t rng = seed;
	uint32_t length = 1 + (uint32_t)(rng_next(&rng) % 1000000);
	uint32_t pkt = 500 + (uint32_t)(rng_next(&rng) % 1500);
	uint32_t n = 0, total_new = 0;

	while (length / pkt + 1 > MAX_PKTS)
		pkt *= 2;
	fixture_init(&f, length);
	for (uint32_t off = 0; off < length; off += pkt) {
		starts[n] = off;
		ends[n++] = off + pkt < length ? off + pkt : length;
	}
	for (uint32_t i = 0, orig = n; i < orig; i++) {
		if (rng_next(&rng) % 4)
			continue;
		/* A duplicate, possibly shifted to straddle a boundary. */
		uint32_t shift = (uint32_t)(rng_next(&rng) % pkt);
		starts[n] = starts[i] + shift < length ? starts[i] + shift : starts[i];
		ends[n] = ends[i] + shift < length ? ends[i] + shift : length;
		n++;
	}
	for (uint32_t i = n - 1; i > 0; i--) {
		uint32_t j = (uint32_t)(rng_next(&rng) % (i + 1)), t;

		t = starts[i], starts[i] = starts[j], starts[j] = t;
		t = ends[i], ends[i] = ends[j], ends[j] = t;
	}
	for (uint32_t i = 0; i < n; i++) {
		int r = homa_msgin_add(&f.m, &f.mem, starts[i], ends[i], i);

		assert_true(r >= 0);
		total_new += (uint32_t)r;
		assert_consistent(&f.m);
	}
	assert_true(homa_msgin_complete(&f.m));
	assert_int_equal(f.m.bytes_remaining, 0);
	assert_int_equal(total_new, length);
	assert_int_equal(f.m.num_gaps, 0);
	fixture_destroy(&f);
}

static void test_add__random_permutations_with_duplicates_complete(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 200; seed++)
		run_permutation(seed * 0x9e3779b97f4a7c15ull);
}

static void test_destroy__frees_gaps_and_allows_reinit(void **state)
{
	struct fixture f;

	(void)state;
	fixture_init(&f, 10000);
	homa_msgin_add(&f.m, &f.mem, 5000, 6000, 1);
	assert_true(f.mem.in_use > 0);
	homa_msgin_destroy(&f.m, &f.mem);
	assert_int_equal(f.mem.in_use, 0);
	assert_null(f.m.gaps);
	homa_msgin_destroy(&f.m, &f.mem); /* twice is harmless */
	homa_msgin_init(&f.m, 100);
	fixture_destroy(&f);
}

/* homa_msgin_all_missing against a byte map, over random arrival orders. */
static void test_all_missing__matches_byte_map(void **state)
{
	enum { LEN = 96 };
	uint32_t seed = 7;

	(void)state;
	for (int round = 0; round < 40; round++) {
		struct fixture f;
		uint8_t got[LEN] = {0};

		fixture_init(&f, LEN);
		for (int k = 0; k < 12; k++) {
			seed = seed * 1103515245u + 12345u;
			uint32_t a = (seed >> 8) % LEN, n = 1 + (seed >> 20) % 12;
			uint32_t b = a + n > LEN ? LEN : a + n;

			assert_true(homa_msgin_add(&f.m, &f.mem, a, b, 0) >= 0);
			memset(got + a, 1, b - a);
			for (uint32_t s = 0; s <= LEN + 1; s++)
				for (uint32_t e = 0; e <= LEN + 1; e++) {
					int want = s < e && e <= LEN;

					for (uint32_t x = s; want && x < e; x++)
						want = !got[x];
					assert_int_equal(
					    homa_msgin_all_missing(&f.m, s, e), want);
				}
		}
		fixture_destroy(&f);
	}
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_init__nothing_received),
    cmocka_unit_test(test_add__in_order_completes),
    cmocka_unit_test(test_add__out_of_order_creates_gap_with_time),
    cmocka_unit_test(test_add__strictly_inside_gap_splits_it),
    cmocka_unit_test(test_add__gap_start_trims_gap),
    cmocka_unit_test(test_add__gap_end_trims_gap),
    cmocka_unit_test(test_add__fill_gap_exactly_removes_it),
    cmocka_unit_test(test_add__overlaps_gap_start_counts_only_missing),
    cmocka_unit_test(test_add__overlaps_gap_end_counts_only_missing),
    cmocka_unit_test(test_add__overlaps_end_extends_recv_end),
    cmocka_unit_test(test_add__spans_several_gaps_and_recv_end),
    cmocka_unit_test(test_add__duplicate_returns_zero),
    cmocka_unit_test(test_add__rejects_empty_and_beyond_length),
    cmocka_unit_test(test_add__gap_cap_refuses_and_changes_nothing),
    cmocka_unit_test(test_add__allocation_failure_leaves_state_unchanged),
    cmocka_unit_test(test_add__random_permutations_with_duplicates_complete),
    cmocka_unit_test(test_missing__gaps_then_tail_cut_at_limit),
    cmocka_unit_test(test_missing__complete_message_has_none),
    cmocka_unit_test(test_destroy__frees_gaps_and_allows_reinit),
    cmocka_unit_test(test_all_missing__matches_byte_map),
};

HOMA_TEST_MAIN(tests)
