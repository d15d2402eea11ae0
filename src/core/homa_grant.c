/*
 * homa_grant.c - the receiver-side grant scheduler (reference 5.4 and 5.5).
 *
 * A Homa sender sends its unscheduled bytes blindly and everything after
 * them only when the receiver grants it. The receiver grants so that its
 * downlink stays busy (several messages granted at once: overcommitment) and
 * the message closest to completion goes first (SRPT), while capping how many
 * granted bytes can be in flight towards it (max_incoming), which bounds the
 * queue at its top-of-rack switch port.
 *
 * Structure. Every message that still needs grants is in one list, sorted by
 * rank: fewer bytes remaining (length - received, not length - granted) is
 * better; ties go to the older birth, then to the order the scheduler met
 * the messages (seq), so the order is total and runs are reproducible. The
 * rank is refreshed every time the owner reports progress, unlike the
 * reference's slot snapshots, which went stale as data arrived (weakness
 * 12.17). Up to max_overcommit of these messages are "active"; only active
 * messages get SRPT grants. Messages that are fully granted leave the list
 * (and their slot, which another message can use at once) but stay managed
 * until fully received, because their granted bytes are still in flight.
 *
 * Choosing the active set. Whenever membership or order changed, the set is
 * recomputed from the list: in rank order, the best message of each peer
 * first, then the second best of each peer, and so on, until the slots are
 * full. This is the reference's soft per-peer fairness (every peer gets one
 * slot before any peer gets a second) stated as a function of the list
 * instead of as a victim-selection procedure, so the result never depends on
 * the order events arrived in. A message pushed out of the active set keeps
 * its outstanding grants (they still count as incoming) and simply gets no
 * new ones.
 *
 * Granting. After any change the active messages are visited best first;
 * each is offered enough to have `window` bytes granted beyond what it has
 * received (window = settings->window, or max_incoming / (active + 1)), cut
 * at its length and at the headroom max_incoming - total_incoming. When the
 * headroom runs out, the messages not served are exactly the reference's
 * "needy" slots: they are served first-best as soon as bytes arrive, a
 * message leaves, or homa_grant_tick() runs (the reference has no timer
 * path; a tick costs one pass over at most eight slots). A grant smaller
 * than HOMA_GRANT_MIN_PACKETS full packets (at most a quarter of the window
 * and of max_incoming) is held back unless it completes the message: the
 * reference grants once per GRO batch, but a user-space receiver sees
 * packets one at a time and would otherwise answer nearly every DATA packet
 * with a GRANT. When headroom is short of that minimum the best needy
 * message waits for it rather than letting worse ones take it.
 *
 * Priorities. A grant to the message of rank i among N active uses level
 * M - i, lowered by M + 1 - N when N <= M (few active messages use the
 * lowest scheduled levels so that newcomers can preempt them), at least 0,
 * where M = max_sched_prio; with one priority level everything is 0.
 *
 * FIFO grants. Pure SRPT starves long messages under load; every
 * fifo_interval (the time to send fifo_grant_increment bytes at
 * grant_fifo_fraction of link_mbps) the oldest message still needing grants
 * gets fifo_grant_increment more bytes, at level num_priorities - 2,
 * whatever its rank, unless it already has window + 2 increments granted
 * but not received (its sender is presumed unresponsive; the next oldest is
 * taken) or SRPT already serves it: an active message that got its whole
 * window at the last pass is not starving (the reference grants to it
 * anyway, which on a fast link with a short interval, e.g. loopback, turned
 * a third of all granted bytes into FIFO grants on top of the window). The
 * reference checks this only after a normal grant; here the tick also
 * drives it, so an old message gets its share even while no data arrives.
 *
 * The incoming bound (see homa_grant.h). total_incoming counts only bytes
 * the scheduler granted: per message, granted - max(received, base), base
 * being the unscheduled amount granted before the scheduler saw it. SRPT
 * grants stop at max_incoming; a FIFO grant is allowed only while
 * total_incoming + its size stays within max_incoming + increment, so the
 * bound is max_incoming + fifo_grant_increment and a late FIFO grant waits
 * for headroom instead of stacking on top of another. The reference lets
 * FIFO grants ignore the cap entirely and counts unscheduled bytes, which
 * makes its total unbounded by anything the scheduler controls.
 *
 * Cost: a check costs O(max_overcommit) when the message keeps its place
 * in the list, plus O(distance) when it moves up. The active set is rechosen
 * (O(n) per fairness round, at most max_overcommit rounds, usually one) only
 * when a message joins or leaves the list, passes an active message, or a
 * tick runs. A FIFO grant scans the list once per interval.
 */
