/*
 * homa_rpc.c - RPC tables and lifecycle.
 *
 * Each socket keeps all its RPCs in one chained hash table that doubles when
 * it holds more RPCs than buckets (the reference has a fixed 1024 buckets per
 * role). Client RPCs hash by id alone: ids are unique per engine. Server RPCs
 * hash by (client address, id), as in the reference (section 2.2): acks name
 * an RPC by id and server port only, so the client's port cannot be part of
 * the key; it is checked when packets other than acks are matched.
 *
 * Ending is immediate. The engine is single-threaded, so there are no
 * concurrent holders to wait for and no reaper: an ended RPC gives back its
 * buffers, send memory and peer reference at once.
 */
#include "homa_rpc.h"

#include "homa_pacer.h"
#include "homa_peer.h"

#define RPC_MIN_BUCKETS 16

static size_t bucket_of(const struct homa_sock *s, uint64_t id,
			const struct homa_addr *addr)
{
	uint64_t h = id;

	if (id & 1)
		h ^= (uint64_t)homa_addr_hash(addr) << 32;
	return (size_t)(homa_hash64(h) & (s->nbuckets - 1));
}

static size_t rpc_bucket(const struct homa_rpc *rpc)
{
	return bucket_of(rpc->sock, rpc->id, &rpc->peer->addr);
}

/* Doubles the table; on allocation failure the old one keeps working. */
static void table_grow(struct homa_sock *s)
{
	struct homa_engine *e = s->e;
	size_t old_n = s->nbuckets, n = old_n ? old_n * 2 : RPC_MIN_BUCKETS;
	struct homa_rpc **old = s->buckets;
	struct homa_rpc **nb = homa_mem_zalloc(&e->mem, n * sizeof(*nb));
	size_t i;

	if (nb == NULL)
		return;
	s->buckets = nb;
	s->nbuckets = n;
	for (i = 0; i < old_n; i++) {
		while (old[i] != NULL) {
			struct homa_rpc *rpc = old[i];
			size_t b;

			old[i] = rpc->hnext;
			b = rpc_bucket(rpc);
			rpc->hnext = nb[b];
			nb[b] = rpc;
		}
	}
	homa_mem_free(&e->mem, old, old_n * sizeof(*old));
}

/* Makes room for one more RPC; 0 when the table cannot hold it. */
static int table_reserve(struct homa_sock *s)
{
	if (s->num_rpcs >= s->nbuckets)
		table_grow(s);
	return s->nbuckets != 0 ? 0 : -ENOMEM;
}

static void table_free_if_empty(struct homa_sock *s)
{
	if (s->num_rpcs != 0 || s->buckets == NULL)
		return;
	homa_mem_free(&s->e->mem, s->buckets, s->nbuckets * sizeof(*s->buckets));
	s->buckets = NULL;
	s->nbuckets = 0;
}

static void table_insert(struct homa_sock *s, struct homa_rpc *rpc)
{
	size_t b = rpc_bucket(rpc);

	rpc->hnext = s->buckets[b];
	s->buckets[b] = rpc;
}

static void table_remove(struct homa_sock *s, struct homa_rpc *rpc)
{
	struct homa_rpc **pp = &s->buckets[rpc_bucket(rpc)];

	while (*pp != NULL && *pp != rpc)
		pp = &(*pp)->hnext;
	if (*pp == rpc)
		*pp = rpc->hnext;
	/* A grown table goes back when it empties; the smallest one stays
	 * until the socket goes (a ping-pong would allocate it per RPC). */
	if (s->nbuckets > RPC_MIN_BUCKETS)
		table_free_if_empty(s);
}

void homa_rpc_table_free(struct homa_sock *s)
{
	table_free_if_empty(s);
}

