/*
 * homa_msgin.h - which bytes of one incoming message have arrived (reference
 * section 5.2, with partial overlaps accepted and the gap list bounded).
 *
 * The module tracks byte ranges only; the engine stores the payload itself.
 * State: recv_end (highest byte received + 1) and a sorted array of gaps
 * below it. The gap array grows through homa_mem and never holds more than
 * HOMA_MSGIN_MAX_GAPS entries, so a hostile sender sending every other packet
 * cannot make the receiver allocate without bound.
 */
#ifndef HOMA_MSGIN_H
#define HOMA_MSGIN_H

#include <stddef.h>
#include <stdint.h>

#include "homa_mem.h"

#define HOMA_MSGIN_MAX_GAPS 1024 /* a hostile sender cannot make us allocate more */

struct homa_gap {
	uint32_t start, end; /* missing bytes [start, end) */
	uint64_t time;	     /* when the gap was created */
};

struct homa_msgin {
	uint32_t length;	  /* message length */
	uint32_t recv_end;	  /* highest byte received + 1 */
	uint32_t bytes_remaining; /* length minus bytes received */
	uint32_t num_gaps, cap_gaps;
	struct homa_gap *gaps; /* sorted by start, disjoint, all below recv_end */
};

/* Sets up m for a message of length bytes, nothing received. Allocates nothing. */
void homa_msgin_init(struct homa_msgin *m, uint32_t length);

/* Frees the gap array (allocated from mem). m may be initialised again after. */
void homa_msgin_destroy(struct homa_msgin *m, struct homa_mem *mem);

/*
 * Records bytes [start, end) as received. Returns the number of bytes that
 * were new (0 for a pure duplicate), -EINVAL if the range is empty or beyond
 * length, -ENOMEM (nothing changed), -E2BIG when it would need more than
 * HOMA_MSGIN_MAX_GAPS gaps (nothing changed). Unlike the reference, partial
 * overlaps are accepted: only the missing bytes count. now stamps new gaps.
 */
int homa_msgin_add(struct homa_msgin *m, struct homa_mem *mem, uint32_t start,
		   uint32_t end, uint64_t now);

/* 1 when every byte of the message has been received, else 0. */
int homa_msgin_complete(const struct homa_msgin *m);

/*
 * Missing ranges below limit (the gaps, then [recv_end, limit)), each cut at
 * limit, at most max of them written to out; returns how many were written.
 * A range [recv_end, limit) gets time 0. Used to build RESENDs.
 */
size_t homa_msgin_missing(const struct homa_msgin *m, uint32_t limit,
			  struct homa_gap *out, size_t max);

/*
 * 1 if no byte of [start, end) has been received (every byte is in one gap
 * or at or beyond recv_end), 0 otherwise or if the range is empty or beyond
 * length. Pure.
 */
int homa_msgin_all_missing(const struct homa_msgin *m, uint32_t start, uint32_t end);

/* Total bytes in gaps (missing bytes below recv_end). */
uint32_t homa_msgin_gap_bytes(const struct homa_msgin *m);

#endif
