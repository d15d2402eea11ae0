/*
 * homa_peer.c - peers, the ack cache and tombstones.
 *
 * Peers live in a chained hash table keyed by address that grows with the
 * number of peers. A peer is referenced by every RPC and tombstone that names
 * it; one without references is idle and is reclaimed when the table reaches
 * max_peers, or when the engine has no sockets left (so an engine whose
 * sockets are all freed holds no memory).
 *
 * The ack cache (HOMA_PEER_ACKS entries) is drained oldest first, one ack
 * per DATA packet to the peer that travels at a high priority (at least the
 * level of a message sent all unscheduled: homa_ack_carrier_prio(); any
 * packet with one level); when it is full, the new ack and the five oldest go
 * out in an ACK packet; and an ack that found no carrier within
 * homa_timer_ack_hold_ticks() (half of request_ack_ticks, at least 1) goes out
 * in an ACK packet, with as many younger ones as fit. Each entry remembers the
 * tick it was pushed, so its own age decides. The reference pops the newest ack
 * onto every DATA packet, so under steady traffic the oldest entries can sit
 * in the cache until the server NEED_ACKs them: in a busy simulated cluster
 * half the server RPCs were retired by NEED_ACK, one burst per tick. Acks on
 * scheduled packets rode in the switch's low-priority queues, where they
 * waited for tens of ms or were dropped; and flushing every tick cost 0.16
 * ACK packets per RPC in a busy 100 Mbit/s emulated cluster, where a request
 * to the same peer comes along a few ms later (docs/deviations.md).
 *
 * Tombstones (fix for reference 12.4). The reference forgets a server RPC as
 * soon as it is acked, so a request packet that was delayed in the network
 * (or retransmitted) and arrives afterwards creates the RPC again and the
 * application executes it twice. We remember (client address, id) of every
 * server RPC whose request reached the application for tombstone_ns after it
 * ends, and drop DATA that would re-create it. Client ids are unique per
 * client engine, and a client gives up on an RPC long before tombstone_ns
 * (timeout_ticks of silence), so a duplicate older than the tombstone cannot
 * be waited for anyway. Memory is bounded: at most max_tombstones_per_peer
 * per peer (the oldest is dropped first), all expired by the timer.
 */
#include "homa_peer.h"

#include "homa_rpc.h"

#define PEER_MIN_BUCKETS 16
#define TOMB_MIN_BUCKETS 64

/* ------------------------------------------------------------- table */

static size_t peer_bucket(const struct homa_engine *e, const struct homa_addr *a)
{
	return homa_addr_hash(a) & (e->peer_nbuckets - 1);
}

static void peer_table_grow(struct homa_engine *e)
{
	size_t old_n = e->peer_nbuckets, n = old_n ? old_n * 2 : PEER_MIN_BUCKETS, i;
	struct homa_peer **old = e->peer_buckets;
	struct homa_peer **nb = homa_mem_zalloc(&e->mem, n * sizeof(*nb));

	if (nb == NULL)
		return;
	e->peer_buckets = nb;
	e->peer_nbuckets = n;
	for (i = 0; i < old_n; i++) {
		while (old[i] != NULL) {
			struct homa_peer *p = old[i];
			size_t b = peer_bucket(e, &p->addr);

			old[i] = p->hnext;
			p->hnext = nb[b];
			nb[b] = p;
		}
	}
	homa_mem_free(&e->mem, old, old_n * sizeof(*old));
}

struct homa_peer *homa_peer_find(const struct homa_engine *e,
				 const struct homa_addr *addr)
{
	struct homa_peer *p;

	if (e->peer_nbuckets == 0)
		return NULL;
	for (p = e->peer_buckets[peer_bucket(e, addr)]; p != NULL; p = p->hnext)
		if (homa_addr_equal(&p->addr, addr))
			return p;
	return NULL;
}

static void peer_table_free_if_empty(struct homa_engine *e)
{
	if (e->num_peers != 0 || e->peer_buckets == NULL)
		return;
	homa_mem_free(&e->mem, e->peer_buckets, e->peer_nbuckets * sizeof(void *));
	e->peer_buckets = NULL;
	e->peer_nbuckets = 0;
}

/* flush: send the cached acks first (not while the engine is being freed). */
static void peer_free(struct homa_engine *e, struct homa_peer *p, int flush)
{
	struct homa_peer **pp = &e->peer_buckets[peer_bucket(e, &p->addr)];

	while (flush && p->num_acks != 0)
		homa_outgoing_ack(e, NULL, p, p->ack_sport, 0, 0);
	while (*pp != p)
		pp = &(*pp)->hnext;
	*pp = p->hnext;
	homa_list_remove(&p->link);
	homa_list_remove(&p->ack_link);
	e->num_peers--;
	homa_mem_free(&e->mem, p, sizeof(*p));
	peer_table_free_if_empty(e);
}

