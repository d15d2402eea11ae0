/*
 * homa_prio.c - unscheduled priority cutoffs from the observed message-size
 * mix (reference section 8 steps 3-5, and section 6.5 for how a table is
 * used).
 *
 * A cutoff table gives, for each level i, the largest message length whose
 * unscheduled bytes are sent at level i; a sender scans from the highest
 * level down and takes the first level whose cutoff covers the message. The
 * goal is that the top U levels each carry roughly the same number of
 * unscheduled bytes, with the shortest messages highest, and the levels below
 * them are left to scheduled (granted) traffic.
 *
 * homa_prio_compute:
 *   1. Unscheduled bytes per bucket: all of them when every message of the
 *      bucket fits in unsched_bytes, else min(bytes, count * unsched_bytes).
 *      Messages above the last bucket count count * unsched_bytes.
 *   2. U = round(num_priorities * unsched / total), at least 1, at most
 *      num_priorities.
 *   3. Quantum q = 1 + unsched / U (1 + total / num_priorities when every
 *      level is unscheduled). Walking the buckets by size and summing their
 *      unscheduled bytes, each time the sum reaches the threshold the next
 *      level down (from num_priorities - 1) gets the bucket's maximum length,
 *      and the threshold moves to sum + q. The walk leaves the U-th level
 *      unassigned: it and every level under it get HOMA_MAX_MESSAGE_LENGTH,
 *      so it is the catch-all unscheduled level for the long messages and
 *      homa_prio_max_sched puts scheduled traffic just below it.
 *
 * Conventions of the table produced:
 *   - entry 0 is 0x7fffffff (the reference's INT_MAX), so a scan always stops
 *     at level 0 whatever the other entries hold;
 *   - entries at or above num_priorities are 0;
 *   - the nonzero entries of levels 1..7 never increase with the level, which
 *     is exactly what the wire decoder demands of a CUTOFFS packet.
 *
 * Where we deliberately differ from the reference:
 *   - All sums are 64-bit (weakness 12.18: the daemon's 32-bit int overflows
 *     past 2 GB of traffic per interval and produces nonsense tables).
 *   - Message counts per bucket are exact (the engine records them) instead
 *     of being estimated as 2 x bytes / (bucket max + previous bucket max).
 *   - It runs inside the engine on a histogram, not as a daemon over /proc;
 *     the drift test against previous deciles is left to the caller, which
 *     installs a table only if it differs from the current one.
 *   - homa_prio_unsched_level never scans below entry 0 (the reference's peer
 *     defaults let a scan with num_priorities < 7 run past the table).
 */
#include "homa_prio.h"

#include <errno.h>
#include <string.h>

#define SMALL_STEP  64u
#define SMALL_MAX   (SMALL_STEP * HOMA_PRIO_SMALL_BUCKETS) /* 4096 */
#define MEDIUM_STEP 1024u
#define CUTOFF_TOP  0x7fffffffu

uint32_t homa_prio_bucket_max(unsigned i)
{
	if (i < HOMA_PRIO_SMALL_BUCKETS)
		return SMALL_STEP * (i + 1);
	return SMALL_MAX + MEDIUM_STEP * (i - HOMA_PRIO_SMALL_BUCKETS + 1);
}

/* Bucket of a length, or HOMA_PRIO_BUCKETS for the "large" bucket. */
static unsigned bucket_of(uint32_t length)
{
	if (length <= SMALL_MAX)
		return length == 0 ? 0 : (length - 1) / SMALL_STEP;
	if (length <= homa_prio_bucket_max(HOMA_PRIO_BUCKETS - 1))
		return HOMA_PRIO_SMALL_BUCKETS + (length - SMALL_MAX - 1) / MEDIUM_STEP;
	return HOMA_PRIO_BUCKETS;
}

void homa_prio_hist_add(struct homa_prio_hist *h, uint32_t length)
{
	unsigned b = bucket_of(length);

	if (b == HOMA_PRIO_BUCKETS) {
		h->large_count++;
		h->large_bytes += length;
	} else {
		h->count[b]++;
		h->bytes[b] += length;
	}
	h->messages++;
}

