/* perf_stream.c - message framing on a TCP byte stream. */
#define _GNU_SOURCE
#include "perf_stream.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_IOV	  64
#define MAX_READS 4 /* per call, so one busy connection cannot starve others */

void perf_stream_init(struct perf_stream *s, int fd)
{
	memset(s, 0, sizeof(*s));
	s->fd = fd;
}

void perf_stream_destroy(struct perf_stream *s)
{
	free(s->q);
	if (s->fd >= 0)
		close(s->fd);
	perf_stream_init(s, -1);
}

/* Consumes header bytes; returns bytes used, or -1 on a malformed header. */
static long feed_header(struct perf_stream *s, const uint8_t *buf, size_t n,
			perf_msg_fn fn, void *arg)
{
	size_t take = PERF_HDR_LEN - s->hhave;

	if (take > n)
		take = n;
	memcpy(s->hbuf + s->hhave, buf, take);
	s->hhave += (uint32_t)take;
	if (s->hhave < PERF_HDR_LEN)
		return (long)take;
	if (perf_hdr_get(s->hbuf, PERF_HDR_LEN, &s->cur) != 0)
		return -1;
	s->hhave = 0;
	s->body_left = s->cur.len - PERF_HDR_LEN;
	if (s->body_left == 0)
		fn(arg, s, &s->cur);
	return (long)take;
}

int perf_stream_feed(struct perf_stream *s, const uint8_t *buf, size_t n, perf_msg_fn fn,
		     void *arg)
{
	while (n > 0) {
		if (s->body_left == 0) {
			long used = feed_header(s, buf, n, fn, arg);

			if (used < 0)
				return -1;
			buf += used;
			n -= (size_t)used;
			continue;
		}
		size_t skip = n < s->body_left ? n : s->body_left;

		s->body_left -= (uint32_t)skip;
		buf += skip;
		n -= skip;
		if (s->body_left == 0)
			fn(arg, s, &s->cur);
	}
	return 0;
}

long perf_stream_read(struct perf_stream *s, uint8_t *scratch, size_t len, perf_msg_fn fn,
		      void *arg)
{
	long total = 0;

	for (int i = 0; i < MAX_READS; i++) {
		ssize_t n = recv(s->fd, scratch, len, MSG_DONTWAIT);

		if (n == 0)
			return -1;
		if (n < 0)
			return (errno == EAGAIN || errno == EINTR) ? total : -1;
		if (perf_stream_feed(s, scratch, (size_t)n, fn, arg) != 0)
			return -1;
		total += n;
		if ((size_t)n < len)
			break;
	}
	return total;
}

static int grow(struct perf_stream *s)
{
	uint32_t ncap = s->cap ? s->cap * 2 : 64;
	struct perf_out *q = malloc(ncap * sizeof(*q));

	if (!q)
		return -1;
	for (uint32_t i = 0; i < s->count; i++)
		q[i] = s->q[(s->head + i) % s->cap];
	free(s->q);
	s->q = q;
	s->head = 0;
	s->cap = ncap;
	return 0;
}

int perf_stream_push(struct perf_stream *s, const struct perf_hdr *h)
{
	struct perf_out *o;

	if (s->count == s->cap && grow(s) != 0)
		return -1;
	o = &s->q[(s->head + s->count) % s->cap];
	perf_hdr_put(o->hdr, h);
	o->len = h->len;
	o->done = 0;
	s->count++;
	return 0;
}

/* Adds the unwritten part of o to iov; returns entries added. */
static int out_iov(struct perf_out *o, struct iovec *iov)
{
	int n = 0;

	if (o->done < PERF_HDR_LEN) {
		iov[n].iov_base = o->hdr + o->done;
		iov[n++].iov_len = PERF_HDR_LEN - o->done;
	}
	uint32_t body_done = o->done > PERF_HDR_LEN ? o->done - PERF_HDR_LEN : 0;
	uint32_t body_len = o->len - PERF_HDR_LEN;

	if (body_done < body_len) {
		iov[n].iov_base = perf_zeros;
		iov[n++].iov_len = body_len - body_done;
	}
	return n;
}

/* Retires n written bytes from the head of the queue. */
static void consume(struct perf_stream *s, size_t n)
{
	while (n > 0 && s->count > 0) {
		struct perf_out *o = &s->q[s->head];
		size_t left = o->len - o->done;

		if (n < left) {
			o->done += (uint32_t)n;
			return;
		}
		n -= left;
		s->head = (s->head + 1) % s->cap;
		s->count--;
	}
}

int perf_stream_flush(struct perf_stream *s)
{
	while (s->count > 0) {
		struct iovec iov[MAX_IOV];
		struct msghdr mh = {.msg_iov = iov};
		int n = 0;

		for (uint32_t i = 0; i < s->count && n <= MAX_IOV - 2; i++)
			n += out_iov(&s->q[(s->head + i) % s->cap], iov + n);
		mh.msg_iovlen = (size_t)n;
		ssize_t w = sendmsg(s->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (w < 0)
			return (errno == EAGAIN || errno == EINTR) ? 1 : -1;
		consume(s, (size_t)w);
	}
	return 0;
}