/* Frees one idle peer to make room; 0 if every peer is busy. */
static int reclaim_one(struct homa_engine *e)
{
	struct homa_link *l;

	for (l = e->peers.next; l != &e->peers; l = l->next) {
		struct homa_peer *p = homa_container_of(l, struct homa_peer, link);

		if (p->refs == 0) {
			peer_free(e, p, 1);
			return 1;
		}
	}
	return 0;
}

/* Peers weighed per attempt to evict a busy one. */
#define EVICT_CANDIDATES 8

/*
 * 1 if every RPC of p is a server RPC still receiving its request: ending
 * them loses nothing that ran (at-most-once is untouched) and p holds no
 * tombstones or client RPCs.
 */
static int evictable(struct homa_engine *e, const struct homa_peer *p)
{
	struct homa_link *sl, *l;

	if (p->num_tombs != 0 || p->refs != p->num_server_rpcs)
		return 0;
	for (sl = e->socks.next; sl != &e->socks; sl = sl->next) {
		struct homa_sock *s = homa_container_of(sl, struct homa_sock, link);

		for (l = s->rpcs.next; l != &s->rpcs; l = l->next) {
			struct homa_rpc *rpc =
			    homa_container_of(l, struct homa_rpc, sock_link);

			if (rpc->peer == p &&
			    (rpc->state != HOMA_RPC_INCOMING || (rpc->flags & RPC_READY)))
				return 0;
		}
	}
	return 1;
}

static void evict(struct homa_engine *e, struct homa_peer *p)
{
	struct homa_link *sl, *l;

	for (sl = e->socks.next; sl != &e->socks; sl = sl->next) {
		struct homa_sock *s = homa_container_of(sl, struct homa_sock, link);

		for (l = s->rpcs.next; l != &s->rpcs;) {
			struct homa_rpc *rpc =
			    homa_container_of(l, struct homa_rpc, sock_link);

			l = l->next;
			if (rpc->peer == p) {
				e->stats.rpcs_reclaimed_limit++;
				homa_rpc_end(rpc, e->now);
			}
		}
	}
	peer_free(e, p, 1);
}

/*
 * The table is full of busy peers: like the RPC limits (homa_core.h), evict
 * the oldest peer whose only state is unfinished incoming requests, so hosts
 * that open requests and go silent cannot lock new peers out.
 */
static int reclaim_busy(struct homa_engine *e)
{
	struct homa_link *l;
	int tried = 0;

	for (l = e->peers.next; l != &e->peers && tried < EVICT_CANDIDATES; l = l->next) {
		struct homa_peer *p = homa_container_of(l, struct homa_peer, link);

		if (p->num_tombs != 0 || p->refs != p->num_server_rpcs)
			continue;
		tried++;
		if (evictable(e, p)) {
			evict(e, p);
			return 1;
		}
	}
	return 0;
}

static void peer_default_cutoffs(struct homa_peer *p)
{
	/* Until the receiver tells us, all unscheduled data goes at one level
	 * (num_priorities - 2): see homa_unsched_prio(). */
	memset(p->cutoffs, 0, sizeof(p->cutoffs));
	p->cutoffs[0] = 0x7fffffff;
	p->cutoff_version = 0;
}

static struct homa_peer *peer_create(struct homa_engine *e, const struct homa_addr *addr)
{
	struct homa_peer *p;
	size_t b;

	if (e->num_peers >= e->s.max_peers && !reclaim_one(e) && !reclaim_busy(e))
		return NULL;
	if (e->num_peers >= e->peer_nbuckets)
		peer_table_grow(e);
	if (e->peer_nbuckets == 0)
		return NULL;
	p = homa_mem_zalloc(&e->mem, sizeof(*p));
	if (p == NULL) {
		peer_table_free_if_empty(e);
		return NULL;
	}
	p->addr = *addr;
	peer_default_cutoffs(p);
	homa_list_init(&p->tombs);
	homa_list_init(&p->ack_link);
	homa_list_insert_before(&e->peers, &p->link);
	b = peer_bucket(e, addr);
	p->hnext = e->peer_buckets[b];
	e->peer_buckets[b] = p;
	e->num_peers++;
	return p;
}

struct homa_peer *homa_peer_get(struct homa_engine *e, const struct homa_addr *addr)
{
	struct homa_peer *p = homa_peer_find(e, addr);

