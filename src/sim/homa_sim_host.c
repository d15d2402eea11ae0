/*
 * homa_sim_host.c - one simulated host: its engine, its memory and its
 * timer.
 *
 * Each host's engine allocates through a counting allocator owned by the
 * host, so the simulator knows, without trusting the engine, how many bytes
 * the engine holds; after homa_engine_free() the count must be 0 and anything
 * left is reported as bytes_leaked. The allocator can also be told to fail
 * every n-th allocation, to exercise the engine's ENOMEM paths under traffic.
 *
 * The engine's clock is driven from outside: after every call into an engine
 * the simulator re-reads homa_engine_next_timeout() and, if it moved,
 * schedules a timer event stamped with a new generation number; a timer event
 * whose generation is stale is skipped. A crash frees the engine (its memory
 * goes with it, as it would on a real host) and bumps the host's epoch so
 * packets it had already handed to its NIC are dropped; a restart builds a
 * new engine with a new seed, hence new client ports and RPC ids.
 *
 * Receive regions are anonymous mappings reserved with MAP_NORESERVE rather
 * than malloc'd: pages are only touched where the engine writes messages, so
 * dozens of 64 MiB regions cost what the traffic uses, and a sanitizer build
 * does not poison the shadow of gigabytes it never reads.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "homa_sim_internal.h"

static void *sim_alloc(void *ctx, size_t size)
{
	struct sim_alloc *a = ctx;
	void *p;

	a->count++;
	if (a->fail_every && a->count % a->fail_every == 0) {
		a->injected++;
		return NULL;
	}
	p = malloc(size);
	if (!p)
		return NULL;
	a->in_use += size;
	if (a->in_use > a->peak)
		a->peak = a->in_use;
	return p;
}

static void sim_free(void *ctx, void *ptr, size_t size)
{
	struct sim_alloc *a = ctx;

	if (!ptr)
		return;
	a->in_use -= size;
	free(ptr);
}

void homa_sim_host_addr(uint32_t index, struct homa_addr *a)
{
	/* 10.0.0.1 + index, v4-mapped (::ffff:a.b.c.d). */
	uint32_t v4 = 0x0a000001u + index;

	memset(a, 0, sizeof(*a));
	a->bytes[10] = 0xff;
	a->bytes[11] = 0xff;
	a->bytes[12] = (uint8_t)(v4 >> 24);
	a->bytes[13] = (uint8_t)(v4 >> 16);
	a->bytes[14] = (uint8_t)(v4 >> 8);
	a->bytes[15] = (uint8_t)v4;
}

uint32_t homa_sim_host_of(const struct homa_sim *sim, const struct homa_addr *a)
{
	static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	uint32_t v4;

	if (memcmp(a->bytes, prefix, sizeof(prefix)) != 0)
		return UINT32_MAX;
	v4 = (uint32_t)a->bytes[12] << 24 | (uint32_t)a->bytes[13] << 16 |
	     (uint32_t)a->bytes[14] << 8 | a->bytes[15];
	v4 -= 0x0a000001u;
	return v4 < sim->cfg.hosts ? v4 : UINT32_MAX;
}

static void cb_send(void *user, struct homa_sock *sock, const struct homa_endpoint *dst,
		    int priority, const uint8_t *hdr, size_t hdr_len,
		    const uint8_t *payload, size_t payload_len)
{
	struct sim_host *h = user;
	uint32_t to = homa_sim_host_of(h->sim, &dst->addr);

	(void)sock;
	if (to == UINT32_MAX) {
		h->sim->res.drops_down++;
		return;
	}
	homa_sim_net_send(h, to, priority, hdr, hdr_len, payload, payload_len);
}

static void cb_ready(void *user, struct homa_sock *sock, uint64_t id)
{
	struct sim_host *h = user;

	(void)id;
	h->ready |= sock == h->server ? 1u : 2u;
}

