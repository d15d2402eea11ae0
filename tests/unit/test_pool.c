/*
 * test_pool.c - the receive-buffer pool: page counts, 64-byte tails in a
 * shared tail page, all-or-nothing allocation and release, low-index reuse,
 * and a seeded random workload checking that no two live allocations overlap.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "homa_pool.h"
#include "homa_test.h"

#define PAGE HOMA_BPAGE_SIZE

struct fixture {
	struct homa_mem mem;
	struct homa_pool pool;
};

static struct fixture *setup_pages(uint32_t pages)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	homa_mem_init(&f->mem, NULL);
	assert_int_equal(homa_pool_init(&f->pool, &f->mem, (uint64_t)pages * PAGE), 0);
	return f;
}

static void teardown(struct fixture *f)
{
	homa_pool_destroy(&f->pool, &f->mem);
	assert_int_equal(f->mem.in_use, 0);
	free(f);
}

static uint32_t count_free(const struct homa_pool *p)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < p->num_bpages; i++)
		n += p->refs[i] == 0;
	return n;
}

static void alloc_ok(struct homa_pool *p, uint32_t len, uint32_t *offs, uint32_t *num)
{
	assert_int_equal(homa_pool_alloc(p, len, offs, num), 0);
	assert_int_equal(p->free_bpages, count_free(p));
}

static void test_pages_needed__rounds_up(void **state)
{
	(void)state;
	assert_int_equal(homa_pool_pages_needed(1), 1);
	assert_int_equal(homa_pool_pages_needed(PAGE), 1);
	assert_int_equal(homa_pool_pages_needed(PAGE + 1), 2);
	assert_int_equal(homa_pool_pages_needed(HOMA_MAX_MESSAGE_LENGTH), 16);
	assert_int_equal(homa_pool_pages_needed(0xffffffffu), 65536);
}

static void test_init__too_few_pages(void **state)
{
	struct homa_mem m;
	struct homa_pool p;

	(void)state;
	homa_mem_init(&m, NULL);
	assert_int_equal(homa_pool_init(&p, &m, 16ull * PAGE), -EINVAL);
	/* Rounded down to whole bpages: 17 pages minus a byte is 16. */
	assert_int_equal(homa_pool_init(&p, &m, 17ull * PAGE - 1), -EINVAL);
	assert_int_equal(m.in_use, 0);
}

static void test_init__too_many_pages(void **state)
{
	struct homa_mem m;
	struct homa_pool p;

	(void)state;
	homa_mem_init(&m, NULL);
	assert_int_equal(homa_pool_init(&p, &m, 65537ull * PAGE), -EINVAL);
	assert_int_equal(homa_pool_init(&p, &m, 65536ull * PAGE), 0);
	assert_int_equal(p.num_bpages, 65536);
	homa_pool_destroy(&p, &m);
	assert_int_equal(m.in_use, 0);
}

static void *failing_alloc(void *ctx, size_t size)
{
	(void)ctx;
	(void)size;
	return NULL;
}

static void unused_free(void *ctx, void *ptr, size_t size)
{
	(void)ctx;
	(void)ptr;
	(void)size;
	fail();
}

static void test_init__allocation_failure(void **state)
{
	struct homa_allocator a = {failing_alloc, unused_free, NULL};
	struct homa_mem m;
	struct homa_pool p;

	(void)state;
	homa_mem_init(&m, &a);
	assert_int_equal(homa_pool_init(&p, &m, 100ull * PAGE), -ENOMEM);
	assert_int_equal(m.failures, 1);
}

static void test_init__all_pages_free(void **state)
{
	struct fixture *f = setup_pages(20);

	(void)state;
	assert_int_equal(f->pool.num_bpages, 20);
	assert_int_equal(f->pool.free_bpages, 20);
	assert_int_equal(homa_pool_avail_bytes(&f->pool), 20ull * PAGE);
	teardown(f);
}

static void test_alloc__exact_page_has_no_tail(void **state)
{
	struct fixture *f = setup_pages(20);
	uint32_t offs[HOMA_MAX_BPAGES], n;

	(void)state;
	alloc_ok(&f->pool, 2 * PAGE, offs, &n);
	assert_int_equal(n, 2);
	assert_int_equal(offs[0] % PAGE, 0);
	assert_int_equal(offs[1] % PAGE, 0);
	assert_int_not_equal(offs[0], offs[1]);
	assert_int_equal(f->pool.free_bpages, 18);
	assert_int_equal(f->pool.tail_page, UINT32_MAX);
	teardown(f);
}

