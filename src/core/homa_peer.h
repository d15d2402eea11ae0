/*
 * homa_peer.h - the engine's peer table: received cutoffs, the ack cache
 * (reference 4.5) and the tombstones that make at-most-once hold (fix 12.4).
 */
#ifndef HOMA_PEER_H
#define HOMA_PEER_H

#include "homa_internal.h"

/*
 * Finds or creates the peer for addr and takes a reference. NULL when memory
 * fails or max_peers are all busy (idle peers are reclaimed first).
 */
struct homa_peer *homa_peer_get(struct homa_engine *e, const struct homa_addr *addr);
/* Finds a peer without creating it or taking a reference. */
struct homa_peer *homa_peer_find(const struct homa_engine *e,
				 const struct homa_addr *addr);
void homa_peer_put(struct homa_engine *e, struct homa_peer *peer);

/* Stores a CUTOFFS table received from peer (entry 0 := INT_MAX). */
void homa_peer_set_cutoffs(struct homa_peer *peer, const uint32_t *cutoffs,
			   uint16_t version);

/*
 * Caches an ack for the server RPC client_id on server_port, sending an ACK
 * packet for it and the 5 cached acks when the cache is full.
 */
void homa_peer_ack_push(struct homa_engine *e, struct homa_peer *peer,
			struct homa_sock *s, uint64_t client_id, uint16_t server_port);
/* Pops the oldest cached ack into *ack (client_id 0 if none). */
void homa_peer_ack_pop(struct homa_peer *peer, struct homa_ack *ack);
/*
 * Sends cached acks as ACK packets: all of them (min_age 0), or, per peer,
 * while its oldest cached ack was pushed at least min_age ticks ago (each
 * packet also takes younger acks, up to 6).
 */
void homa_peer_flush_acks(struct homa_engine *e, struct homa_sock *s, uint64_t min_age);

/* Remembers server RPC id of peer (server_port) until now + tombstone_ns. */
void homa_peer_tomb_add(struct homa_engine *e, struct homa_peer *peer, uint64_t id,
			uint16_t server_port, uint64_t now);
int homa_peer_tomb_find(const struct homa_engine *e, const struct homa_peer *peer,
			uint64_t id);
/* Drops expired tombstones (all of them when now is UINT64_MAX). */
void homa_peer_tomb_expire(struct homa_engine *e, uint64_t now);
/* Drops tombstones of server_port (the socket is gone). */
void homa_peer_tomb_drop_port(struct homa_engine *e, uint16_t server_port);

/* Frees every peer without references (all of them when force). */
void homa_peer_reclaim(struct homa_engine *e, int force);

#endif