	if (p == NULL)
		p = peer_create(e, addr);
	if (p != NULL)
		p->refs++;
	return p;
}

void homa_peer_put(struct homa_engine *e, struct homa_peer *peer)
{
	peer->refs--;
	if (peer->refs == 0 && e->num_socks == 0)
		peer_free(e, peer, 1);
}

void homa_peer_reclaim(struct homa_engine *e, int force)
{
	struct homa_link *l = e->peers.next;

	while (l != &e->peers) {
		struct homa_peer *p = homa_container_of(l, struct homa_peer, link);

		l = l->next;
		if (p->refs == 0 || force)
			peer_free(e, p, !force);
	}
}

void homa_peer_set_cutoffs(struct homa_peer *peer, const uint32_t *cutoffs,
			   uint16_t version)
{
	int i;

	for (i = 1; i < HOMA_MAX_PRIORITIES; i++)
		peer->cutoffs[i] = cutoffs[i];
	peer->cutoffs[0] = 0x7fffffff;
	peer->cutoff_version = version;
}

/* ---------------------------------------------------------------- acks */

void homa_peer_ack_push(struct homa_engine *e, struct homa_peer *peer,
			struct homa_sock *s, uint64_t client_id, uint16_t server_port)
{
	struct homa_ack *slot;
	uint32_t i;

	if (peer->num_acks == HOMA_PEER_ACKS) {
		e->stats.ack_overflows++;
		homa_outgoing_ack(e, s, peer, s->port, server_port, client_id);
		return;
	}
	if (peer->num_acks == 0) {
		homa_timer_wake(e, e->now);
		peer->ack_head = 0;
		homa_list_insert_before(&e->ack_peers, &peer->ack_link);
	}
	i = (peer->ack_head + peer->num_acks) % HOMA_PEER_ACKS;
	slot = &peer->acks[i];
	slot->client_id = client_id;
	slot->server_port = server_port;
	peer->ack_ticks[i] = (uint32_t)e->tick_count;
	peer->num_acks++;
	peer->ack_sport = s->port;
}

void homa_peer_ack_pop(struct homa_peer *peer, struct homa_ack *ack)
{
	if (peer->num_acks == 0) {
		ack->client_id = 0;
		ack->server_port = 0;
		return;
	}
	*ack = peer->acks[peer->ack_head];
	peer->ack_head = (peer->ack_head + 1) % HOMA_PEER_ACKS;
	peer->num_acks--;
	if (peer->num_acks == 0)
		homa_list_remove(&peer->ack_link);
}

void homa_peer_flush_acks(struct homa_engine *e, struct homa_sock *s, uint64_t min_age)
{
	struct homa_link *l = e->ack_peers.next;

	while (l != &e->ack_peers) {
		struct homa_peer *p = homa_container_of(l, struct homa_peer, ack_link);
		uint16_t sport = s != NULL ? s->port : p->ack_sport;

		l = l->next;
		/* Each ACK packet takes the oldest acks, and fills up with newer ones. */
		while (p->num_acks != 0 &&
		       (uint32_t)e->tick_count - p->ack_ticks[p->ack_head] >= min_age)
			homa_outgoing_ack(e, s != NULL ? s : homa_sock_find(e, sport), p,
					  sport, 0, 0);
	}
}

/* ---------------------------------------------------------- tombstones */

/*
 * A client numbers its RPCs in sequence, so consecutive tombstones of a peer
 * differ only in the low id bits. Those pick the bucket within a run of
 * TOMB_RUN adjacent buckets, and only the rest of the id (with the peer) is
 * hashed to place the run: a ping-pong's tombstones then go to, and leave
 * from, a few cache lines of the table that stay hot, instead of one cold
 * bucket (and its cold chain) per RPC, which cost a server half of its
 * engine time per request. The runs themselves stay hashed, so chains are
 * no longer than with a hash of the whole id, whatever ids a peer picks.
 */
#define TOMB_RUN_SHIFT 5 /* TOMB_MIN_BUCKETS is a multiple of the run */

static size_t tomb_bucket(const struct homa_engine *e, const struct homa_peer *peer,
			  uint64_t id)
{
	uint64_t seq = id >> 1, run_mask = (1u << TOMB_RUN_SHIFT) - 1;
	uint64_t run =
	    homa_hash64((seq >> TOMB_RUN_SHIFT) ^ ((uint64_t)(uintptr_t)peer << 1));

	return (size_t)(((run << TOMB_RUN_SHIFT) | (seq & run_mask)) &
			(e->tomb_nbuckets - 1));
}