static void test_alloc__max_message_uses_sixteen_offsets(void **state)
{
	struct fixture *f = setup_pages(20);
	uint32_t offs[HOMA_MAX_BPAGES], n;

	(void)state;
	alloc_ok(&f->pool, HOMA_MAX_MESSAGE_LENGTH, offs, &n);
	assert_int_equal(n, 16);
	assert_int_equal(f->pool.free_bpages, 4);
	/* Whole pages first, then the tail at the start of the tail page. */
	assert_int_equal(offs[15], f->pool.tail_page * PAGE);
	teardown(f);
}

static void test_alloc__length_out_of_range(void **state)
{
	struct fixture *f = setup_pages(20);
	uint32_t offs[HOMA_MAX_BPAGES], n;

	(void)state;
	assert_int_equal(homa_pool_alloc(&f->pool, 0, offs, &n), -EINVAL);
	assert_int_equal(homa_pool_alloc(&f->pool, HOMA_MAX_MESSAGE_LENGTH + 1, offs, &n),
			 -EINVAL);
	assert_false(homa_pool_can_alloc(&f->pool, 0));
	assert_int_equal(f->pool.free_bpages, 20);
	teardown(f);
}

static void test_alloc__tails_rounded_to_64_bytes_share_a_page(void **state)
{
	struct fixture *f = setup_pages(20);
	uint32_t a[HOMA_MAX_BPAGES], b[HOMA_MAX_BPAGES], c[HOMA_MAX_BPAGES], n;

	(void)state;
	alloc_ok(&f->pool, 100, a, &n);
	assert_int_equal(n, 1);
	alloc_ok(&f->pool, 1, b, &n);
	alloc_ok(&f->pool, 64, c, &n);
	assert_int_equal(b[0], a[0] + 128);
	assert_int_equal(c[0], b[0] + 64);
	assert_int_equal(a[0] / PAGE, c[0] / PAGE);
	assert_int_equal(f->pool.refs[a[0] / PAGE], 4); /* pool + 3 tails */
	assert_int_equal(f->pool.free_bpages, 19);
	teardown(f);
}

static void test_alloc__message_with_whole_pages_and_tail(void **state)
{
	struct fixture *f = setup_pages(20);
	uint32_t offs[HOMA_MAX_BPAGES], n;

	(void)state;
	alloc_ok(&f->pool, 2 * PAGE + 10, offs, &n);
	assert_int_equal(n, 3);
	assert_int_equal(offs[2], f->pool.tail_page * PAGE);
	assert_int_equal(f->pool.tail_fill, 64);
	assert_int_not_equal(offs[0] / PAGE, f->pool.tail_page);
	assert_int_not_equal(offs[1] / PAGE, f->pool.tail_page);
	teardown(f);
}

static void test_alloc__tail_not_fitting_busy_page_takes_new_page(void **state)
{
	struct fixture *f = setup_pages(20);
	uint32_t a[HOMA_MAX_BPAGES], b[HOMA_MAX_BPAGES], n;
	uint32_t old;

	(void)state;
	alloc_ok(&f->pool, 40000, a, &n);
	old = f->pool.tail_page;
	alloc_ok(&f->pool, 40000, b, &n);
	assert_int_not_equal(f->pool.tail_page, old);
	assert_int_equal(b[0], f->pool.tail_page * PAGE);
	assert_int_equal(f->pool.refs[old], 1); /* only the first tail now */
	assert_int_equal(f->pool.refs[f->pool.tail_page], 2);
	/* The old page is freed with its last tail: the pool let go of it. */
	assert_int_equal(homa_pool_release(&f->pool, a, 1), 0);
	assert_int_equal(f->pool.refs[old], 0);
	assert_int_equal(f->pool.free_bpages, 19);
	teardown(f);
}