void homa_prio_hist_reset(struct homa_prio_hist *h)
{
	memset(h, 0, sizeof(*h));
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* Step 1: unscheduled bytes of bucket i (i == HOMA_PRIO_BUCKETS: large). */
static uint64_t bucket_unsched(const struct homa_prio_hist *h, unsigned i,
			       uint32_t unsched_bytes)
{
	if (i == HOMA_PRIO_BUCKETS)
		return min_u64(h->large_bytes, h->large_count * unsched_bytes);
	if (homa_prio_bucket_max(i) <= unsched_bytes)
		return h->bytes[i];
	return min_u64(h->bytes[i], h->count[i] * unsched_bytes);
}

/* The large bucket's maximum for the walk: any message may be in it. */
static uint32_t walk_bucket_max(unsigned i)
{
	return i == HOMA_PRIO_BUCKETS ? HOMA_MAX_MESSAGE_LENGTH : homa_prio_bucket_max(i);
}

/*
 * Step 2: number of unscheduled levels, round(num_priorities * unsched /
 * total) in integers (no floating point: the core must also build as a
 * kernel module). Both sums are scaled down together until 2 x 8 x unsched
 * cannot overflow; only the ratio matters.
 */
static uint32_t unsched_levels(uint64_t unsched, uint64_t total, uint32_t num_priorities)
{
	uint32_t levels;

	while (unsched > (UINT64_MAX >> 5) || total > (UINT64_MAX >> 1)) {
		unsched >>= 1;
		total >>= 1;
	}
	levels = (uint32_t)((2 * num_priorities * unsched + total) / (2 * total));
	if (levels < 1)
		return 1;
	return levels > num_priorities ? num_priorities : levels;
}

/* Step 3: assigns levels from the top; returns the highest level left over. */
static int walk_buckets(const struct homa_prio_hist *h, uint32_t num_priorities,
			uint32_t unsched_bytes, uint32_t levels, uint64_t unsched,
			uint64_t total, uint32_t cutoffs[HOMA_MAX_PRIORITIES])
{
	uint64_t quantum =
	    1 + (levels >= num_priorities ? total / num_priorities : unsched / levels);
	uint64_t threshold = quantum, sum = 0;
	int level = (int)num_priorities - 1;
	int last_walked = (int)(num_priorities - levels);

	for (unsigned i = 0; i <= HOMA_PRIO_BUCKETS && level > last_walked; i++) {
		sum += bucket_unsched(h, i, unsched_bytes);
		if (sum < threshold)
			continue;
		cutoffs[level--] = walk_bucket_max(i);
		threshold = sum + quantum;
		if (sum >= unsched)
			break;
	}
	return level;
}

int homa_prio_compute(const struct homa_prio_hist *h, uint32_t num_priorities,
		      uint32_t unsched_bytes, uint32_t min_messages,
		      uint32_t cutoffs[HOMA_MAX_PRIORITIES])
{
	uint32_t table[HOMA_MAX_PRIORITIES] = {0};
	uint64_t unsched = 0, total = h->large_bytes;
	int level;

	if (num_priorities > HOMA_MAX_PRIORITIES)
		num_priorities = HOMA_MAX_PRIORITIES;
	if (num_priorities <= 1 || h->messages < min_messages)
		return -EAGAIN;
	for (unsigned i = 0; i < HOMA_PRIO_BUCKETS; i++)
		total += h->bytes[i];
	for (unsigned i = 0; i <= HOMA_PRIO_BUCKETS; i++)
		unsched += bucket_unsched(h, i, unsched_bytes);
	if (total == 0)
		return -EAGAIN;
	level = walk_buckets(h, num_priorities, unsched_bytes,
			     unsched_levels(unsched, total, num_priorities), unsched,
			     total, table);
	for (; level >= 0; level--)
		table[level] = HOMA_MAX_MESSAGE_LENGTH;
	table[0] = CUTOFF_TOP;
	memcpy(cutoffs, table, sizeof(table));
	return 0;
}

static uint32_t clamp_priorities(uint32_t num_priorities)
{
	if (num_priorities < 1)
		return 1;
	return num_priorities > HOMA_MAX_PRIORITIES ? HOMA_MAX_PRIORITIES
						    : num_priorities;
}

int homa_prio_unsched_level(const uint32_t cutoffs[HOMA_MAX_PRIORITIES],
			    uint32_t num_priorities, uint32_t length)
{
	for (int i = (int)clamp_priorities(num_priorities) - 1; i > 0; i--) {
		if (cutoffs[i] >= length)
			return i;
	}
	return 0;
}

int homa_prio_max_sched(const uint32_t cutoffs[HOMA_MAX_PRIORITIES],
			uint32_t num_priorities)
{
	for (int i = (int)clamp_priorities(num_priorities) - 1; i > 0; i--) {
		if (cutoffs[i] >= HOMA_MAX_MESSAGE_LENGTH)
			return i - 1;
	}
	return 0;
}