#include "homa_grant.h"

#include <string.h>

static uint32_t remaining(const struct homa_grant_rpc *r)
{
	return r->received >= r->length ? 0 : r->length - r->received;
}

/* Scheduled bytes granted and not yet received: r's share of total_incoming. */
static uint32_t sched_incoming(const struct homa_grant_rpc *r)
{
	uint32_t floor = r->received > r->base ? r->received : r->base;

	return r->granted > floor ? r->granted - floor : 0;
}

/* 1 if a ranks before b (SRPT by bytes remaining; ties: older, then first seen). */
static int ranks_before(const struct homa_grant_rpc *a, const struct homa_grant_rpc *b)
{
	if (a->rank_remaining != b->rank_remaining)
		return a->rank_remaining < b->rank_remaining;
	if (a->birth != b->birth)
		return a->birth < b->birth;
	return a->seq < b->seq;
}

static int older(const struct homa_grant_rpc *a, const struct homa_grant_rpc *b)
{
	if (a->birth != b->birth)
		return a->birth < b->birth;
	return a->seq < b->seq;
}

static uint32_t max_active(const struct homa_grant *g)
{
	uint32_t k = g->settings->max_overcommit;

	if (k < 1)
		return 1;
	return k > HOMA_GRANT_MAX_ACTIVE ? HOMA_GRANT_MAX_ACTIVE : k;
}

static uint64_t window(const struct homa_grant *g)
{
	if (g->settings->window)
		return g->settings->window;
	return g->settings->max_incoming / (g->num_active + 1);
}

/* ------------------------------------------------------------- lists */

static void rank_unlink(struct homa_grant *g, struct homa_grant_rpc *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		g->head = r->next;
	if (r->next)
		r->next->prev = r->prev;
	else
		g->tail = r->prev;
	r->prev = r->next = NULL;
}

/* Links r right after pos (at the head if pos is NULL). */
static void rank_link_after(struct homa_grant *g, struct homa_grant_rpc *pos,
			    struct homa_grant_rpc *r)
{
	r->prev = pos;
	r->next = pos ? pos->next : g->head;
	if (r->next)
		r->next->prev = r;
	else
		g->tail = r;
	if (pos)
		pos->next = r;
	else
		g->head = r;
}

/*
 * Moves r to its place after its snapshot changed. Returns 1 if the active
 * set may have changed: r passed an active message, or moved backwards
 * (which only a decreasing r->received could cause). Passing only inactive
 * messages cannot change the set: in the (round, position) order the active
 * set is the first max_overcommit entries, and such a move leaves r on the
 * same side of every active entry while the messages it passed only get
 * worse (see docs/grants.md).
 */
static int rank_fix(struct homa_grant *g, struct homa_grant_rpc *r)
{
	struct homa_grant_rpc *pos = r->prev;
	int crossed = 0;

	while (pos && ranks_before(r, pos)) {
		crossed |= pos->active;
		pos = pos->prev;
	}
	if (pos == r->prev) {
		pos = r->next;
		if (!pos || !ranks_before(pos, r))
			return 0;
		while (pos->next && ranks_before(pos->next, r))
			pos = pos->next;
		crossed = 1;
	}
	rank_unlink(g, r);
	rank_link_after(g, pos, r);
	return crossed;
}

static void full_unlink(struct homa_grant *g, struct homa_grant_rpc *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		g->full = r->next;
	if (r->next)
		r->next->prev = r->prev;
	r->prev = r->next = NULL;
}

static void full_push(struct homa_grant *g, struct homa_grant_rpc *r)
{
	r->prev = NULL;
	r->next = g->full;
	if (g->full)
		g->full->prev = r;
	g->full = r;
}

/* ------------------------------------------------------- membership */

static void active_drop(struct homa_grant *g, struct homa_grant_rpc *r)
{
	uint32_t i = 0;

	if (!r->active)
		return;
	while (g->active[i] != r)
		i++;
	memmove(&g->active[i], &g->active[i + 1],
		(g->num_active - i - 1) * sizeof(g->active[0]));
	g->num_active--;
	r->active = 0;
	g->dirty = 1;
}

static void update_incoming(struct homa_grant *g, struct homa_grant_rpc *r)
{
	uint32_t now_incoming = sched_incoming(r);

	g->total_incoming = g->total_incoming - r->incoming + now_incoming;
	r->incoming = now_incoming;
}

