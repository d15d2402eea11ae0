/*
 * homa_msgin.c - gap tracking for one incoming message.
 *
 * Invariant: every byte below recv_end has arrived except those in gaps[];
 * gaps are sorted by start, disjoint, non-empty, and all end at or below
 * recv_end; bytes_remaining is length minus the bytes that arrived, so the
 * message is complete exactly when bytes_remaining is 0 (which also means
 * recv_end == length and there are no gaps).
 *
 * Reference section 5.2 accepts a packet only if it falls exactly at a gap's
 * start, at its end, strictly inside it, or at recv_end; a packet straddling
 * a gap boundary is dropped whole as a duplicate. That loses data when a
 * retransmission is cut differently from the original (different GSO or MTU
 * on the resend path), and a dropped packet costs a RESEND round trip. Here
 * any range is accepted and only its missing bytes count: [start, end) is
 * subtracted from every gap it touches and may extend recv_end.
 *
 * One added range can add at most one gap (a split of a gap strictly
 * containing it, or a new gap before it when it lands beyond recv_end; never
 * both), so the work is: find the run of gaps the range overlaps, replace
 * that run by its 0..2 leftover pieces, then maybe append one gap. The array
 * is grown before anything changes, so -ENOMEM and -E2BIG leave the state
 * untouched. HOMA_MSGIN_MAX_GAPS bounds the memory a sender can make us
 * use: 1024 gaps of 16 bytes.
 */
#include "homa_msgin.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#define MSGIN_MIN_CAP 4

void homa_msgin_init(struct homa_msgin *m, uint32_t length)
{
	memset(m, 0, sizeof(*m));
	m->length = length;
	m->bytes_remaining = length;
}

void homa_msgin_destroy(struct homa_msgin *m, struct homa_mem *mem)
{
	homa_mem_free(mem, m->gaps, (size_t)m->cap_gaps * sizeof(*m->gaps));
	m->gaps = NULL;
	m->num_gaps = 0;
	m->cap_gaps = 0;
}

/* Index of the first gap ending after offset (num_gaps if none). */
static uint32_t first_gap_after(const struct homa_msgin *m, uint32_t offset)
{
	uint32_t lo = 0, hi = m->num_gaps;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (m->gaps[mid].end <= offset)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Makes room for need gaps; returns 0 or -ENOMEM (nothing changed). */
static int reserve(struct homa_msgin *m, struct homa_mem *mem, uint32_t need)
{
	uint32_t cap = m->cap_gaps ? m->cap_gaps : MSGIN_MIN_CAP;
	struct homa_gap *gaps;

	if (need <= m->cap_gaps)
		return 0;
	while (cap < need)
		cap *= 2;
	if (cap > HOMA_MSGIN_MAX_GAPS)
		cap = HOMA_MSGIN_MAX_GAPS;
	gaps = homa_mem_alloc(mem, (size_t)cap * sizeof(*gaps));
	if (!gaps)
		return -ENOMEM;
	if (m->num_gaps)
		memcpy(gaps, m->gaps, (size_t)m->num_gaps * sizeof(*gaps));
	homa_mem_free(mem, m->gaps, (size_t)m->cap_gaps * sizeof(*m->gaps));
	m->gaps = gaps;
	m->cap_gaps = cap;
	return 0;
}

/* Bytes of [start, end) that fall in gaps[lo, hi). */
static uint32_t overlap_bytes(const struct homa_msgin *m, uint32_t lo, uint32_t hi,
			      uint32_t start, uint32_t end)
{
	uint32_t sum = 0;

	for (uint32_t i = lo; i < hi; i++) {
		uint32_t s = m->gaps[i].start > start ? m->gaps[i].start : start;
		uint32_t e = m->gaps[i].end < end ? m->gaps[i].end : end;

		sum += e - s;
	}
	return sum;
}

/* Replaces gaps[lo, hi) by the k pieces in piece[]. Capacity was reserved. */
static void replace_run(struct homa_msgin *m, uint32_t lo, uint32_t hi,
			const struct homa_gap *piece, uint32_t k)
{
	uint32_t tail = m->num_gaps - hi;

	memmove(&m->gaps[lo + k], &m->gaps[hi], (size_t)tail * sizeof(*m->gaps));
	for (uint32_t i = 0; i < k; i++)
		m->gaps[lo + i] = piece[i];
	m->num_gaps = lo + k + tail;
}

int homa_msgin_add(struct homa_msgin *m, struct homa_mem *mem, uint32_t start,
		   uint32_t end, uint64_t now)
{
	struct homa_gap piece[2];
	uint32_t lo, hi, k = 0, fresh, need;
	int new_gap, err;

	if (start >= end || end > m->length || end - start > INT_MAX)
		return -EINVAL;
	lo = first_gap_after(m, start);
	for (hi = lo; hi < m->num_gaps && m->gaps[hi].start < end; hi++)
		;
	if (lo < hi && m->gaps[lo].start < start)
		piece[k++] =
		    (struct homa_gap){m->gaps[lo].start, start, m->gaps[lo].time};
	if (lo < hi && m->gaps[hi - 1].end > end)
		piece[k++] =
		    (struct homa_gap){end, m->gaps[hi - 1].end, m->gaps[hi - 1].time};
	new_gap = start > m->recv_end;
	need = m->num_gaps - (hi - lo) + k + (uint32_t)new_gap;
	if (need > HOMA_MSGIN_MAX_GAPS)
		return -E2BIG;
	err = reserve(m, mem, need);
	if (err)
		return err;

	fresh = overlap_bytes(m, lo, hi, start, end);
	if (hi > lo) /* else nothing to replace, and gaps may still be NULL */
		replace_run(m, lo, hi, piece, k);
	if (end > m->recv_end) {
		uint32_t from = new_gap ? start : m->recv_end;

		if (new_gap)
			m->gaps[m->num_gaps++] =
			    (struct homa_gap){m->recv_end, start, now};
		fresh += end - from;
		m->recv_end = end;
	}
	m->bytes_remaining -= fresh;
	return (int)fresh;
}

int homa_msgin_complete(const struct homa_msgin *m)
{
	return m->bytes_remaining == 0;
}

size_t homa_msgin_missing(const struct homa_msgin *m, uint32_t limit,
			  struct homa_gap *out, size_t max)
{
	size_t n = 0;

	if (limit > m->length)
		limit = m->length;
	for (uint32_t i = 0; i < m->num_gaps && n < max; i++) {
		if (m->gaps[i].start >= limit)
			return n;
		out[n] = m->gaps[i];
		if (out[n].end > limit)
			out[n].end = limit;
		n++;
	}
	if (n < max && m->recv_end < limit)
		out[n++] = (struct homa_gap){m->recv_end, limit, 0};
	return n;
}

uint32_t homa_msgin_gap_bytes(const struct homa_msgin *m)
{
	uint32_t sum = 0;

	for (uint32_t i = 0; i < m->num_gaps; i++)
		sum += m->gaps[i].end - m->gaps[i].start;
	return sum;
}

int homa_msgin_all_missing(const struct homa_msgin *m, uint32_t start, uint32_t end)
{
	uint32_t i;

	if (start >= end || end > m->length)
		return 0;
	if (start >= m->recv_end)
		return 1;
	/* Below recv_end only a gap holds missing bytes: one gap must cover
	 * [start, min(end, recv_end)); gaps end at or below recv_end, so a
	 * range reaching past recv_end needs a gap ending exactly there. */
	i = first_gap_after(m, start);
	if (i >= m->num_gaps || m->gaps[i].start > start)
		return 0;
	return m->gaps[i].end >= (end < m->recv_end ? end : m->recv_end);
}
