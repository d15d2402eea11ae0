/*
 * homa_sim_queue.c - the simulator's event queue.
 *
 * A binary min-heap of events keyed by (time, seq). seq is a counter stamped
 * at insertion, so two events due at the same nanosecond always run in the
 * order they were scheduled. That tie break is what makes a run a pure
 * function of its configuration and seed: a heap alone is not stable, and
 * without seq the order of simultaneous events (two packets reaching the
 * switch in the same nanosecond, a timer and a packet) would depend on the
 * heap's internal layout, which changes with every unrelated event.
 *
 * Events are stored by value (a few words each) so the queue allocates only
 * when it grows; stale events (a timer rescheduled, a packet to a crashed
 * host) are not removed but recognised and skipped when they come due, which
 * is cheaper than a decrease-key structure and just as deterministic.
 */
#include <errno.h>
#include <stdlib.h>

#include "homa_sim_internal.h"

static int before(const struct sim_event *a, const struct sim_event *b)
{
	if (a->time != b->time)
		return a->time < b->time;
	return a->seq < b->seq;
}

static void swap(struct sim_event *a, struct sim_event *b)
{
	struct sim_event t = *a;

	*a = *b;
	*b = t;
}

static int grow(struct sim_queue *q)
{
	size_t cap = q->cap ? q->cap * 2 : 1024;
	struct sim_event *h = realloc(q->heap, cap * sizeof(*h));

	if (!h)
		return -ENOMEM;
	q->heap = h;
	q->cap = cap;
	return 0;
}

int homa_sim_queue_push(struct sim_queue *q, const struct sim_event *ev)
{
	size_t i;

	if (q->n == q->cap && grow(q))
		return -ENOMEM;
	i = q->n++;
	q->heap[i] = *ev;
	q->heap[i].seq = q->next_seq++;
	while (i > 0 && before(&q->heap[i], &q->heap[(i - 1) / 2])) {
		swap(&q->heap[i], &q->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	return 0;
}

static void sift_down(struct sim_queue *q, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < q->n && before(&q->heap[l], &q->heap[m]))
			m = l;
		if (r < q->n && before(&q->heap[r], &q->heap[m]))
			m = r;
		if (m == i)
			return;
		swap(&q->heap[i], &q->heap[m]);
		i = m;
	}
}

int homa_sim_queue_pop(struct sim_queue *q, struct sim_event *ev)
{
	if (q->n == 0)
		return 0;
	*ev = q->heap[0];
	q->heap[0] = q->heap[--q->n];
	sift_down(q, 0);
	return 1;
}

const struct sim_event *homa_sim_queue_peek(const struct sim_queue *q)
{
	return q->n ? &q->heap[0] : NULL;
}

void homa_sim_queue_destroy(struct sim_queue *q)
{
	free(q->heap);
	q->heap = NULL;
	q->n = q->cap = 0;
}
