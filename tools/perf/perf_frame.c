/* perf_frame.c - encoding of the homa-perf message header. */
#define _GNU_SOURCE
#include "perf_frame.h"

uint8_t perf_zeros[PERF_MAX_MSG];

static void put_u32le(uint8_t *b, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_u32le(const uint8_t *b)
{
	uint32_t v = 0;

	for (int i = 3; i >= 0; i--)
		v = (v << 8) | b[i];
	return v;
}

void perf_hdr_put(uint8_t *b, const struct perf_hdr *h)
{
	put_u32le(b, h->len);
	put_u32le(b + 4, h->resp_len);
	put_u32le(b + 8, (uint32_t)h->id);
	put_u32le(b + 12, (uint32_t)(h->id >> 32));
}

static int len_ok(uint32_t len)
{
	return len >= PERF_HDR_LEN && len <= PERF_MAX_MSG;
}

int perf_hdr_get(const uint8_t *b, size_t n, struct perf_hdr *h)
{
	if (n < PERF_HDR_LEN)
		return -1;
	h->len = get_u32le(b);
	h->resp_len = get_u32le(b + 4);
	h->id = (uint64_t)get_u32le(b + 8) | ((uint64_t)get_u32le(b + 12) << 32);
	if (!len_ok(h->len))
		return -1;
	if (h->resp_len != PERF_RESP_ECHO && h->resp_len > PERF_MAX_MSG)
		return -1;
	return 0;
}

uint32_t perf_wire_len(uint32_t drawn)
{
	return drawn < PERF_HDR_LEN ? PERF_HDR_LEN : drawn;
}

uint32_t perf_resp_len(const struct perf_hdr *req)
{
	if (req->resp_len == PERF_RESP_ECHO)
		return req->len;
	return perf_wire_len(req->resp_len);
}