static void test_alloc__tail_page_rewinds_when_idle(void **state)
{
	struct fixture *f = setup_pages(20);
	uint32_t a[HOMA_MAX_BPAGES], b[HOMA_MAX_BPAGES], n;
	uint32_t page;

	(void)state;
	alloc_ok(&f->pool, 40000, a, &n);
	page = f->pool.tail_page;
	assert_int_equal(homa_pool_release(&f->pool, a, 1), 0);
	assert_int_equal(f->pool.refs[page], 1);
	assert_int_equal(f->pool.tail_fill, 0);
	alloc_ok(&f->pool, 40000, b, &n);
	assert_int_equal(b[0], a[0]);
	assert_int_equal(f->pool.free_bpages, 19);
	teardown(f);
}

static void test_alloc__tail_goes_in_idle_tail_page_not_a_free_page(void **state)
{
	struct fixture *f = setup_pages(17);
	uint32_t a[HOMA_MAX_BPAGES], b[HOMA_MAX_BPAGES], n;
	uint32_t page;

	(void)state;
	alloc_ok(&f->pool, 100, a, &n);
	page = f->pool.tail_page;
	assert_int_equal(homa_pool_release(&f->pool, a, 1), 0);
	assert_int_equal(f->pool.free_bpages, 16); /* the idle tail page is kept */
	alloc_ok(&f->pool, HOMA_MAX_MESSAGE_LENGTH, b, &n); /* 15 pages + tail */
	assert_int_equal(n, 16);
	assert_int_equal(b[15], page * PAGE);
	assert_int_equal(f->pool.free_bpages, 1);
	teardown(f);
}

static void test_alloc__idle_tail_page_given_back_when_needed(void **state)
{
	struct fixture *f = setup_pages(17);
	uint32_t a[HOMA_MAX_BPAGES], b[HOMA_MAX_BPAGES], n;

	(void)state;
	alloc_ok(&f->pool, 15 * PAGE, b, &n); /* 2 pages left */
	alloc_ok(&f->pool, 100, a, &n);	      /* takes one as tail page */
	assert_int_equal(homa_pool_release(&f->pool, a, 1), 0);
	assert_int_equal(f->pool.free_bpages, 1);
	assert_true(homa_pool_can_alloc(&f->pool, 2 * PAGE));
	alloc_ok(&f->pool, 2 * PAGE, a, &n);
	assert_int_equal(n, 2);
	assert_int_equal(f->pool.free_bpages, 0);
	assert_int_equal(f->pool.tail_page, UINT32_MAX);
	teardown(f);
}

static void test_alloc__all_or_nothing_when_full(void **state)
{
	struct fixture *f = setup_pages(20);
	uint32_t offs[HOMA_MAX_BPAGES], n, refs[20];
	struct homa_pool before;

	(void)state;
	alloc_ok(&f->pool, 15 * PAGE + 100, offs, &n); /* 16 pages */
	alloc_ok(&f->pool, 3 * PAGE, offs, &n);	       /* 19 */
	before = f->pool;
	memcpy(refs, f->pool.refs, sizeof(refs));
	assert_false(homa_pool_can_alloc(&f->pool, 2 * PAGE));
	assert_int_equal(homa_pool_alloc(&f->pool, 2 * PAGE, offs, &n), -ENOMEM);
	assert_int_equal(f->pool.free_bpages, before.free_bpages);
	assert_int_equal(f->pool.tail_page, before.tail_page);
	assert_int_equal(f->pool.tail_fill, before.tail_fill);
	assert_int_equal(f->pool.cursor, before.cursor);
	assert_memory_equal(refs, f->pool.refs, sizeof(refs));
	/* One page and a small tail still fit. */
	assert_true(homa_pool_can_alloc(&f->pool, PAGE + 100));
	alloc_ok(&f->pool, PAGE + 100, offs, &n);
	assert_int_equal(f->pool.free_bpages, 0);
	teardown(f);
}

static void test_alloc__reuses_low_pages_after_release(void **state)
{
	struct fixture *f = setup_pages(1000);
	uint32_t offs[HOMA_MAX_BPAGES], n, max_page = 0;

	(void)state;
	/* Many short-lived 3-page messages: usage must stay near the bottom. */
	for (int i = 0; i < 5000; i++) {
		alloc_ok(&f->pool, 3 * PAGE, offs, &n);
		for (uint32_t j = 0; j < n; j++)
			if (offs[j] / PAGE > max_page)
				max_page = offs[j] / PAGE;
		assert_int_equal(homa_pool_release(&f->pool, offs, n), 0);
	}
	assert_true(max_page < 8);
	assert_int_equal(f->pool.free_bpages, 1000);
	teardown(f);
}