static void manage(struct homa_grant *g, struct homa_grant_rpc *r)
{
	struct homa_grant_rpc *pos = g->tail;

	r->state = HOMA_GRANT_GRANTABLE;
	r->base = r->granted;
	r->seq = g->next_seq++;
	r->incoming = 0;
	r->active = 0;
	r->rank_remaining = remaining(r);
	while (pos && ranks_before(r, pos))
		pos = pos->prev;
	rank_link_after(g, pos, r);
	g->num_grantable++;
	g->dirty = 1;
}

static void unmanage(struct homa_grant *g, struct homa_grant_rpc *r)
{
	g->total_incoming -= r->incoming;
	active_drop(g, r);
	if (r->state == HOMA_GRANT_GRANTABLE) {
		rank_unlink(g, r);
		g->num_grantable--;
		g->dirty = 1;
	} else {
		full_unlink(g, r);
		g->num_full--;
	}
	homa_grant_rpc_init(r);
}

/* r got its last grant: it keeps counting as incoming but needs no slot. */
static void make_full(struct homa_grant *g, struct homa_grant_rpc *r)
{
	active_drop(g, r);
	rank_unlink(g, r);
	g->num_grantable--;
	full_push(g, r);
	g->num_full++;
	r->state = HOMA_GRANT_FULL;
	g->dirty = 1;
}

/* --------------------------------------------------- the active set */

struct peer_count {
	const void *peer;
	uint32_t count;
};

/* Index of peer in pc[0..n), or n. */
static uint32_t peer_find(const struct peer_count *pc, uint32_t n, const void *peer)
{
	uint32_t i = 0;

	while (i < n && pc[i].peer != peer)
		i++;
	return i;
}

/*
 * One fairness round: in rank order, picks the best not-yet-active message
 * of every peer that has exactly `round` active messages. Returns how many
 * it picked. Round 0 also discovers the peers.
 */
static uint32_t pick_round(struct homa_grant *g, struct peer_count *pc, uint32_t *np,
			   uint32_t round, uint32_t k)
{
	uint32_t picked = 0, want = 0, i;

	for (i = 0; i < *np; i++)
		want += pc[i].count == round;
	for (struct homa_grant_rpc *r = g->head; r && g->num_active < k; r = r->next) {
		if (r->active)
			continue;
		i = peer_find(pc, *np, r->peer);
		if (i == *np) {
			/* After round 0 every peer with messages is known. */
			if (round > 0)
				continue;
			pc[(*np)++] = (struct peer_count){r->peer, 0};
		}
		if (pc[i].count != round)
			continue;
		pc[i].count++;
		r->active = 1;
		g->active[g->num_active++] = r;
		picked++;
		if (round > 0 && --want == 0)
			break;
	}
	return picked;
}

static void active_sort(struct homa_grant *g)
{
	for (uint32_t i = 1; i < g->num_active; i++) {
		struct homa_grant_rpc *r = g->active[i];
		uint32_t j = i;

		for (; j > 0 && ranks_before(r, g->active[j - 1]); j--)
			g->active[j] = g->active[j - 1];
		g->active[j] = r;
	}
}

static void choose_active(struct homa_grant *g)
{
	struct peer_count pc[HOMA_GRANT_MAX_ACTIVE];
	uint32_t np = 0, k = max_active(g);

	for (uint32_t i = 0; i < g->num_active; i++)
		g->active[i]->active = 0;
	g->num_active = 0;
	for (uint32_t round = 0; g->num_active < k; round++)
		if (!pick_round(g, pc, &np, round, k))
			break;
	active_sort(g);
	g->dirty = 0;
}

/* ----------------------------------------------------------- granting */

/* Raises r->granted to offset and tells the sender. */
static void grant(struct homa_grant *g, struct homa_grant_rpc *r, uint32_t offset,
		  int priority, uint64_t now)
{
	r->granted = offset;
	update_incoming(g, r);
	g->grants_sent++;
	g->send(g->ctx, r, offset, priority, now);
}

/*
 * Smallest SRPT grant worth a packet (except one reaching the message's
 * end): granting on every arriving DATA packet would put nearly one GRANT on
 * the reverse path per DATA packet. At most window / 4 and max_incoming / 4,
 * so a waiting message always gets its grant once the bytes already in
 * flight arrive: no message can wait on a threshold it cannot reach, and it
 * still has three quarters of its window in flight when the grant leaves.
 * (With an eighth, a receiver of 8 active messages on a small window - the
 * 100 Mbit/s emulated cluster: max_incoming 200 KB, window 22 KB - sent a
 * GRANT every 2 packets: 0.36 GRANT per RPC in W3; 0.22 with a quarter.)
 */
