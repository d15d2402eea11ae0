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

void *homa_mem_alloc(struct homa_mem *m, size_t size)
{
	void *p;

	if (size == 0)
		return NULL;
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
	m->a.free(m->a.ctx, p, size);
}
