/*
 * homa_prio.h - unscheduled priority cutoffs computed from the observed
 * message-size mix (reference section 8, done inside the engine instead of by
 * a user-space daemon reading /proc).
 *
 * The engine records the length of every message it receives in a histogram;
 * every prio_interval_ns it asks homa_prio_compute() for a new cutoff table
 * and, if one comes back that differs from the current table, installs it and
 * bumps the cutoff version (CUTOFFS then propagate to senders lazily).
 */
#ifndef HOMA_PRIO_H
#define HOMA_PRIO_H

#include <stdint.h>

#include "homa/homa_wire.h"

/* Buckets as the reference's metrics: 64-byte steps to 4096, 1 KiB steps to
 * 131072, then one "large" bucket with exact counts and bytes. */
#define HOMA_PRIO_SMALL_BUCKETS	 64  /* 64, 128, ..., 4096 */
#define HOMA_PRIO_MEDIUM_BUCKETS 124 /* 5120, 6144, ..., 131072 */
#define HOMA_PRIO_BUCKETS	 (HOMA_PRIO_SMALL_BUCKETS + HOMA_PRIO_MEDIUM_BUCKETS)

struct homa_prio_hist {
	uint64_t count[HOMA_PRIO_BUCKETS];
	uint64_t bytes[HOMA_PRIO_BUCKETS];
	uint64_t large_count;
	uint64_t large_bytes;
	uint64_t messages; /* total messages recorded */
};

/* Largest length that falls in bucket i. */
uint32_t homa_prio_bucket_max(unsigned i);

void homa_prio_hist_add(struct homa_prio_hist *h, uint32_t length);
void homa_prio_hist_reset(struct homa_prio_hist *h);

/*
 * Computes a cutoff table from h (reference section 8 steps 3-5; 64-bit
 * sums). Entry i = largest message length sent unscheduled at level i; entry
 * 0 is 0x7fffffff... see the .c essay for the exact convention. Returns 0 and
 * fills cutoffs, or -EAGAIN when h holds fewer than min_messages messages or
 * num_priorities is 1 (cutoffs unchanged).
 */
int homa_prio_compute(const struct homa_prio_hist *h, uint32_t num_priorities,
		      uint32_t unsched_bytes, uint32_t min_messages,
		      uint32_t cutoffs[HOMA_MAX_PRIORITIES]);

/*
 * Unscheduled priority for a message of length bytes given a receiver's
 * cutoffs: scanning from num_priorities - 1 down, the first level whose
 * cutoff >= length; level 0 if none.
 */
int homa_prio_unsched_level(const uint32_t cutoffs[HOMA_MAX_PRIORITIES],
			    uint32_t num_priorities, uint32_t length);

/*
 * Highest level usable by scheduled packets for a cutoff table: (highest i
 * with cutoffs[i] >= HOMA_MAX_MESSAGE_LENGTH) - 1, at least 0.
 */
int homa_prio_max_sched(const uint32_t cutoffs[HOMA_MAX_PRIORITIES],
			uint32_t num_priorities);

#endif