static uint64_t min_grant(const struct homa_grant *g, uint64_t win)
{
	uint64_t t = HOMA_GRANT_MIN_PACKETS * (uint64_t)g->settings->max_packet_bytes;

	if (t > win / 4)
		t = win / 4;
	if (t > g->settings->max_incoming / 4)
		t = g->settings->max_incoming / 4;
	return t ? t : 1;
}

/* SRPT grants to the active messages, best first, within the headroom. */
static void grant_active(struct homa_grant *g, uint64_t now)
{
	struct homa_grant_rpc *done[HOMA_GRANT_MAX_ACTIVE];
	uint64_t win = window(g), max = g->settings->max_incoming,
		 least = min_grant(g, win);
	uint32_t n = g->num_active, num_done = 0;

	/* Those not reached below are short of headroom. */
	for (uint32_t i = 0; i < n; i++)
		g->active[i]->satisfied = 0;
	for (uint32_t i = 0; i < n && g->total_incoming < max; i++) {
		struct homa_grant_rpc *r = g->active[i];
		uint64_t target = (uint64_t)r->received + win, want, delta;

		if (target > r->length)
			target = r->length;
		r->satisfied = 1;
		if (target <= r->granted)
			continue;
		want = target - r->granted;
		if (want < least && target < r->length)
			continue; /* not worth a packet yet */
		delta = want < max - g->total_incoming ? want : max - g->total_incoming;
		if (delta < want && delta < least) {
			r->satisfied = 0;
			break; /* keep the scarce headroom for this better message */
		}
		r->satisfied = delta == want;
		g->grant_bytes += delta;
		grant(g, r, r->granted + (uint32_t)delta, homa_grant_priority(g, i, n),
		      now);
		if (r->granted >= r->length)
			done[num_done++] = r;
	}
	for (uint32_t i = 0; i < num_done; i++)
		make_full(g, done[i]);
}

static int fifo_priority(const struct homa_grant *g)
{
	uint32_t np = g->settings->num_priorities;

	if (np > HOMA_MAX_PRIORITIES)
		np = HOMA_MAX_PRIORITIES;
	return np >= 2 ? (int)np - 2 : 0;
}

/*
 * Oldest message needing grants that SRPT does not serve (inactive, or
 * active but short of headroom) and whose sender is not presumed
 * unresponsive.
 */
static struct homa_grant_rpc *fifo_pick(const struct homa_grant *g)
{
	uint64_t limit = window(g) + 2 * (uint64_t)g->settings->fifo_grant_increment;
	struct homa_grant_rpc *best = NULL;

	for (struct homa_grant_rpc *r = g->head; r; r = r->next) {
		uint32_t unreceived =
		    r->granted > r->received ? r->granted - r->received : 0;

		if (unreceived >= limit || (r->active && r->satisfied))
			continue;
		if (!best || older(r, best))
			best = r;
	}
	return best;
}

static void fifo_check(struct homa_grant *g, uint64_t now)
{
	uint64_t interval = homa_grant_fifo_interval(g->settings);
	struct homa_grant_rpc *r;
	uint32_t delta;

	if (!interval)
		return;
	if (!g->fifo_armed) {
		g->fifo_armed = 1;
		g->fifo_next = now + interval;
		return;
	}
	if (now < g->fifo_next)
		return;
	r = fifo_pick(g);
	if (!r) {
		/* Nobody is waiting: the starvation clock restarts. */
		g->fifo_next = now + interval;
		return;
	}
	delta = g->settings->fifo_grant_increment;
	if (delta > r->length - r->granted)
		delta = r->length - r->granted;
	if (g->total_incoming + delta > homa_grant_incoming_bound(g))
		return; /* still due: retried as soon as bytes arrive */
	g->fifo_grant_bytes += delta;
	grant(g, r, r->granted + delta, fifo_priority(g), now);
	g->fifo_next = now + interval;
	if (r->granted >= r->length)
		make_full(g, r);
}

/* Brings the active set up to date and sends every grant now due. */
static void schedule(struct homa_grant *g, uint64_t now)
{
	for (;;) {
		if (g->dirty)
			choose_active(g);
		grant_active(g, now);
		if (g->dirty)
			continue;
		fifo_check(g, now);
		if (!g->dirty)
			return;
	}
}

/* ------------------------------------------------------------- API */

