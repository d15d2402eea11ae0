/*
 * homa_pool.h - the receive-buffer pool of one socket (reference section 5.6).
 *
 * The socket's region is cut into 64 KiB bpages. A message of length L gets
 * floor(L / 64K) whole bpages plus, for the remainder, a tail carved from a
 * shared partially-filled bpage (tails rounded up to 64 bytes). Allocation is
 * all or nothing. Offsets returned are byte offsets from the region start;
 * the application hands each one back exactly once. The pool never touches
 * the region's bytes: it only does the bookkeeping.
 */
#ifndef HOMA_POOL_H
#define HOMA_POOL_H

#include <stdint.h>

#include "homa_mem.h"

struct homa_pool {
	uint32_t num_bpages;
	uint32_t free_bpages; /* bpages with refcount 0 */
	uint32_t *refs;	      /* per-bpage reference count */
	uint32_t tail_page;   /* bpage tails are carved from; UINT32_MAX = none */
	uint32_t tail_fill;   /* next free byte in tail_page */
	uint32_t cursor;      /* where the next search for a free bpage starts */
};

/* Number of bpages (whole + tail) a message of length bytes occupies. */
uint32_t homa_pool_pages_needed(uint32_t length);

/*
 * Sets up the pool for a region of region_len bytes (rounded down to whole
 * bpages). Returns 0, -EINVAL (fewer than HOMA_MAX_BPAGES + 1 bpages, or
 * more than 65536) or -ENOMEM.
 */
int homa_pool_init(struct homa_pool *p, struct homa_mem *m, uint64_t region_len);
void homa_pool_destroy(struct homa_pool *p, struct homa_mem *m);

/*
 * Allocates space for a message of length bytes (1..HOMA_MAX_MESSAGE_LENGTH):
 * offsets[0..*num) get the whole bpages in order, then the tail. Returns 0, or
 * -ENOMEM when the space is not there (nothing is changed).
 */
int homa_pool_alloc(struct homa_pool *p, uint32_t length,
		    uint32_t offsets[HOMA_MAX_BPAGES], uint32_t *num);

/*
 * Releases offsets previously returned by homa_pool_alloc (any order, whole
 * messages or not). All are checked first: if any is outside the region or
 * names a bpage with no reference, nothing is released and -EINVAL returned.
 */
int homa_pool_release(struct homa_pool *p, const uint32_t *offsets, uint32_t count);

/* Bytes that could still be allocated (free bpages + rest of the tail page). */
uint64_t homa_pool_avail_bytes(const struct homa_pool *p);

/* 1 if homa_pool_alloc(p, length) would succeed now. */
int homa_pool_can_alloc(const struct homa_pool *p, uint32_t length);

#endif
