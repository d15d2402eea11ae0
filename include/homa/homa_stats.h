/*
 * homa_stats.h - every counter the core keeps, defined once.
 *
 * HOMA_STATS_LIST is the single table of counters: it generates struct
 * homa_stats, the name/description arrays used by printers, and the test that
 * checks every field is printed. To add a counter, add one line here.
 *
 * Counters are per engine (per host), monotonically increasing, never reset.
 */
#ifndef HOMA_STATS_H
#define HOMA_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "homa_wire.h"

#ifdef __cplusplus
extern "C" {
#endif

/* X(name, description) */
#define HOMA_STATS_LIST(X)                                                               \
	/* Packets by type, sent and received (received = passed decoding). */           \
	X(tx_data, "DATA packets sent")                                                  \
	X(tx_grant, "GRANT packets sent")                                                \
	X(tx_resend, "RESEND packets sent")                                              \
	X(tx_rpc_unknown, "RPC_UNKNOWN packets sent")                                    \
	X(tx_busy, "BUSY packets sent")                                                  \
	X(tx_cutoffs, "CUTOFFS packets sent")                                            \
	X(tx_freeze, "FREEZE packets sent")                                              \
	X(tx_need_ack, "NEED_ACK packets sent")                                          \
	X(tx_ack, "ACK packets sent")                                                    \
	X(rx_data, "DATA packets received")                                              \
	X(rx_grant, "GRANT packets received")                                            \
	X(rx_resend, "RESEND packets received")                                          \
	X(rx_rpc_unknown, "RPC_UNKNOWN packets received")                                \
	X(rx_busy, "BUSY packets received")                                              \
	X(rx_cutoffs, "CUTOFFS packets received")                                        \
	X(rx_freeze, "FREEZE packets received")                                          \
	X(rx_need_ack, "NEED_ACK packets received")                                      \
	X(rx_ack, "ACK packets received")                                                \
	X(tx_data_bytes, "payload bytes sent in DATA packets")                           \
	X(rx_data_bytes, "payload bytes received in DATA packets")                       \
	X(tx_wire_bytes, "bytes handed to the embedder, headers included")               \
	X(tx_resent_packets, "DATA packets retransmitted")                               \
	/* Decoder refusals, one per homa_wire_error. */                                 \
	X(drop_too_short, "dropped: shorter than the common header")                     \
	X(drop_bad_type, "dropped: unknown packet type")                                 \
	X(drop_short_header, "dropped: shorter than its type's header")                  \
	X(drop_bad_length, "dropped: DATA message_length 0 or too large")                \
	X(drop_bad_offset, "dropped: DATA segment outside the message")                  \
	X(drop_empty_data, "dropped: DATA without payload")                              \
	X(drop_bad_retransmit, "dropped: DATA retransmit flag invalid")                  \
	X(drop_bad_priority, "dropped: priority out of range")                           \
	X(drop_bad_num_acks, "dropped: ACK num_acks above 5")                            \
	X(drop_bad_cutoffs, "dropped: CUTOFFS table invalid")                            \
	X(drop_bad_port, "dropped: destination port 0")                                  \
	/* Drops that need protocol state. */                                            \
	X(drop_no_socket, "dropped: no socket on the destination port")                  \
	X(drop_not_server, "dropped: request to a socket that is not a server")          \
	X(drop_bad_id_parity, "dropped: id parity wrong for the packet type")            \
	X(drop_unknown_rpc, "dropped: packet for an RPC that does not exist")            \
	X(drop_wrong_peer,                                                               \
	  "dropped: packet from an address or port other than the RPC's")                \
	X(drop_length_changed, "dropped: DATA message_length differs from the first")    \
	X(drop_duplicate_data, "dropped: DATA already received")                         \
	X(drop_data_wrong_state, "dropped: DATA for an RPC not receiving")               \
	X(drop_no_buffers, "dropped: DATA while waiting for receive buffers")            \
	X(drop_peer_limit, "dropped: per-peer RPC or memory cap reached")                \
	X(drop_socket_limit, "dropped: per-socket RPC or memory cap reached")            \
	X(drop_no_memory, "dropped: allocation failed")                                  \
	X(drop_tombstone, "dropped: DATA for a server RPC already completed")            \
	/* RPC lifecycle. */                                                             \
	X(client_requests_started, "client requests sent")                               \
	X(client_responses_done, "client responses received")                            \
	X(server_requests_done, "server requests received")                              \
	X(server_responses_started, "server responses sent")                             \
	X(rpc_timeouts, "RPCs ended by timeout")                                         \
	X(client_rpc_timeouts, "client RPCs failed with ETIMEDOUT")                      \
	X(server_rpc_timeouts, "server RPCs reclaimed after silence")                    \
	X(need_ack_giveups, "server RPCs reclaimed after NEED_ACK went unanswered")      \
	X(rpc_aborts, "client RPCs aborted by the application")                          \
	X(rpc_unreachable, "RPCs ended by an unreachable notification")                  \
	X(rpc_restarts, "client requests restarted after RPC_UNKNOWN")                   \
	X(rpcs_reclaimed_limit, "server RPCs reclaimed to admit a request past a limit") \
	X(acks_received, "acks processed (piggybacked or in ACK packets)")               \
	X(acks_unknown, "acks naming no live server RPC")                                \
	X(ack_overflows, "ACK packets sent because the ack cache was full")              \
	X(acks_piggybacked, "cached acks sent on DATA packets")                          \
	/* Grants and pacing. */                                                         \
	X(grant_bytes, "bytes granted by SRPT grants")                                   \
	X(fifo_grant_bytes, "bytes granted by FIFO grants")                              \
	X(pacer_deferred, "DATA packets deferred by the pacer")                          \
	X(pacer_bypass, "DATA packets of short messages sent without pacing")            \
	/* Buffers and memory. */                                                        \
	X(buffer_alloc_failures, "messages that found the receive pool full")            \
	X(buffer_stall_restarts, "stalled messages restarted when bpages freed")         \
	X(send_memory_full, "sends refused because send memory was full")                \
	X(alloc_failures, "allocator returned NULL")                                     \
	X(gaps_created, "gaps created in incoming messages")                             \
	X(cutoffs_recomputed, "unscheduled cutoffs recomputed from the size mix")

struct homa_stats {
#define HOMA_STATS_FIELD(name, desc) uint64_t name;
	HOMA_STATS_LIST(HOMA_STATS_FIELD)
#undef HOMA_STATS_FIELD
};

#define HOMA_STATS_COUNT (sizeof(struct homa_stats) / sizeof(uint64_t))

/* Names and descriptions of the counters, in struct order. */
extern const char *const homa_stats_names[];
extern const char *const homa_stats_descs[];

/* Value of counter i (0 <= i < HOMA_STATS_COUNT). */
static inline uint64_t homa_stats_get(const struct homa_stats *s, size_t i)
{
	return ((const uint64_t *)s)[i];
}

/*
 * Writes "name value description\n" for every counter (all of them if
 * nonzero_only is 0) into buf, NUL-terminated, truncating at cap. Returns the
 * length the full text needs, like snprintf.
 */
size_t homa_stats_format(const struct homa_stats *s, int nonzero_only, char *buf,
			 size_t cap);

#ifdef __cplusplus
}
#endif
#endif /* HOMA_STATS_H */
