/*
 * homa_rpc.h - RPC tables and lifecycle (reference sections 2.2, 4.1-4.3, 4.8).
 */
#ifndef HOMA_RPC_H
#define HOMA_RPC_H

#include "homa_internal.h"

/*
 * Creates a client RPC on s toward dst with a fresh even id. Returns 0,
 * -ENOMEM, or -EAGAIN when s already holds max_rpcs_per_socket RPCs.
 */
int homa_rpc_new_client(struct homa_sock *s, const struct homa_endpoint *dst,
			uint64_t now, struct homa_rpc **out);

/*
 * Creates the server RPC for a request from (src, sport) whose client id is
 * id ^ 1. Returns NULL (and counts the drop) when a limit or memory says no.
 */
struct homa_rpc *homa_rpc_new_server(struct homa_sock *s, struct homa_peer *peer,
				     uint16_t sport, uint64_t id, uint64_t now);

struct homa_rpc *homa_rpc_find_client(const struct homa_sock *s, uint64_t id);
/* Server RPC id from addr (the client's port is checked by the caller). */
struct homa_rpc *homa_rpc_find_server(const struct homa_sock *s,
				      const struct homa_addr *addr, uint64_t id);

/*
 * Ends rpc: unlinks it from every list and table, releases its buffers (those
 * the application does not own), its send memory and peer reference, records a
 * tombstone if it was a server RPC whose request ran, and frees it.
 */
void homa_rpc_end(struct homa_rpc *rpc, uint64_t now);

/* Frees the socket's RPC table once it holds no RPC (the socket is going). */
void homa_rpc_table_free(struct homa_sock *s);

/* Hands rpc to the application: ready list or private waiter, plus callback. */
void homa_rpc_make_ready(struct homa_rpc *rpc);

/*
 * An RPC that waits only for the application (ready to be read, or a request
 * in service) is parked: the timer has nothing to do for it, so an engine
 * whose RPCs are all parked stops ticking. Unparking restarts the tick.
 */
void homa_rpc_park(struct homa_rpc *rpc);
void homa_rpc_unpark(struct homa_rpc *rpc, uint64_t now);

/* A client RPC fails with error (positive errno) and becomes ready. */
void homa_rpc_fail(struct homa_rpc *rpc, int error, uint64_t now);

/* Number of RPCs of peer on s that are server RPCs. */
uint32_t homa_rpc_count_server_for_peer(const struct homa_sock *s,
					const struct homa_peer *peer);

#endif