static struct homa_rpc *rpc_alloc(struct homa_sock *s, struct homa_peer *peer,
				  uint64_t id, uint16_t dport, uint64_t now)
{
	struct homa_engine *e = s->e;
	struct homa_rpc *rpc;

	if (table_reserve(s) != 0)
		return NULL;
	rpc = homa_mem_zalloc(&e->mem, sizeof(*rpc));
	if (rpc == NULL) {
		table_free_if_empty(s);
		return NULL;
	}
	rpc->sock = s;
	rpc->peer = peer;
	rpc->id = id;
	rpc->dport = dport;
	rpc->out.length = -1;
	rpc->in.length = -1;
	homa_list_init(&rpc->ready_link);
	homa_list_init(&rpc->bufwait_link);
	homa_list_init(&rpc->throttle_link);
	homa_grant_rpc_init(&rpc->in.grant);
	homa_timer_wake(e, now);
	homa_list_insert_before(&s->rpcs, &rpc->sock_link);
	table_insert(s, rpc);
	s->num_rpcs++;
	e->num_rpcs++;
	return rpc;
}

int homa_rpc_new_client(struct homa_sock *s, const struct homa_endpoint *dst,
			uint64_t now, struct homa_rpc **out)
{
	struct homa_engine *e = s->e;
	struct homa_peer *peer;
	struct homa_rpc *rpc;

	if (s->num_rpcs >= e->s.max_rpcs_per_socket)
		return homa_sock_fail(s, -EAGAIN, "too many RPCs on this socket");
	peer = homa_peer_get(e, &dst->addr);
	if (peer == NULL)
		return homa_sock_fail(s, -ENOMEM, "no memory for the peer");
	rpc = rpc_alloc(s, peer, e->next_id, dst->port, now);
	if (rpc == NULL) {
		homa_peer_put(e, peer);
		return homa_sock_fail(s, -ENOMEM, "no memory for the RPC");
	}
	e->next_id += 2;
	rpc->state = HOMA_RPC_OUTGOING;
	*out = rpc;
	return 0;
}

/* Reclaimable now: still receiving its request, or waiting for an ack. */
static int reclaimable(const struct homa_rpc *rpc, int pass)
{
	if (homa_rpc_is_client(rpc))
		return 0;
	if (pass == 0)
		return rpc->state == HOMA_RPC_INCOMING && !(rpc->flags & RPC_READY);
	return rpc->state == HOMA_RPC_OUTGOING &&
	       rpc->out.next_xmit >= (uint32_t)rpc->out.length;
}

/*
 * Ends the oldest server RPC of peer on s that is still receiving, else the
 * oldest waiting for its ack. The socket's list is in creation order.
 * Returns 0 if every candidate is with the application (or peer is NULL).
 */
static int reclaim_oldest(struct homa_sock *s, const struct homa_peer *peer, uint64_t now)
{
	struct homa_link *l;
	int pass;

	if (peer == NULL)
		return 0;

	for (pass = 0; pass < 2; pass++) {
		for (l = s->rpcs.next; l != &s->rpcs; l = l->next) {
			struct homa_rpc *rpc =
			    homa_container_of(l, struct homa_rpc, sock_link);

			if (rpc->peer == peer && reclaimable(rpc, pass)) {
				s->e->stats.rpcs_reclaimed_limit++;
				homa_rpc_end(rpc, now);
				return 1;
			}
		}
	}
	return 0;
}

/* RPCs examined per socket-cap decision, so a flood costs bounded work. */
#define HEAVIEST_WINDOW 256

/*
 * Among the oldest `window` RPCs of s (all of them if window is 0), the peer
 * holding the most reclaimable server RPCs (ties: the one whose RPC is
 * oldest), or NULL.
 */
static struct homa_peer *heaviest_in(struct homa_sock *s, size_t window)
{
	struct homa_peer *best = NULL;
	struct homa_link *l;
	size_t n;

	for (l = s->rpcs.next, n = 0; l != &s->rpcs && (window == 0 || n < window);
	     l = l->next, n++)
		homa_container_of(l, struct homa_rpc, sock_link)->peer->scan_count = 0;
	for (l = s->rpcs.next, n = 0; l != &s->rpcs && (window == 0 || n < window);
	     l = l->next, n++) {
		struct homa_rpc *rpc = homa_container_of(l, struct homa_rpc, sock_link);

		if (!reclaimable(rpc, 0) && !reclaimable(rpc, 1))
			continue;
		rpc->peer->scan_count++;
		if (best == NULL || rpc->peer->scan_count > best->scan_count)
			best = rpc->peer;
	}
	return best;
}

