/*
 * test_mem.c - the allocator wrapper: byte accounting, failure counting and
 * the embedder's allocator being used instead of malloc.
 */
#include <string.h>

#include "homa_mem.h"
#include "homa_test.h"

/* A fake allocator: serves from a small arena, fails the N-th call. */
struct fake_alloc {
	uint8_t arena[4096];
	size_t used;
	int calls;
	int fail_at; /* 1-based call number that fails; 0 = never */
	int frees;
	size_t freed_bytes;
};

static void *fake_alloc_fn(void *ctx, size_t size)
{
	struct fake_alloc *f = ctx;

	f->calls++;
	if (f->calls == f->fail_at || f->used + size > sizeof(f->arena))
		return NULL;
	f->used += size;
	return f->arena + f->used - size;
}

static void fake_free_fn(void *ctx, void *ptr, size_t size)
{
	struct fake_alloc *f = ctx;

	(void)ptr;
	f->frees++;
	f->freed_bytes += size;
}

static void test_init__null_allocator_uses_malloc(void **state)
{
	struct homa_mem m;
	uint8_t *p;

	(void)state;
	homa_mem_init(&m, NULL);
	assert_int_equal(m.in_use, 0);
	assert_int_equal(m.failures, 0);
	p = homa_mem_alloc(&m, 1000);
	assert_non_null(p);
	memset(p, 1, 1000); /* ASan builds check this is real memory */
	assert_int_equal(m.in_use, 1000);
	homa_mem_free(&m, p, 1000);
	assert_int_equal(m.in_use, 0);
}

static void test_alloc__counts_bytes_in_use(void **state)
{
	struct homa_mem m;
	void *a, *b;

	(void)state;
	homa_mem_init(&m, NULL);
	a = homa_mem_alloc(&m, 10);
	b = homa_mem_alloc(&m, 300);
	assert_int_equal(m.in_use, 310);
	homa_mem_free(&m, a, 10);
	assert_int_equal(m.in_use, 300);
	homa_mem_free(&m, b, 300);
	assert_int_equal(m.in_use, 0);
}

static void test_alloc__size_zero_returns_null_without_failure(void **state)
{
	struct homa_mem m;

	(void)state;
	homa_mem_init(&m, NULL);
	assert_null(homa_mem_alloc(&m, 0));
	assert_int_equal(m.failures, 0);
	assert_int_equal(m.in_use, 0);
}

static void test_alloc__embedder_allocator_used_with_its_ctx(void **state)
{
	struct fake_alloc f = {0};
	struct homa_allocator a = {fake_alloc_fn, fake_free_fn, &f};
	struct homa_mem m;
	void *p;

	(void)state;
	homa_mem_init(&m, &a);
	p = homa_mem_alloc(&m, 64);
	assert_ptr_equal(p, f.arena);
	assert_int_equal(f.calls, 1);
	homa_mem_free(&m, p, 64);
	assert_int_equal(f.frees, 1);
	assert_int_equal(f.freed_bytes, 64);
}

static void test_alloc__failure_counted_and_not_charged(void **state)
{
	struct fake_alloc f = {.fail_at = 2};
	struct homa_allocator a = {fake_alloc_fn, fake_free_fn, &f};
	struct homa_mem m;

	(void)state;
	homa_mem_init(&m, &a);
	assert_non_null(homa_mem_alloc(&m, 100));
	assert_null(homa_mem_alloc(&m, 100));
	assert_int_equal(m.failures, 1);
	assert_int_equal(m.in_use, 100);
	assert_null(homa_mem_zalloc(&m, 8192)); /* arena exhausted */
	assert_int_equal(m.failures, 2);
	assert_int_equal(m.in_use, 100);
}

static void test_zalloc__returns_zeroed_memory(void **state)
{
	struct fake_alloc f = {0};
	struct homa_allocator a = {fake_alloc_fn, fake_free_fn, &f};
	struct homa_mem m;
	uint8_t *p;

	(void)state;
	memset(f.arena, 0xcc, sizeof(f.arena));
	homa_mem_init(&m, &a);
	p = homa_mem_zalloc(&m, 200);
	assert_non_null(p);
	for (int i = 0; i < 200; i++)
		assert_int_equal(p[i], 0);
	assert_int_equal(m.in_use, 200);
}

