/*
 * homa_pool.c - bookkeeping of a socket's receive-buffer region (reference
 * section 5.6).
 *
 * The region is cut into 64 KiB bpages, each with a reference count. A
 * message of length L takes floor(L / 64K) whole bpages (count 1 each) and,
 * for the remainder, a tail carved from the one shared "tail page". The pool
 * itself holds one reference on the tail page while it owns it, and each tail
 * carved from it holds another, so:
 *
 *   refs[i] == 0            <=> bpage i is free (counted in free_bpages);
 *   refs[tail_page] >= 1    always (the pool's own reference);
 *   refs[tail_page] == 1    <=> no tail is outstanding: the fill pointer can
 *                               go back to 0.
 *
 * Allocation is planned before anything changes, so it is all or nothing.
 * Releases are applied and rolled back on the first bad offset, so they are
 * all or nothing too; the pool's own reference on the tail page can never be
 * released by the application (a stray extra release would otherwise free a
 * page the pool is still carving).
 *
 * Free bpages are searched from a cursor inside a window [0, in_use +
 * max(4, in_use / 4)) as in the reference, which keeps the region's used part
 * dense at low addresses (fewer pages touched, better TLB behaviour). The
 * window always holds a free page when one exists: at most in_use of its
 * pages are busy.
 *
 * Where we deliberately differ from the reference:
 *   - One tail page for the whole pool instead of one per core: the engine
 *     is single-threaded, so there are no per-core leases or page stealing.
 *   - Tails are rounded up to 64 bytes (reference weakness 12.12), so two
 *     messages never share a cache line.
 *   - An idle tail page (no tail outstanding) is given back when a message
 *     needs it as a whole page, instead of failing the allocation.
 *   - Releases are validated against double frees within one call and
 *     against the pool's own reference, not only against the region bounds.
 */
#include "homa_pool.h"

#include <errno.h>

#define PAGE_SIZE    HOMA_BPAGE_SIZE
#define NO_PAGE	     UINT32_MAX
#define TAIL_ALIGN   64u
#define MIN_BPAGES   (HOMA_MAX_BPAGES + 1)
#define MAX_BPAGES   65536u
#define WINDOW_SLACK 4u

/* What an allocation of a given length would do, computed without side effects. */
struct plan {
	uint32_t whole;	    /* whole bpages */
	uint32_t tail;	    /* tail bytes, rounded up to TAIL_ALIGN; 0 = none */
	int tail_in_place;  /* tail goes in the current tail page */
	int rewind;	    /* ... after moving its fill pointer back to 0 */
	int reclaim_idle;   /* give the idle tail page back to the free pages */
	uint32_t from_free; /* bpages taken from the free ones */
};

uint32_t homa_pool_pages_needed(uint32_t length)
{
	return (uint32_t)(((uint64_t)length + PAGE_SIZE - 1) >> HOMA_BPAGE_SHIFT);
}

int homa_pool_init(struct homa_pool *p, struct homa_mem *m, uint64_t region_len)
{
	uint64_t n = region_len >> HOMA_BPAGE_SHIFT;

	if (n < MIN_BPAGES || n > MAX_BPAGES)
		return -EINVAL;
	p->refs = homa_mem_zalloc(m, (size_t)n * sizeof(*p->refs));
	if (p->refs == NULL)
		return -ENOMEM;
	p->num_bpages = (uint32_t)n;
	p->free_bpages = (uint32_t)n;
	p->tail_page = NO_PAGE;
	p->tail_fill = 0;
	p->cursor = 0;
	return 0;
}

void homa_pool_destroy(struct homa_pool *p, struct homa_mem *m)
{
	homa_mem_free(m, p->refs, (size_t)p->num_bpages * sizeof(*p->refs));
	p->refs = NULL;
	p->num_bpages = 0;
	p->free_bpages = 0;
	p->tail_page = NO_PAGE;
}

static int tail_page_idle(const struct homa_pool *p)
{
	return p->tail_page != NO_PAGE && p->refs[p->tail_page] == 1;
}

