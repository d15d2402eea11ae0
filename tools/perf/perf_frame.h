/*
 * perf_frame.h - the application header every homa-perf message starts with.
 *
 * The same 16 bytes open a message on every protocol (Homa, TCP, UDP), so the
 * protocols carry identical bytes. On TCP they also delimit messages in the
 * byte stream. The header counts as part of the message: a drawn length
 * shorter than the header is sent as a header-only message (as the reference
 * benchmark does), and the drawn length is what the statistics record.
 *
 *   bytes 0..3   total message length, header included (little endian)
 *   bytes 4..7   response length the server must send, or PERF_RESP_ECHO
 *   bytes 8..15  the client's request id, echoed in the response
 */
#ifndef PERF_FRAME_H
#define PERF_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define PERF_HDR_LEN   16u
#define PERF_MAX_MSG   1000000u /* Homa's maximum message; same cap for all */
#define PERF_MAX_UDP   65507u	/* largest UDP payload over IPv4 */
#define PERF_RESP_ECHO 0xffffffffu

struct perf_hdr {
	uint32_t len;	   /* total message bytes, header included */
	uint32_t resp_len; /* requested response length or PERF_RESP_ECHO */
	uint64_t id;	   /* client's request id */
};

/* Writes h into b[0..PERF_HDR_LEN). */
void perf_hdr_put(uint8_t *b, const struct perf_hdr *h);

/*
 * Reads a header from b[0..n). Returns 0, or -1 when n is short, the length is
 * outside [PERF_HDR_LEN, PERF_MAX_MSG] or the response length is neither echo
 * nor within that range.
 */
int perf_hdr_get(const uint8_t *b, size_t n, struct perf_hdr *h);

/* Length on the wire for a drawn length: never below the header. */
uint32_t perf_wire_len(uint32_t drawn);

/* The length a server answers a request with (echo resolved, floor applied). */
uint32_t perf_resp_len(const struct perf_hdr *req);

/*
 * 1 MB of zero bytes used as the body of every message: senders point their
 * iovecs at it, receivers never look at bodies.
 */
extern uint8_t perf_zeros[PERF_MAX_MSG];

#endif