static void test_release__out_of_region(void **state)
{
	struct fixture *f = setup_pages(20);
	uint32_t offs[HOMA_MAX_BPAGES], n;

	(void)state;
	alloc_ok(&f->pool, 2 * PAGE, offs, &n);
	offs[2] = 20 * PAGE;
	assert_int_equal(homa_pool_release(&f->pool, offs, 3), -EINVAL);
	assert_int_equal(f->pool.free_bpages, 18); /* nothing released */
	offs[2] = 0xffffffff;
	assert_int_equal(homa_pool_release(&f->pool, offs, 3), -EINVAL);
	assert_int_equal(homa_pool_release(&f->pool, offs, 2), 0);
	assert_int_equal(f->pool.free_bpages, 20);
	teardown(f);
}

static void test_release__double_free_refused(void **state)
{
	struct fixture *f = setup_pages(20);
	uint32_t offs[HOMA_MAX_BPAGES], n;

	(void)state;
	alloc_ok(&f->pool, PAGE, offs, &n);
	assert_int_equal(homa_pool_release(&f->pool, offs, 1), 0);
	assert_int_equal(homa_pool_release(&f->pool, offs, 1), -EINVAL);
	assert_int_equal(f->pool.free_bpages, 20);
	teardown(f);
}

static void test_release__duplicate_in_one_call_refused_and_undone(void **state)
{
	struct fixture *f = setup_pages(20);
	uint32_t offs[HOMA_MAX_BPAGES], n, twice[3];

	(void)state;
	alloc_ok(&f->pool, 2 * PAGE, offs, &n);
	twice[0] = offs[0];
	twice[1] = offs[1];
	twice[2] = offs[0];
	assert_int_equal(homa_pool_release(&f->pool, twice, 3), -EINVAL);
	assert_int_equal(f->pool.refs[offs[0] / PAGE], 1);
	assert_int_equal(f->pool.refs[offs[1] / PAGE], 1);
	assert_int_equal(f->pool.free_bpages, 18);
	assert_int_equal(f->pool.free_bpages, count_free(&f->pool));
	teardown(f);
}

/* The pool's own reference on the tail page is not the application's. */
static void test_release__extra_tail_release_cannot_free_tail_page(void **state)
{
	struct fixture *f = setup_pages(20);
	uint32_t offs[HOMA_MAX_BPAGES], n, twice[2];

	(void)state;
	alloc_ok(&f->pool, 100, offs, &n);
	twice[0] = twice[1] = offs[0];
	assert_int_equal(homa_pool_release(&f->pool, twice, 2), -EINVAL);
	assert_int_equal(f->pool.refs[f->pool.tail_page], 2);
	assert_int_equal(homa_pool_release(&f->pool, offs, 1), 0);
	assert_int_equal(homa_pool_release(&f->pool, offs, 1), -EINVAL);
	assert_int_equal(f->pool.refs[f->pool.tail_page], 1);
	teardown(f);
}

static void test_release__never_allocated_page_refused(void **state)
{
	struct fixture *f = setup_pages(20);
	uint32_t off = 5 * PAGE;

	(void)state;
	assert_int_equal(homa_pool_release(&f->pool, &off, 1), -EINVAL);
	assert_int_equal(homa_pool_release(&f->pool, NULL, 0), 0);
	teardown(f);
}

static void test_avail_bytes__counts_free_pages_and_tail_room(void **state)
{
	struct fixture *f = setup_pages(20);
	uint32_t offs[HOMA_MAX_BPAGES], n;

	(void)state;
	alloc_ok(&f->pool, PAGE + 1000, offs, &n);
	assert_int_equal(homa_pool_avail_bytes(&f->pool), 18ull * PAGE + (PAGE - 1024));
	teardown(f);
}

/* ---- Property: random workload ------------------------------------------ */

struct live_msg {
	uint32_t len;
	uint32_t num;
	uint32_t offs[HOMA_MAX_BPAGES];
};

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