/* Returns 0 and fills *pl if the allocation fits, else -ENOMEM. */
static int make_plan(const struct homa_pool *p, uint32_t length, struct plan *pl)
{
	uint32_t rest = length & (PAGE_SIZE - 1);
	uint32_t free = p->free_bpages;

	pl->whole = length >> HOMA_BPAGE_SHIFT;
	pl->tail = (rest + TAIL_ALIGN - 1) & ~(TAIL_ALIGN - 1);
	pl->rewind = 0;
	pl->reclaim_idle = 0;
	pl->tail_in_place = 0;
	if (pl->tail != 0 && p->tail_page != NO_PAGE) {
		pl->tail_in_place =
		    p->tail_fill + pl->tail <= PAGE_SIZE || tail_page_idle(p);
		pl->rewind = p->tail_fill + pl->tail > PAGE_SIZE;
	}
	pl->from_free = pl->whole + (pl->tail != 0 && !pl->tail_in_place);
	if (pl->from_free > free && pl->tail == 0 && tail_page_idle(p)) {
		pl->reclaim_idle = 1;
		free++;
	}
	return pl->from_free <= free ? 0 : -ENOMEM;
}

/* Takes a free bpage from the search window (one exists: see the essay). */
static uint32_t take_free_page(struct homa_pool *p)
{
	uint32_t in_use = p->num_bpages - p->free_bpages;
	uint32_t slack = in_use / 4 > WINDOW_SLACK ? in_use / 4 : WINDOW_SLACK;
	uint32_t limit = in_use + slack < p->num_bpages ? in_use + slack : p->num_bpages;
	uint32_t i = p->cursor < limit ? p->cursor : 0;

	while (p->refs[i] != 0)
		i = i + 1 < limit ? i + 1 : 0;
	p->refs[i] = 1;
	p->free_bpages--;
	p->cursor = i + 1;
	return i;
}

/* Carves the tail per the plan; returns its byte offset in the region. */
static uint32_t take_tail(struct homa_pool *p, const struct plan *pl)
{
	uint32_t off;

	if (!pl->tail_in_place) {
		if (p->tail_page != NO_PAGE)
			p->refs[p->tail_page]--; /* stays >= 1: tails remain in it */
		p->tail_page = take_free_page(p);
		p->tail_fill = 0;
	} else if (pl->rewind) {
		p->tail_fill = 0;
	}
	p->refs[p->tail_page]++;
	off = (p->tail_page << HOMA_BPAGE_SHIFT) + p->tail_fill;
	p->tail_fill += pl->tail;
	return off;
}

int homa_pool_alloc(struct homa_pool *p, uint32_t length,
		    uint32_t offsets[HOMA_MAX_BPAGES], uint32_t *num)
{
	struct plan pl;
	uint32_t n = 0;

	if (length == 0 || length > HOMA_MAX_MESSAGE_LENGTH)
		return -EINVAL;
	if (make_plan(p, length, &pl) != 0)
		return -ENOMEM;
	if (pl.reclaim_idle) {
		p->refs[p->tail_page] = 0;
		p->free_bpages++;
		p->tail_page = NO_PAGE;
		p->tail_fill = 0;
	}
	for (; n < pl.whole; n++)
		offsets[n] = take_free_page(p) << HOMA_BPAGE_SHIFT;
	if (pl.tail != 0)
		offsets[n++] = take_tail(p, &pl);
	*num = n;
	return 0;
}

/* References the application may give back on page i. */
static uint32_t releasable(const struct homa_pool *p, uint32_t i)
{
	return p->refs[i] - (i == p->tail_page ? 1 : 0);
}

static void undo_releases(struct homa_pool *p, const uint32_t *offsets, uint32_t count)
{
	for (uint32_t j = 0; j < count; j++) {
		uint32_t i = offsets[j] >> HOMA_BPAGE_SHIFT;

		if (p->refs[i]++ == 0)
			p->free_bpages--;
	}
}

int homa_pool_release(struct homa_pool *p, const uint32_t *offsets, uint32_t count)
{
	for (uint32_t j = 0; j < count; j++) {
		uint32_t i = offsets[j] >> HOMA_BPAGE_SHIFT;

		if (i >= p->num_bpages || releasable(p, i) == 0) {
			undo_releases(p, offsets, j);
			return -EINVAL;
		}
		if (--p->refs[i] == 0)
			p->free_bpages++;
	}
	if (tail_page_idle(p))
		p->tail_fill = 0;
	return 0;
}

uint64_t homa_pool_avail_bytes(const struct homa_pool *p)
{
	uint64_t bytes = (uint64_t)p->free_bpages * PAGE_SIZE;

	if (p->tail_page != NO_PAGE)
		bytes += PAGE_SIZE - p->tail_fill;
	return bytes;
}

int homa_pool_can_alloc(const struct homa_pool *p, uint32_t length)
{
	struct plan pl;

	if (length == 0 || length > HOMA_MAX_MESSAGE_LENGTH)
		return 0;
	return make_plan(p, length, &pl) == 0;
}