static void tomb_link(struct homa_tomb **head, struct homa_tomb *t)
{
	t->hnext = *head;
	t->hpprev = head;
	if (*head != NULL)
		(*head)->hpprev = &t->hnext;
	*head = t;
}

static void tomb_table_grow(struct homa_engine *e)
{
	size_t old_n = e->tomb_nbuckets, n = old_n ? old_n * 2 : TOMB_MIN_BUCKETS, i;
	struct homa_tomb **old = e->tomb_buckets;
	struct homa_tomb **nb = homa_mem_zalloc(&e->mem, n * sizeof(*nb));

	if (nb == NULL)
		return;
	e->tomb_buckets = nb;
	e->tomb_nbuckets = n;
	for (i = 0; i < old_n; i++) {
		while (old[i] != NULL) {
			struct homa_tomb *t = old[i];
			size_t b = tomb_bucket(e, t->peer, t->id);

			old[i] = t->hnext;
			tomb_link(&nb[b], t);
		}
	}
	homa_mem_free(&e->mem, old, old_n * sizeof(*old));
}

static void tomb_table_free_if_empty(struct homa_engine *e)
{
	if (e->num_tombs != 0 || e->tomb_buckets == NULL)
		return;
	homa_mem_free(&e->mem, e->tomb_buckets, e->tomb_nbuckets * sizeof(void *));
	e->tomb_buckets = NULL;
	e->tomb_nbuckets = 0;
}

static void tomb_free(struct homa_engine *e, struct homa_tomb *t)
{
	/* Unlinked in place: no walk down a chain of cold tombstones. */
	*t->hpprev = t->hnext;
	if (t->hnext != NULL)
		t->hnext->hpprev = t->hpprev;
	homa_list_remove(&t->engine_link);
	homa_list_remove(&t->peer_link);
	t->peer->num_tombs--;
	e->num_tombs--;
	homa_peer_put(e, t->peer);
	homa_mem_free(&e->mem, t, sizeof(*t));
	tomb_table_free_if_empty(e);
}

void homa_peer_tomb_add(struct homa_engine *e, struct homa_peer *peer, uint64_t id,
			uint16_t server_port, uint64_t now)
{
	struct homa_tomb *t;
	size_t b;

	if (e->s.max_tombstones_per_peer == 0 || e->s.tombstone_ns == 0)
		return;
	if (peer->num_tombs >= e->s.max_tombstones_per_peer)
		tomb_free(
		    e, homa_container_of(peer->tombs.next, struct homa_tomb, peer_link));
	if (e->num_tombs >= e->tomb_nbuckets)
		tomb_table_grow(e);
	if (e->tomb_nbuckets == 0)
		return;
	t = homa_mem_zalloc(&e->mem, sizeof(*t));
	if (t == NULL) {
		tomb_table_free_if_empty(e);
		return;
	}
	t->peer = peer;
	t->id = id;
	t->server_port = server_port;
	t->expires = now + e->s.tombstone_ns;
	peer->refs++;
	peer->num_tombs++;
	e->num_tombs++;
	homa_list_insert_before(&e->tombs, &t->engine_link);
	homa_list_insert_before(&peer->tombs, &t->peer_link);
	if (id > peer->max_tomb_id)
		peer->max_tomb_id = id;
	b = tomb_bucket(e, peer, id);
	tomb_link(&e->tomb_buckets[b], t);
	homa_timer_wake(e, now);
}

int homa_peer_tomb_find(const struct homa_engine *e, const struct homa_peer *peer,
			uint64_t id)
{
	const struct homa_tomb *t;

	if (e->tomb_nbuckets == 0 || id > peer->max_tomb_id)
		return 0;
	for (t = e->tomb_buckets[tomb_bucket(e, peer, id)]; t != NULL; t = t->hnext)
		if (t->peer == peer && t->id == id)
			return 1;
	return 0;
}

void homa_peer_tomb_expire(struct homa_engine *e, uint64_t now)
{
	while (!homa_list_empty(&e->tombs)) {
		struct homa_tomb *t =
		    homa_container_of(e->tombs.next, struct homa_tomb, engine_link);

		/* Tombstones are appended in time order, so the head expires first. */
		if (now != UINT64_MAX && t->expires > now)
			return;
		tomb_free(e, t);
	}
}

void homa_peer_tomb_drop_port(struct homa_engine *e, uint16_t server_port)
{
	struct homa_link *l = e->tombs.next;

	while (l != &e->tombs) {
		struct homa_tomb *t = homa_container_of(l, struct homa_tomb, engine_link);

		l = l->next;
		if (t->server_port == server_port)
			tomb_free(e, t);
	}
}