static int max_sched_from_cutoffs(const struct homa_settings *s)
{
	uint32_t np = s->num_priorities > HOMA_MAX_PRIORITIES ? HOMA_MAX_PRIORITIES
							      : s->num_priorities;

	for (int i = (int)np - 1; i >= 1; i--)
		if (s->unsched_cutoffs[i] >= HOMA_MAX_MESSAGE_LENGTH)
			return i - 1;
	return 0;
}

void homa_grant_init(struct homa_grant *g, const struct homa_settings *settings,
		     homa_grant_send_fn send, void *ctx)
{
	memset(g, 0, sizeof(*g));
	g->settings = settings;
	g->send = send;
	g->ctx = ctx;
	g->max_sched_prio = max_sched_from_cutoffs(settings);
}

void homa_grant_destroy(struct homa_grant *g)
{
	struct homa_grant_rpc *r, *next;

	for (r = g->head; r; r = next) {
		next = r->next;
		homa_grant_rpc_init(r);
	}
	for (r = g->full; r; r = next) {
		next = r->next;
		homa_grant_rpc_init(r);
	}
	g->head = g->tail = g->full = NULL;
	g->num_grantable = g->num_full = 0;
	g->num_active = 0;
	g->total_incoming = 0;
	g->dirty = 0;
}

void homa_grant_rpc_init(struct homa_grant_rpc *r)
{
	r->prev = r->next = NULL;
	r->seq = 0;
	r->rank_remaining = 0;
	r->base = 0;
	r->incoming = 0;
	r->state = HOMA_GRANT_UNMANAGED;
	r->active = 0;
	r->satisfied = 0;
}

void homa_grant_set_max_sched_prio(struct homa_grant *g, int level)
{
	g->max_sched_prio = level < 0 ? 0 : level;
}

void homa_grant_check(struct homa_grant *g, struct homa_grant_rpc *r, uint64_t now)
{
	if (r->state == HOMA_GRANT_UNMANAGED) {
		if (r->received >= r->length || r->granted >= r->length)
			return;
		manage(g, r);
	} else {
		update_incoming(g, r);
		if (r->received >= r->length) {
			unmanage(g, r);
		} else if (r->state == HOMA_GRANT_GRANTABLE) {
			r->rank_remaining = remaining(r);
			if (rank_fix(g, r))
				g->dirty = 1;
			if (r->granted >= r->length)
				make_full(g, r);
		}
	}
	schedule(g, now);
}

void homa_grant_remove(struct homa_grant *g, struct homa_grant_rpc *r, uint64_t now)
{
	if (r->state == HOMA_GRANT_UNMANAGED)
		return;
	unmanage(g, r);
	schedule(g, now);
}

void homa_grant_tick(struct homa_grant *g, uint64_t now)
{
	/* Settings (max_overcommit, window) may have changed since the last choice. */
	g->dirty = 1;
	schedule(g, now);
}

uint64_t homa_grant_total_incoming(const struct homa_grant *g)
{
	return g->total_incoming;
}

uint64_t homa_grant_incoming_bound(const struct homa_grant *g)
{
	uint64_t bound = g->settings->max_incoming;

	if (homa_grant_fifo_interval(g->settings))
		bound += g->settings->fifo_grant_increment;
	return bound;
}

size_t homa_grant_num_active(const struct homa_grant *g)
{
	return g->num_active;
}

size_t homa_grant_num_grantable(const struct homa_grant *g)
{
	return g->num_grantable;
}

uint64_t homa_grant_fifo_interval(const struct homa_settings *s)
{
	uint64_t fraction = s->grant_fifo_fraction > 500 ? 500 : s->grant_fifo_fraction;
	uint64_t interval;

	if (!s->link_mbps || !fraction || !s->fifo_grant_increment)
		return 0;
	/* bits / (Mbit/s * permil) -> ns: increment * 8 * 1e6 / (mbps * permil). */
	interval =
	    (uint64_t)s->fifo_grant_increment * 8000000u / (s->link_mbps * fraction);
	return interval ? interval : 1;
}

int homa_grant_priority(const struct homa_grant *g, uint32_t rank, uint32_t num_active)
{
	uint32_t np = g->settings->num_priorities;
	int m = g->max_sched_prio, p;

	if (np <= 1)
		return 0;
	if (np > HOMA_MAX_PRIORITIES)
		np = HOMA_MAX_PRIORITIES;
	if (m > (int)np - 1)
		m = (int)np - 1;
	p = m - (int)rank;
	if ((int)num_active <= m + 1)
		p -= m + 1 - (int)num_active;
	return p < 0 ? 0 : p;
}
