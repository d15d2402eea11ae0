/*
 * homa_pacer.h - the host-wide pacer: NIC backlog estimate and the throttled
 * list (reference sections 6.2, 6.3). See homa_pacer.c for the model.
 */
#ifndef HOMA_PACER_H
#define HOMA_PACER_H

#include "homa_internal.h"

/* Fixed per-packet bytes on the wire beyond the Homa header and payload. */
#define HOMA_PACER_PKT_OVERHEAD 70

void homa_pacer_init(struct homa_engine *e);

/* Charges a packet of hdr+payload bytes to the NIC estimate. */
void homa_pacer_charge(struct homa_engine *e, size_t bytes, uint64_t now);

/* 1 if the NIC backlog allows another packet now. */
int homa_pacer_room(const struct homa_engine *e, uint64_t now);

/* Queues rpc on the throttled list (SRPT order); no-op if already there. */
void homa_pacer_throttle(struct homa_engine *e, struct homa_rpc *rpc);
void homa_pacer_remove(struct homa_engine *e, struct homa_rpc *rpc);

/* Sends throttled packets while the backlog allows. */
void homa_pacer_pump(struct homa_engine *e, uint64_t now);

/* When the pacer can next send (UINT64_MAX when nothing is throttled). */
uint64_t homa_pacer_next(const struct homa_engine *e);

#endif
