/*
 * homa_stats.c - names, descriptions and the printer of the counters, all
 * generated from HOMA_STATS_LIST so a new counter cannot be forgotten here.
 */
#include "homa/homa_stats.h"

#include <inttypes.h>
#include <stdio.h>

const char *const homa_stats_names[] = {
#define X(name, desc) #name,
    HOMA_STATS_LIST(X)
#undef X
};

const char *const homa_stats_descs[] = {
#define X(name, desc) desc,
    HOMA_STATS_LIST(X)
#undef X
};

_Static_assert(sizeof(homa_stats_names) / sizeof(homa_stats_names[0]) == HOMA_STATS_COUNT,
	       "one name per counter");

/*
 * Appends one line at buf[used..cap) or, once the buffer is full, only
 * measures it, so the return value always reports the full length.
 */
static size_t format_line(char *buf, size_t cap, size_t used, size_t i, uint64_t v)
{
	char *dst = used < cap ? buf + used : NULL;
	size_t room = used < cap ? cap - used : 0;
	int n = snprintf(dst, room, "%s %" PRIu64 " %s\n", homa_stats_names[i], v,
			 homa_stats_descs[i]);

	return n > 0 ? (size_t)n : 0;
}

size_t homa_stats_format(const struct homa_stats *s, int nonzero_only, char *buf,
			 size_t cap)
{
	size_t used = 0;

	if (buf != NULL && cap > 0)
		buf[0] = '\0';
	else
		cap = 0;
	for (size_t i = 0; i < HOMA_STATS_COUNT; i++) {
		uint64_t v = homa_stats_get(s, i);

		if (nonzero_only && v == 0)
			continue;
		used += format_line(buf, cap, used, i, v);
	}
	return used;
}