/*
 * At the socket cap, the peer that holds the most reclaimable server RPCs
 * pays, so a flood from a few hosts displaces their own state and never a
 * peer's only request. Only the oldest HEAVIEST_WINDOW RPCs are weighed (a
 * flooding peer dominates them too); the whole list only if none of those
 * can go.
 */
static struct homa_peer *heaviest_peer(struct homa_sock *s)
{
	struct homa_peer *best = heaviest_in(s, HEAVIEST_WINDOW);

	return best != NULL ? best : heaviest_in(s, 0);
}

/* Makes room for one more server RPC of peer on s (policy in homa_core.h). */
static int admit(struct homa_sock *s, struct homa_peer *peer, uint64_t now)
{
	struct homa_engine *e = s->e;

	if (peer->num_server_rpcs >= e->s.max_server_rpcs_per_peer &&
	    homa_rpc_count_server_for_peer(s, peer) >= e->s.max_server_rpcs_per_peer &&
	    !reclaim_oldest(s, peer, now)) {
		e->stats.drop_peer_limit++;
		return 0;
	}
	if (s->num_rpcs >= e->s.max_rpcs_per_socket &&
	    !reclaim_oldest(s, heaviest_peer(s), now)) {
		e->stats.drop_socket_limit++;
		return 0;
	}
	return 1;
}

struct homa_rpc *homa_rpc_new_server(struct homa_sock *s, struct homa_peer *peer,
				     uint16_t sport, uint64_t id, uint64_t now)
{
	struct homa_engine *e = s->e;
	struct homa_rpc *rpc;

	/* The peer must outlive a reclaim that drops its last other RPC. */
	peer->refs++;
	if (!admit(s, peer, now)) {
		homa_peer_put(e, peer);
		return NULL;
	}
	rpc = rpc_alloc(s, peer, id, sport, now);
	if (rpc == NULL) {
		homa_peer_put(e, peer);
		e->stats.drop_no_memory++;
		return NULL;
	}
	peer->num_server_rpcs++;
	rpc->state = HOMA_RPC_INCOMING;
	return rpc;
}

/*
 * Linear in the socket's RPCs, but only reached when the peer holds
 * max_server_rpcs_per_peer server RPCs over all sockets.
 */
uint32_t homa_rpc_count_server_for_peer(const struct homa_sock *s,
					const struct homa_peer *peer)
{
	const struct homa_link *l;
	uint32_t n = 0;

	for (l = s->rpcs.next; l != &s->rpcs; l = l->next) {
		const struct homa_rpc *rpc =
		    homa_container_of(l, struct homa_rpc, sock_link);

		if (rpc->peer == peer && !homa_rpc_is_client(rpc))
			n++;
	}
	return n;
}

struct homa_rpc *homa_rpc_find_client(const struct homa_sock *s, uint64_t id)
{
	struct homa_rpc *rpc;

	if (s->nbuckets == 0 || (id & 1))
		return NULL;
	for (rpc = s->buckets[bucket_of(s, id, NULL)]; rpc != NULL; rpc = rpc->hnext)
		if (rpc->id == id)
			return rpc;
	return NULL;
}

struct homa_rpc *homa_rpc_find_server(const struct homa_sock *s,
				      const struct homa_addr *addr, uint64_t id)
{
	struct homa_rpc *rpc;

	if (s->nbuckets == 0 || !(id & 1))
		return NULL;
	for (rpc = s->buckets[bucket_of(s, id, addr)]; rpc != NULL; rpc = rpc->hnext)
		if (rpc->id == id && homa_addr_equal(&rpc->peer->addr, addr))
			return rpc;
	return NULL;
}

static void release_in_buffers(struct homa_rpc *rpc)
{
	struct homa_sock *s = rpc->sock;

	if (rpc->in.num_bpages == 0 || (rpc->flags & RPC_BUFS_OWNED_BY_APP))
		return;
	homa_pool_release(&s->pool, rpc->in.bpage_offsets, rpc->in.num_bpages);
	rpc->in.num_bpages = 0;
}

static void release_out_message(struct homa_rpc *rpc)
{
	struct homa_sock *s = rpc->sock;
	struct homa_engine *e = s->e;

	if (rpc->out.buf == NULL)
		return;
	if (!(rpc->flags & RPC_OUT_BORROWED))
		homa_mem_free(&e->mem, rpc->out.buf, (size_t)rpc->out.length);
	s->wmem -= (uint64_t)rpc->out.length;
	rpc->out.buf = NULL;
}

