/*
 * perf_stream.h - framed homa-perf messages over one TCP connection.
 *
 * Input is parsed as it arrives (a header may straddle reads; bodies are
 * skipped without copying). Output is a FIFO of messages written with writev
 * as the socket accepts them; bodies come from perf_zeros. Messages on one
 * connection are delivered strictly in order, which is exactly the
 * head-of-line blocking TCP imposes on multiplexed RPCs.
 */
#ifndef PERF_STREAM_H
#define PERF_STREAM_H

#include "perf_frame.h"

#include <stddef.h>
#include <stdint.h>

struct perf_out {
	uint8_t hdr[PERF_HDR_LEN];
	uint32_t len;  /* total bytes of the message */
	uint32_t done; /* bytes already written */
};

struct perf_stream {
	int fd;
	uint8_t hbuf[PERF_HDR_LEN]; /* partial header being assembled */
	uint32_t hhave;		    /* bytes in hbuf */
	uint32_t body_left;	    /* body bytes still to skip */
	struct perf_hdr cur;	    /* header of the message being read */
	struct perf_out *q;	    /* output ring */
	uint32_t head, count, cap;
};

/* Called for each complete incoming message. */
typedef void (*perf_msg_fn)(void *arg, struct perf_stream *s, const struct perf_hdr *h);

void perf_stream_init(struct perf_stream *s, int fd);
/* Frees the queue and closes fd. */
void perf_stream_destroy(struct perf_stream *s);

/* Parses n received bytes. Returns 0, or -1 on a malformed header. */
int perf_stream_feed(struct perf_stream *s, const uint8_t *buf, size_t n, perf_msg_fn fn,
		     void *arg);

/*
 * Reads what the socket has (non-blocking) into scratch and parses it.
 * Returns bytes read (0: nothing available), or -1 on EOF, error or a
 * malformed stream.
 */
long perf_stream_read(struct perf_stream *s, uint8_t *scratch, size_t len, perf_msg_fn fn,
		      void *arg);

/* Queues a message (header h, zero body). Returns 0 or -1 (no memory). */
int perf_stream_push(struct perf_stream *s, const struct perf_hdr *h);

/* Writes queued output. Returns 0 when all is out, 1 when some remains, -1 on error. */
int perf_stream_flush(struct perf_stream *s);

static inline int perf_stream_pending(const struct perf_stream *s)
{
	return s->count != 0;
}

#endif
