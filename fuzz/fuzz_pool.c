/*
 * fuzz_pool.c - libFuzzer target for the receive-buffer pool.
 *
 * FUZZ_SOURCES: src/core/homa_pool.c src/core/homa_mem.c
 *
 * The input is a program: byte 0 sizes the pool (17..64 bpages), then each
 * 4-byte group either allocates a message (length from the other 3 bytes) or
 * releases one of the live messages. After every step: free_bpages matches
 * the reference counts, can_alloc predicted the allocation's outcome, and no
 * two live messages share a 64-byte unit. At the end everything is released
 * and the pool must be whole again, with no memory left allocated.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "homa_pool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                      \
	do {                                                                             \
		if (!(cond))                                                             \
			abort();                                                         \
	} while (0)

#define MAX_PAGES 64
#define MAX_LIVE  128
#define UNITS	  (MAX_PAGES * HOMA_BPAGE_SIZE / 64)

struct msg {
	uint32_t len, num;
	uint32_t offs[HOMA_MAX_BPAGES];
};

struct world {
	struct homa_mem mem;
	struct homa_pool pool;
	struct msg live[MAX_LIVE];
	int nlive;
	uint8_t used[UNITS];
};

static void check_counts(const struct homa_pool *p)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < p->num_bpages; i++)
		n += p->refs[i] == 0;
	CHECK(n == p->free_bpages);
	CHECK(p->tail_page == UINT32_MAX || p->refs[p->tail_page] >= 1);
}

static void mark(struct world *w, const struct msg *m, uint8_t v)
{
	uint32_t left = m->len;

	for (uint32_t j = 0; j < m->num; j++) {
		uint32_t bytes = left < HOMA_BPAGE_SIZE ? left : HOMA_BPAGE_SIZE;
		uint32_t first = m->offs[j] / 64, units = (bytes + 63) / 64;

		CHECK(m->offs[j] % 64 == 0);
		CHECK(first + units <= w->pool.num_bpages * (HOMA_BPAGE_SIZE / 64));
		CHECK(v == 0 || memchr(w->used + first, 1, units) == NULL);
		memset(w->used + first, v, units);
		left -= bytes;
	}
}

static void do_alloc(struct world *w, uint32_t len)
{
	struct msg *m = &w->live[w->nlive];
	int can = homa_pool_can_alloc(&w->pool, len);
	int rc = homa_pool_alloc(&w->pool, len, m->offs, &m->num);

	CHECK(rc == (can ? 0 : -12 /* -ENOMEM */));
	if (rc != 0)
		return;
	CHECK(m->num == homa_pool_pages_needed(len));
	m->len = len;
	mark(w, m, 1);
	w->nlive++;
}

static void do_release(struct world *w, uint32_t k)
{
	struct msg *m = &w->live[k % (uint32_t)w->nlive];

	mark(w, m, 0);
	CHECK(homa_pool_release(&w->pool, m->offs, m->num) == 0);
	*m = w->live[--w->nlive];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct world w;

	if (size < 1)
		return 0;
	memset(&w, 0, sizeof(w));
	homa_mem_init(&w.mem, NULL);
	CHECK(homa_pool_init(&w.pool, &w.mem,
			     (uint64_t)(17 + data[0] % (MAX_PAGES - 16)) *
				 HOMA_BPAGE_SIZE) == 0);
	for (size_t i = 1; i + 4 <= size; i += 4) {
		uint32_t v = (uint32_t)data[i + 1] << 16 | (uint32_t)data[i + 2] << 8 |
			     data[i + 3];
		uint8_t op = data[i];

		if ((op & 1) == 0 && w.nlive < MAX_LIVE)
			do_alloc(&w,
				 1 + (op & 2 ? v % 5000 : v % HOMA_MAX_MESSAGE_LENGTH));
		else if (w.nlive > 0)
			do_release(&w, v);
		check_counts(&w.pool);
	}
	while (w.nlive > 0)
		do_release(&w, 0);
	CHECK(w.pool.free_bpages + (w.pool.tail_page != UINT32_MAX) == w.pool.num_bpages);
	homa_pool_destroy(&w.pool, &w.mem);
	CHECK(w.mem.in_use == 0);
	return 0;
}