/* Server RPCs whose request reached the application must never run again. */
static void maybe_tombstone(struct homa_rpc *rpc, uint64_t now)
{
	if (homa_rpc_is_client(rpc) || rpc->sock->shutdown)
		return;
	if (rpc->state == HOMA_RPC_IN_SERVICE || rpc->state == HOMA_RPC_OUTGOING)
		homa_peer_tomb_add(rpc->sock->e, rpc->peer, rpc->id, rpc->sock->port,
				   now);
}

static void notify_writable(struct homa_sock *s)
{
	struct homa_engine *e = s->e;

	if (!s->want_writable || s->wmem >= e->s.wmem_max)
		return;
	s->want_writable = 0;
	if (e->cb.writable != NULL)
		e->cb.writable(e->user, s);
}

void homa_rpc_end(struct homa_rpc *rpc, uint64_t now)
{
	struct homa_sock *s = rpc->sock;
	struct homa_engine *e = s->e;
	int had_bufs = rpc->in.num_bpages != 0 && !(rpc->flags & RPC_BUFS_OWNED_BY_APP);

	maybe_tombstone(rpc, now);
	homa_incoming_ungrant(rpc, now);
	homa_pacer_remove(e, rpc);
	homa_list_remove(&rpc->ready_link);
	homa_list_remove(&rpc->bufwait_link);
	homa_list_remove(&rpc->sock_link);
	if (rpc->flags & RPC_PARKED)
		e->num_parked--;
	s->num_rpcs--;
	e->num_rpcs--;
	table_remove(s, rpc);
	release_in_buffers(rpc);
	release_out_message(rpc);
	homa_msgin_destroy(&rpc->in.gaps, &e->mem);
	if (!homa_rpc_is_client(rpc))
		rpc->peer->num_server_rpcs--;
	homa_peer_put(e, rpc->peer);
	rpc->state = HOMA_RPC_DEAD;
	homa_mem_free(&e->mem, rpc, sizeof(*rpc));
	notify_writable(s);
	if (had_bufs)
		homa_incoming_retry_stalled(s, now);
}

void homa_rpc_park(struct homa_rpc *rpc)
{
	if (rpc->flags & RPC_PARKED)
		return;
	rpc->flags |= RPC_PARKED;
	rpc->sock->e->num_parked++;
}

void homa_rpc_unpark(struct homa_rpc *rpc, uint64_t now)
{
	if (!(rpc->flags & RPC_PARKED))
		return;
	homa_timer_wake(rpc->sock->e, now);
	rpc->flags &= ~(uint32_t)RPC_PARKED;
	rpc->sock->e->num_parked--;
}

void homa_rpc_make_ready(struct homa_rpc *rpc)
{
	struct homa_sock *s = rpc->sock;
	struct homa_engine *e = s->e;

	if (rpc->flags & RPC_READY)
		return;
	rpc->flags |= RPC_READY;
	homa_rpc_park(rpc);
	if (rpc->flags & RPC_PRIVATE) {
		if (e->cb.ready != NULL)
			e->cb.ready(e->user, s, rpc->id);
		return;
	}
	homa_list_insert_before(&s->ready, &rpc->ready_link);
	if (e->cb.ready != NULL)
		e->cb.ready(e->user, s, 0);
}

void homa_rpc_fail(struct homa_rpc *rpc, int error, uint64_t now)
{
	struct homa_engine *e = rpc->sock->e;

	if (!homa_rpc_is_client(rpc)) {
		homa_rpc_end(rpc, now);
		return;
	}
	if (rpc->error != 0)
		return;
	if (rpc->flags & RPC_READY) {
		/* Completed but not read: the reader gets the error instead. */
		rpc->error = error;
		release_in_buffers(rpc);
		return;
	}
	rpc->error = error;
	homa_incoming_ungrant(rpc, now);
	homa_pacer_remove(e, rpc);
	homa_list_remove(&rpc->bufwait_link);
	rpc->flags &= ~(uint32_t)RPC_BUF_STALL;
	homa_rpc_make_ready(rpc);
}
