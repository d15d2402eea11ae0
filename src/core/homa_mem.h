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

/*
 * Small blocks (up to HOMA_MEM_CACHE_MAX bytes, in size classes of
 * HOMA_MEM_CLASS bytes) can be kept on per-class free lists instead of going
 * back to malloc: every RPC allocates and frees the same few small objects
 * (its state, its message, table and tombstone entries), and a free-list pop
 * is a handful of instructions. Each class keeps at most HOMA_MEM_CACHE_BYTES
 * of blocks (128 KB in all): tombstones expire in batches of hundreds at a
 * tick, and a few dozen would not carry the next batch. Cached blocks are not
 * counted in in_use.
 */
#define HOMA_MEM_CLASS		64
#define HOMA_MEM_CACHE_MAX	512
#define HOMA_MEM_NCLASSES	(HOMA_MEM_CACHE_MAX / HOMA_MEM_CLASS)
#define HOMA_MEM_CACHE_BYTES	16384
#define HOMA_MEM_CACHE_DEPTH(c) (HOMA_MEM_CACHE_BYTES / (((c) + 1) * HOMA_MEM_CLASS))

struct homa_mem {
	struct homa_allocator a;
	size_t in_use;	 /* bytes currently allocated */
	size_t failures; /* allocations that returned NULL */
	int cache_on;	 /* small blocks go through the free lists below */
	void *cache[HOMA_MEM_NCLASSES];
	unsigned cached[HOMA_MEM_NCLASSES];
};

/* Sets up m over a (NULL: malloc/free). */
void homa_mem_init(struct homa_mem *m, const struct homa_allocator *a);

/* Allocates size bytes (uninitialised); NULL on failure or size 0. */
void *homa_mem_alloc(struct homa_mem *m, size_t size);

/* Allocates size zeroed bytes; NULL on failure. */
void *homa_mem_zalloc(struct homa_mem *m, size_t size);

/* Frees p, which homa_mem_alloc returned with this size. NULL is ignored. */
void homa_mem_free(struct homa_mem *m, void *p, size_t size);

/*
 * Keeps freed small blocks for reuse from now on. Only with the default
 * allocator (an embedder's allocator sees every allocation, so that it can
 * fail any of them on purpose) and not under AddressSanitizer (reuse would
 * hide a use after free). Returns 1 if the cache is on.
 */
int homa_mem_cache_enable(struct homa_mem *m);

/* Gives every cached block back to the allocator (before m goes away). */
void homa_mem_cache_drain(struct homa_mem *m);

#endif
