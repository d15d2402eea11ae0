/*
 * homa_grant.h - the per-host receiver-side grant scheduler (reference
 * sections 5.4 and 5.5; the design and its differences are in the essay at
 * the top of homa_grant.c and in docs/grants.md).
 *
 * The scheduler allocates nothing: its bookkeeping lives in struct
 * homa_grant_rpc, which the engine embeds in every incoming message. It
 * never reads a clock (now is passed in) and sends grants only through the
 * callback given to homa_grant_init(), during the call that decided them.
 *
 * What total_incoming counts: for every managed message, the bytes the
 * scheduler itself granted that have not arrived yet,
 *     max(0, granted - max(received, base))
 * where base is r->granted when the scheduler first saw the message (its
 * unscheduled bytes, which the sender sends without asking). Unscheduled
 * bytes are not counted: the scheduler cannot stop them, so counting them
 * would make the bound unkeepable. The bound is
 *     homa_grant_incoming_bound() = max_incoming + fifo_grant_increment
 * when FIFO grants are enabled, else max_incoming: SRPT grants never push
 * total_incoming past max_incoming, and a FIFO grant is only issued while
 * total_incoming + increment stays within the bound. It holds as long as the
 * engine does not lower max_incoming or fifo_grant_increment while grants
 * are outstanding, and never lets r->received decrease.
 */
#ifndef HOMA_GRANT_H
#define HOMA_GRANT_H

#include <stddef.h>
#include <stdint.h>

#include "homa/homa_core.h"

/* Most active (granted-to) messages at once; max_overcommit is clamped to it. */
#define HOMA_GRANT_MAX_ACTIVE 8

/* SRPT grants smaller than this many max_packet_bytes wait (see homa_grant.c). */
#define HOMA_GRANT_MIN_PACKETS 4

/* homa_grant_rpc.state */
#define HOMA_GRANT_UNMANAGED 0 /* unknown to the scheduler */
#define HOMA_GRANT_GRANTABLE 1 /* needs more grants: in the rank list */
#define HOMA_GRANT_FULL	     2 /* fully granted, bytes still arriving */

struct homa_grant_rpc {
	/* Maintained by the owner (engine), read by the scheduler: */
	const void *peer; /* identity of the sending host (per-peer fairness) */
	uint64_t
	    birth; /* time the message's first packet arrived (FIFO order, tie breaks) */
	uint32_t length; /* message length */
	uint32_t
	    received;	  /* bytes received so far; bytes remaining = length - received */
	uint32_t granted; /* sender may send [0, granted): the owner sets it to
			     min(incoming, length) at the first packet; only the scheduler
			     raises it afterwards */

	/* Private to the scheduler (zeroed by homa_grant_rpc_init): */
	struct homa_grant_rpc *prev, *next; /* rank list or fully-granted list */
	uint64_t seq;		 /* order of arrival in the scheduler: last tie break */
	uint32_t rank_remaining; /* bytes remaining when last ranked */
	uint32_t base;		 /* granted when first managed: the unscheduled bytes */
	uint32_t incoming;	 /* this message's share of total_incoming */
	uint8_t state;		 /* HOMA_GRANT_UNMANAGED / _GRANTABLE / _FULL */
	uint8_t active;		 /* 1 while it holds an active slot */
	uint8_t satisfied;	 /* active and granted its window: FIFO skips it */
};

typedef void (*homa_grant_send_fn)(void *ctx, struct homa_grant_rpc *r, uint32_t offset,
				   int priority, uint64_t now);

struct homa_grant {
	const struct homa_settings *settings; /* owned by the engine, read live */
	homa_grant_send_fn send;
	void *ctx;
	int max_sched_prio;

	/* Messages still needing grants, best (fewest bytes remaining) first. */
	struct homa_grant_rpc *head, *tail;
	size_t num_grantable;
	/* Fully granted but not fully received: still counted in total_incoming. */
	struct homa_grant_rpc *full;
	size_t num_full;

	/* Active slots, in rank order (active[0] is the best). */
	struct homa_grant_rpc *active[HOMA_GRANT_MAX_ACTIVE];
	uint32_t num_active;
	int dirty; /* membership or order changed: the active set must be rechosen */

	uint64_t total_incoming;
	uint64_t next_seq;
	uint64_t fifo_next; /* when the next FIFO grant is due */
	int fifo_armed;

	/* Counters for the engine's statistics. */
	uint64_t grant_bytes;	   /* bytes granted by SRPT grants */
	uint64_t fifo_grant_bytes; /* bytes granted by FIFO grants */
	uint64_t grants_sent;	   /* send() calls, SRPT and FIFO */
};

/*
 * Sets up g. settings is kept by pointer (the engine owns it and may change
 * it); send is called for every grant with ctx. max_sched_prio starts as
 * the reference derives it from settings->unsched_cutoffs.
 */
void homa_grant_init(struct homa_grant *g, const struct homa_settings *settings,
		     homa_grant_send_fn send, void *ctx);

/* Forgets all RPCs (their private state is zeroed); sends nothing. */
void homa_grant_destroy(struct homa_grant *g);

/* Zeroes r's private state. The owner's fields are left alone. */
void homa_grant_rpc_init(struct homa_grant_rpc *r);

/* Highest priority level scheduled packets may use (from the cutoffs; see homa_prio.h).
 */
void homa_grant_set_max_sched_prio(struct homa_grant *g, int level);

/*
 * After the owner updated r->received (or created r): manage/rank r and send
 * whatever grants are due (to r or others) through send(). Safe to call for
 * RPCs not needing grants (granted >= length or fully received): a managed
 * one that is fully received is removed.
 */
void homa_grant_check(struct homa_grant *g, struct homa_grant_rpc *r, uint64_t now);

/*
 * r stops needing grants (complete, ended, stalled waiting for buffers):
 * unlink it, refill its slot, grant to others as headroom allows.
 * Idempotent. If r is checked again later it starts afresh: its outstanding
 * grants then count as unscheduled bytes.
 */
void homa_grant_remove(struct homa_grant *g, struct homa_grant_rpc *r, uint64_t now);

/* Timer hook: lets FIFO grants and needy slots make progress even when no packet arrives.
 */
void homa_grant_tick(struct homa_grant *g, uint64_t now);

/* Granted-but-unreceived scheduled bytes over all managed RPCs (see above). */
uint64_t homa_grant_total_incoming(const struct homa_grant *g);

/* max_incoming, plus fifo_grant_increment when FIFO grants are enabled. */
uint64_t homa_grant_incoming_bound(const struct homa_grant *g);

/* Messages holding an active slot. */
size_t homa_grant_num_active(const struct homa_grant *g);

/* Messages still needing grants (active or waiting). */
size_t homa_grant_num_grantable(const struct homa_grant *g);

/* Nanoseconds between FIFO grants; 0 when FIFO grants are disabled. */
uint64_t homa_grant_fifo_interval(const struct homa_settings *s);

/* Priority of a grant to the message of the given rank (0 = best) among num_active. */
int homa_grant_priority(const struct homa_grant *g, uint32_t rank, uint32_t num_active);

#endif
