/*
 * homa_mem.c - the engine's allocator wrapper.
 *
 * Every byte the core holds is counted here, so an embedder (or a test's
 * teardown) can check that a destroyed engine returns exactly to zero, and
 * an allocator that fails on purpose shows up in `failures`. The size is
 * passed back on free rather than stored in a hidden header: callers always
 * know it, and it lets the embedder's allocator be a plain arena.
 */
#include "homa_mem.h"

#include <stdlib.h>

static void *default_alloc(void *ctx, size_t size)
{
	(void)ctx;
	return malloc(size);
}

static void default_free(void *ctx, void *ptr, size_t size)
{
	(void)ctx;
	(void)size;
	free(ptr);
}

void homa_mem_init(struct homa_mem *m, const struct homa_allocator *a)
{
	memset(m, 0, sizeof(*m));
	if (a != NULL && a->alloc != NULL && a->free != NULL) {
		m->a = *a;
		return;
	}
	m->a.alloc = default_alloc;
	m->a.free = default_free;
}

#if defined(__SANITIZE_ADDRESS__)
#define HOMA_MEM_NO_CACHE 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HOMA_MEM_NO_CACHE 1
#endif
#endif

int homa_mem_cache_enable(struct homa_mem *m)
{
#ifdef HOMA_MEM_NO_CACHE
	(void)m;
	return 0;
#else
	m->cache_on = m->a.alloc == default_alloc;
	return m->cache_on;
#endif
}

void homa_mem_cache_drain(struct homa_mem *m)
{
	for (size_t c = 0; c < HOMA_MEM_NCLASSES; c++) {
		while (m->cache[c] != NULL) {
			void *p = m->cache[c];

			memcpy(&m->cache[c], p, sizeof(void *));
			m->a.free(m->a.ctx, p, (c + 1) * HOMA_MEM_CLASS);
		}
		m->cached[c] = 0;
	}
	m->cache_on = 0;
}

/* A small block from the free list of its size class, or a new one. */
static void *cache_alloc(struct homa_mem *m, size_t size)
{
	size_t c = (size - 1) / HOMA_MEM_CLASS;
	void *p = m->cache[c];

	if (p != NULL) {
		memcpy(&m->cache[c], p, sizeof(void *));
		m->cached[c]--;
		return p;
	}
	/* Every block of a class has the class's full size: any can serve. */
	return m->a.alloc(m->a.ctx, (c + 1) * HOMA_MEM_CLASS);
}

void *homa_mem_alloc(struct homa_mem *m, size_t size)
{
	void *p;

	if (size == 0)
		return NULL;
	if (m->cache_on && size <= HOMA_MEM_CACHE_MAX)
		p = cache_alloc(m, size);
	else
		p = m->a.alloc(m->a.ctx, size);
	if (p == NULL) {
		m->failures++;
		return NULL;
	}
	m->in_use += size;
	return p;
}

void *homa_mem_zalloc(struct homa_mem *m, size_t size)
{
	void *p = homa_mem_alloc(m, size);

	if (p != NULL)
		memset(p, 0, size);
	return p;
}

void homa_mem_free(struct homa_mem *m, void *p, size_t size)
{
	if (p == NULL)
		return;
	m->in_use -= size;
	if (m->cache_on && size <= HOMA_MEM_CACHE_MAX) {
		size_t c = (size - 1) / HOMA_MEM_CLASS;

		if (m->cached[c] < HOMA_MEM_CACHE_DEPTH(c)) {
			memcpy(p, &m->cache[c], sizeof(void *));
			m->cache[c] = p;
			m->cached[c]++;
			return;
		}
		size = (c + 1) * HOMA_MEM_CLASS;
	}
	m->a.free(m->a.ctx, p, size);
}