static void *region_new(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void region_free(void **p, size_t len)
{
	if (*p)
		munmap(*p, len);
	*p = NULL;
}

static int open_socket(struct sim_host *h, uint16_t port, struct homa_sock **s,
		       void **region)
{
	size_t len = h->sim->cfg.rcvbuf_bytes;
	int err = homa_sock_new(h->engine, s);

	if (err)
		return err;
	homa_sock_set_user(*s, h);
	if (port && (err = homa_sock_bind(*s, port)) != 0)
		return err;
	*region = region_new(len);
	if (!*region)
		return -ENOMEM;
	return homa_sock_set_rcvbuf(*s, *region, len);
}

/*
 * Creates the host's engine and sockets. Returns 0 or -errno. Injected
 * allocation failures start once the host is up: they are meant to hit
 * traffic, and a host that cannot boot tests nothing.
 */
int homa_sim_host_boot(struct sim_host *h, uint64_t seed)
{
	struct homa_sim *sim = h->sim;
	struct homa_callbacks cb = {.send = cb_send, .ready = cb_ready};
	struct homa_allocator al = {sim_alloc, sim_free, &h->alloc};
	uint64_t fail_every = h->alloc.fail_every;
	int err;

	memset(&h->alloc, 0, sizeof(h->alloc));
	err =
	    homa_engine_new(&sim->cfg.settings, &cb, h, &al, seed, sim->now, &h->engine);
	if (err)
		return err;
	h->up = 1;
	h->ready = 0;
	h->timer_at = UINT64_MAX;
	err = open_socket(h, sim->cfg.server_port, &h->server, &h->server_region);
	if (!err)
		err = open_socket(h, 0, &h->client, &h->client_region);
	if (err)
		return err;
	h->alloc.fail_every = fail_every;
	h->alloc.count = 0;
	homa_sim_host_after_call(h, 0);
	return 0;
}

static void add_stats(struct homa_stats *sum, const struct homa_stats *s)
{
	uint64_t *d = (uint64_t *)sum;

	for (size_t i = 0; i < HOMA_STATS_COUNT; i++)
		d[i] += homa_stats_get(s, i);
}

/* Frees the engine and the regions; counts what the allocator still holds. */
void homa_sim_host_halt(struct sim_host *h)
{
	struct homa_sim *sim = h->sim;
	size_t len = sim->cfg.rcvbuf_bytes;

	if (h->engine) {
		add_stats(&sim->dead_stats, homa_engine_stats(h->engine));
		homa_engine_free(h->engine);
		h->engine = NULL;
	}
	h->server = h->client = NULL;
	region_free(&h->server_region, len);
	region_free(&h->client_region, len);
	sim->res.bytes_leaked += h->alloc.in_use;
	sim->res.alloc_failures_injected += h->alloc.injected;
	if (h->alloc.peak > sim->res.peak_engine_bytes)
		sim->res.peak_engine_bytes = h->alloc.peak;
	h->alloc.injected = 0;
	h->up = 0;
	h->epoch++;
	/* What the NIC still held is gone with the host. */
	h->nic_free_ns = sim->now;
	h->timer_gen++;
	h->timer_at = UINT64_MAX;
	h->ready = 0;
	h->nretry = 0; /* the server application died too */
	h->retry_armed = 0;
}

static void sample_grants(struct sim_host *h)
{
	struct homa_sim_results *r = &h->sim->res;
	uint64_t incoming, bound;

	homa_engine_grant_state(h->engine, &incoming, &bound);
	r->grant_samples++;
	if (incoming > r->grant_max_incoming)
		r->grant_max_incoming = incoming;
	if (incoming > bound)
		r->grant_violations++;
	if (bound && (double)incoming / (double)bound > r->grant_max_ratio)
		r->grant_max_ratio = (double)incoming / (double)bound;
}

/*
 * Runs after every call into h's engine: samples the grant bound, lets the
 * applications take what became ready (they call back into the engine, so
 * this loops until quiet), then re-arms the timer.
 */
void homa_sim_host_after_call(struct sim_host *h, int from_timer)
{
	struct homa_sim *sim = h->sim;
	uint64_t next;

	if (!h->up)
		return;
	sample_grants(h);
	homa_sim_app_poll(h);
	if (!h->up)
		return;
	next = homa_engine_next_timeout(h->engine);
	if (next == h->timer_at)
		return;
	h->timer_at = next;
	h->timer_gen++;
	if (next == UINT64_MAX)
		return;
	/* A timer that asks for a time already past runs at the next nanosecond
	 * when it comes from the timer itself, so a stuck deadline cannot spin. */
	if (next <= sim->now)
		next = sim->now + (from_timer ? 1 : 0);
	homa_sim_schedule(sim, next, SIM_EV_TIMER, h->index, h->timer_gen, NULL);
}

void homa_sim_host_event(struct homa_sim *sim, const struct sim_event *ev)
{
	struct sim_host *h = &sim->hosts[ev->host];

	if (!h->up || ev->gen != h->timer_gen)
		return;
	h->timer_at = UINT64_MAX;
	homa_engine_handle_timeout(h->engine, sim->now);
	homa_sim_host_after_call(h, 1);
}