/* Marks the 64-byte units a message occupies; fails on any overlap. */
static void mark(uint8_t *used, const struct live_msg *m, uint8_t v)
{
	uint32_t left = m->len;

	for (uint32_t j = 0; j < m->num; j++) {
		uint32_t bytes = left < PAGE ? left : PAGE;

		assert_int_equal(m->offs[j] % 64, 0);
		if (j + 1 < m->num || m->len % PAGE == 0)
			assert_int_equal(m->offs[j] % PAGE, 0);
		for (uint32_t u = 0; u < (bytes + 63) / 64; u++) {
			uint32_t unit = m->offs[j] / 64 + u;

			assert_true(unit < 40u * PAGE / 64);
			if (v)
				assert_int_equal(used[unit], 0);
			used[unit] = v;
		}
		left -= bytes;
	}
}

static void test_property__random_workload_never_overlaps(void **state)
{
	enum { MAX_LIVE = 64 };
	struct fixture *f = setup_pages(40);
	static uint8_t used[40 * PAGE / 64];
	struct live_msg live[MAX_LIVE];
	int nlive = 0, failures = 0;
	uint64_t seed = 7;

	(void)state;
	memset(used, 0, sizeof(used));
	for (int iter = 0; iter < 20000; iter++) {
		if (nlive < MAX_LIVE && rng_next(&seed) % 2) {
			struct live_msg *m = &live[nlive];
			uint32_t len = rng_next(&seed) % 4 == 0
					   ? 1 + (uint32_t)(rng_next(&seed) % 1000000)
					   : 1 + (uint32_t)(rng_next(&seed) % 5000);
			int can = homa_pool_can_alloc(&f->pool, len);
			int rc = homa_pool_alloc(&f->pool, len, m->offs, &m->num);

			assert_int_equal(rc, can ? 0 : -ENOMEM);
			if (rc != 0) {
				failures++;
				continue;
			}
			m->len = len;
			assert_int_equal(m->num, homa_pool_pages_needed(len));
			mark(used, m, 1);
			nlive++;
		} else if (nlive > 0) {
			int k = (int)(rng_next(&seed) % (uint64_t)nlive);

			mark(used, &live[k], 0);
			assert_int_equal(
			    homa_pool_release(&f->pool, live[k].offs, live[k].num), 0);
			live[k] = live[--nlive];
		}
		assert_int_equal(f->pool.free_bpages, count_free(&f->pool));
	}
	while (nlive > 0) {
		nlive--;
		assert_int_equal(
		    homa_pool_release(&f->pool, live[nlive].offs, live[nlive].num), 0);
	}
	assert_true(failures > 0); /* the workload did reach the limits */
	assert_int_equal(f->pool.free_bpages + (f->pool.tail_page != UINT32_MAX), 40);
	teardown(f);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_pages_needed__rounds_up),
    cmocka_unit_test(test_init__too_few_pages),
    cmocka_unit_test(test_init__too_many_pages),
    cmocka_unit_test(test_init__allocation_failure),
    cmocka_unit_test(test_init__all_pages_free),
    cmocka_unit_test(test_alloc__exact_page_has_no_tail),
    cmocka_unit_test(test_alloc__max_message_uses_sixteen_offsets),
    cmocka_unit_test(test_alloc__length_out_of_range),
    cmocka_unit_test(test_alloc__tails_rounded_to_64_bytes_share_a_page),
    cmocka_unit_test(test_alloc__message_with_whole_pages_and_tail),
    cmocka_unit_test(test_alloc__tail_not_fitting_busy_page_takes_new_page),
    cmocka_unit_test(test_alloc__tail_page_rewinds_when_idle),
    cmocka_unit_test(test_alloc__tail_goes_in_idle_tail_page_not_a_free_page),
    cmocka_unit_test(test_alloc__idle_tail_page_given_back_when_needed),
    cmocka_unit_test(test_alloc__all_or_nothing_when_full),
    cmocka_unit_test(test_alloc__reuses_low_pages_after_release),
    cmocka_unit_test(test_release__out_of_region),
    cmocka_unit_test(test_release__double_free_refused),
    cmocka_unit_test(test_release__duplicate_in_one_call_refused_and_undone),
    cmocka_unit_test(test_release__extra_tail_release_cannot_free_tail_page),
    cmocka_unit_test(test_release__never_allocated_page_refused),
    cmocka_unit_test(test_avail_bytes__counts_free_pages_and_tail_room),
    cmocka_unit_test(test_property__random_workload_never_overlaps),
};

HOMA_TEST_MAIN(tests)