static void test_free__null_ignored(void **state)
{
	struct fake_alloc f = {0};
	struct homa_allocator a = {fake_alloc_fn, fake_free_fn, &f};
	struct homa_mem m;

	(void)state;
	homa_mem_init(&m, &a);
	homa_mem_free(&m, NULL, 123);
	assert_int_equal(f.frees, 0);
	assert_int_equal(m.in_use, 0);
}

static void test_cache__reuses_small_blocks_and_drains(void **state)
{
	struct homa_mem m;
	uint8_t *a, *b, *big;
	void *blocks[HOMA_MEM_CACHE_DEPTH(0) + 8];

	(void)state;
	homa_mem_init(&m, NULL);
	if (!homa_mem_cache_enable(&m))
		skip(); /* AddressSanitizer build: reuse would hide use after free */
	a = homa_mem_alloc(&m, 300);
	memset(a, 0xcc, 300);
	homa_mem_free(&m, a, 300);
	assert_int_equal(m.in_use, 0); /* a cached block is not in use */
	/* Same size class (257..320 bytes): the same block, zeroed by zalloc. */
	b = homa_mem_zalloc(&m, 260);
	assert_ptr_equal(b, a);
	for (int i = 0; i < 260; i++)
		assert_int_equal(b[i], 0);
	assert_int_equal(m.in_use, 260);
	/* A larger request than the biggest class never comes from the cache. */
	big = homa_mem_alloc(&m, HOMA_MEM_CACHE_MAX + 1);
	homa_mem_free(&m, big, HOMA_MEM_CACHE_MAX + 1);
	assert_int_equal(m.cached[HOMA_MEM_NCLASSES - 1], 0);
	homa_mem_free(&m, b, 260);
	/* At most HOMA_MEM_CACHE_BYTES of blocks per class are kept. */
	for (size_t i = 0; i < HOMA_MEM_CACHE_DEPTH(0) + 8; i++)
		blocks[i] = homa_mem_alloc(&m, 64);
	for (size_t i = 0; i < HOMA_MEM_CACHE_DEPTH(0) + 8; i++)
		homa_mem_free(&m, blocks[i], 64);
	assert_int_equal(m.cached[0], HOMA_MEM_CACHE_DEPTH(0));
	assert_int_equal(m.in_use, 0);
	homa_mem_cache_drain(&m); /* valgrind's leak check sees the rest */
	assert_int_equal(m.cached[0], 0);
	assert_null(m.cache[0]);
}

static void test_cache__never_with_embedder_allocator(void **state)
{
	struct fake_alloc f = {0};
	struct homa_allocator a = {fake_alloc_fn, fake_free_fn, &f};
	struct homa_mem m;
	void *p;

	(void)state;
	homa_mem_init(&m, &a);
	assert_int_equal(homa_mem_cache_enable(&m), 0);
	p = homa_mem_alloc(&m, 100);
	homa_mem_free(&m, p, 100);
	/* The embedder sees every call, so it can still fail any of them. */
	assert_int_equal(f.calls, 1);
	assert_int_equal(f.frees, 1);
	assert_int_equal(f.freed_bytes, 100);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_init__null_allocator_uses_malloc),
    cmocka_unit_test(test_alloc__counts_bytes_in_use),
    cmocka_unit_test(test_alloc__size_zero_returns_null_without_failure),
    cmocka_unit_test(test_alloc__embedder_allocator_used_with_its_ctx),
    cmocka_unit_test(test_alloc__failure_counted_and_not_charged),
    cmocka_unit_test(test_zalloc__returns_zeroed_memory),
    cmocka_unit_test(test_free__null_ignored),
    cmocka_unit_test(test_cache__reuses_small_blocks_and_drains),
    cmocka_unit_test(test_cache__never_with_embedder_allocator),
};

HOMA_TEST_MAIN(tests)
