/*
 * homa_mem.h - the engine's allocator wrapper: every allocation in the core
 * goes through here, so the engine knows how many bytes it holds (tests and
 * the simulator assert it returns to 0) and allocation failures can be
 * injected by the embedder's allocator.
 */
#ifndef HOMA_MEM_H
#define HOMA_MEM_H

#include <stddef.h>
#include <string.h>

#include "homa/homa_core.h"

struct homa_mem {
	struct homa_allocator a;
	size_t in_use;	 /* bytes currently allocated */
	size_t failures; /* allocations that returned NULL */
};

/* Sets up m over a (NULL: malloc/free). */
void homa_mem_init(struct homa_mem *m, const struct homa_allocator *a);

/* Allocates size bytes (uninitialised); NULL on failure or size 0. */
void *homa_mem_alloc(struct homa_mem *m, size_t size);

/* Allocates size zeroed bytes; NULL on failure. */
void *homa_mem_zalloc(struct homa_mem *m, size_t size);

/* Frees p, which homa_mem_alloc returned with this size. NULL is ignored. */
void homa_mem_free(struct homa_mem *m, void *p, size_t size);

#endif
