/*
 * homa_engine.c - the engine object: settings, creation and destruction,
 * packet input, timeouts, address helpers and the random generator.
 */
#include "homa_internal.h"

#include "homa_pacer.h"
#include "homa_peer.h"
#include "homa_rpc.h"

/* ------------------------------------------------------------ addresses */

void homa_addr_from_ipv4(struct homa_addr *a, uint32_t ipv4)
{
	memset(a->bytes, 0, 10);
	a->bytes[10] = 0xff;
	a->bytes[11] = 0xff;
	homa_put_u32(a->bytes + 12, ipv4);
}

int homa_addr_is_ipv4(const struct homa_addr *a, uint32_t *ipv4)
{
	static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	if (memcmp(a->bytes, prefix, sizeof(prefix)) != 0)
		return 0;
	if (ipv4 != NULL)
		*ipv4 = homa_get_u32(a->bytes + 12);
	return 1;
}

int homa_addr_equal(const struct homa_addr *a, const struct homa_addr *b)
{
	return memcmp(a->bytes, b->bytes, sizeof(a->bytes)) == 0;
}

/* splitmix64's finaliser: a cheap, well-mixing 64-bit hash. */
uint64_t homa_hash64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

uint32_t homa_addr_hash(const struct homa_addr *a)
{
	uint64_t h = homa_get_u64(a->bytes) * 31 + homa_get_u64(a->bytes + 8);

	return (uint32_t)homa_hash64(h);
}

uint64_t homa_engine_random(struct homa_engine *e)
{
	e->prng += 0x9e3779b97f4a7c15ull;
	return homa_hash64(e->prng);
}

/* ------------------------------------------------------------- settings */

void homa_settings_default(struct homa_settings *s)
{
	static const uint32_t cutoffs[HOMA_MAX_PRIORITIES] = {0,       0,     0,    0,
							      1000000, 15000, 2800, 200};

	memset(s, 0, sizeof(*s));
	s->link_mbps = 25000;
	s->max_packet_bytes = 1472;
	s->unsched_bytes = 40000;
	s->max_incoming = 400000;
	s->max_overcommit = 8;
	s->window = 0;
	s->grant_fifo_fraction = 50;
	s->fifo_grant_increment = 50000;
	s->max_nic_backlog_ns = 5000;
	s->pacer_fifo_fraction = 50;
	s->defer_min_bytes = 1000;
	s->num_priorities = 8;
	memcpy(s->unsched_cutoffs, cutoffs, sizeof(cutoffs));
	s->prio_auto = 1;
	s->prio_interval_ns = 1000000000ull;
	s->prio_min_messages = 1000;
	s->tick_ns = 1000000;
	s->resend_ticks = 5;
	s->resend_interval = 5;
	s->timeout_ticks = 100;
	s->request_ack_ticks = 2;
	s->need_ack_timeout_ticks = 100;
	s->tombstone_ns = 2000000000ull;
	s->max_tombstones_per_peer = 4096;
	s->wmem_max = 64ull << 20;
	s->max_server_rpcs_per_peer = 1024;
	s->max_rpcs_per_socket = 65536;
	s->max_peers = 65536;
}

struct setting_rule {
	int bad;
	const char *why;
};

/* The table must be one a CUTOFFS packet can carry (homa_wire.c). */
static int cutoffs_bad(const struct homa_settings *s)
{
	uint32_t prev = 0x7fffffff, i;

	for (i = 1; i < s->num_priorities && i < HOMA_MAX_PRIORITIES; i++) {
		uint32_t v = s->unsched_cutoffs[i];

		if (v == 0)
			continue;
		if (v > prev)
			return 1;
		prev = v;
	}
	return 0;
}

int homa_settings_check(const struct homa_settings *s, const char **why)
{
	const struct setting_rule rules[] = {
	    {s->link_mbps == 0, "link_mbps must be positive"},
	    {s->max_packet_bytes <= HOMA_DATA_HDR_LEN + 64 || s->max_packet_bytes > 65535,
	     "max_packet_bytes must be 121..65535"},
	    {s->unsched_bytes == 0, "unsched_bytes must be positive"},
	    {s->max_incoming == 0, "max_incoming must be positive"},
	    {s->max_overcommit == 0 || s->max_overcommit > 8,
	     "max_overcommit must be 1..8"},
	    {s->grant_fifo_fraction > 500, "grant_fifo_fraction must be <= 500"},
	    {s->pacer_fifo_fraction > 1000, "pacer_fifo_fraction must be <= 1000"},
	    {s->num_priorities == 0 || s->num_priorities > HOMA_MAX_PRIORITIES,
	     "num_priorities must be 1..8"},
	    {s->prio_auto && s->prio_interval_ns == 0,
	     "prio_interval_ns must be positive"},
	    {cutoffs_bad(s),
	     "unsched_cutoffs must not grow with the level (max 0x7fffffff)"},
	    {s->tick_ns == 0, "tick_ns must be positive"},
	    {s->resend_ticks == 0 || s->resend_interval == 0,
	     "resend_ticks and resend_interval must be positive"},
	    {s->timeout_ticks <= s->resend_ticks,
	     "timeout_ticks must exceed resend_ticks"},
	    {s->need_ack_timeout_ticks <= s->request_ack_ticks,
	     "need_ack_timeout_ticks must exceed request_ack_ticks"},
	    {s->wmem_max == 0, "wmem_max must be positive"},
	    {s->max_server_rpcs_per_peer == 0 || s->max_rpcs_per_socket == 0,
	     "RPC limits must be positive"},
	    {s->max_peers == 0, "max_peers must be positive"},
	};
	size_t i;

	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		if (rules[i].bad) {
			if (why != NULL)
				*why = rules[i].why;
			return -EINVAL;
		}
	}
	if (why != NULL)
		*why = "";
	return 0;
}

/* Installs the configured cutoffs (as a sysctl write does in 6.5). */
static void install_cutoffs(struct homa_engine *e)
{
	uint32_t c[HOMA_MAX_PRIORITIES];
	uint32_t i;

	memcpy(c, e->s.unsched_cutoffs, sizeof(c));
	c[0] = 0x7fffffff;
	for (i = e->s.num_priorities; i < HOMA_MAX_PRIORITIES; i++)
		c[i] = 0;
	if (e->cutoff_version != 0 && memcmp(c, e->cutoffs, sizeof(c)) == 0)
		return;
	memcpy(e->cutoffs, c, sizeof(c));
	e->cutoff_version++;
	if (e->cutoff_version == 0)
		e->cutoff_version = 1;
	e->max_sched_prio = homa_prio_max_sched(c, e->s.num_priorities);
	homa_grant_set_max_sched_prio(&e->grant, e->max_sched_prio);
}

int homa_engine_set_settings(struct homa_engine *e, const struct homa_settings *s)
{
	if (homa_settings_check(s, NULL) != 0)
		return -EINVAL;
	/* The grant bound (homa_grant.h) holds only if these never shrink
	 * under outstanding grants. */
	if (homa_grant_total_incoming(&e->grant) != 0 &&
	    (s->max_incoming < e->s.max_incoming ||
	     s->fifo_grant_increment < e->s.fifo_grant_increment))
		return -EINVAL;
	e->s = *s;
	install_cutoffs(e);
	return 0;
}

/* ------------------------------------------------------------ lifecycle */

static void grant_send(void *ctx, struct homa_grant_rpc *r, uint32_t offset, int priority,
		       uint64_t now)
{
	homa_incoming_grant_send(ctx, r, offset, priority, now);
}

static void engine_init(struct homa_engine *e, const struct homa_settings *settings,
			const struct homa_callbacks *cb, void *user, uint64_t seed,
			uint64_t now)
{
	e->s = *settings;
	e->cb = *cb;
	e->user = user;
	e->prng = seed;
	e->now = now;
	homa_list_init(&e->socks);
	homa_list_init(&e->peers);
	homa_list_init(&e->ack_peers);
	homa_list_init(&e->tombs);
	homa_pacer_init(e);
	homa_grant_init(&e->grant, &e->s, grant_send, e);
	/* A random even starting id (fix 12.3), never 0. */
	e->next_id = (homa_engine_random(e) & ~(uint64_t)1) | 2;
	install_cutoffs(e);
	e->next_tick = now + e->s.tick_ns;
	e->next_prio_ns = now + e->s.prio_interval_ns;
}

int homa_engine_new(const struct homa_settings *settings, const struct homa_callbacks *cb,
		    void *user, const struct homa_allocator *allocator, uint64_t seed,
		    uint64_t now, struct homa_engine **out)
{
	struct homa_mem m;
	struct homa_engine *e;

	if (settings == NULL || cb == NULL || cb->send == NULL || out == NULL ||
	    homa_settings_check(settings, NULL) != 0)
		return -EINVAL;
	homa_mem_init(&m, allocator);
	homa_mem_cache_enable(&m);
	e = homa_mem_zalloc(&m, sizeof(*e));
	if (e == NULL)
		return -ENOMEM;
	/* The engine object itself is not counted in mem_in_use. */
	m.in_use -= sizeof(*e);
	e->mem = m;
	engine_init(e, settings, cb, user, seed, now);
	*out = e;
	return 0;
}

void homa_engine_free(struct homa_engine *e)
{
	struct homa_mem m;

	if (e == NULL)
		return;
	e->num_deferred = 0; /* every RPC they name is ending anyway */
	e->freeing = 1;
	while (!homa_list_empty(&e->socks))
		homa_sock_free(homa_container_of(e->socks.next, struct homa_sock, link),
			       e->now);
	homa_peer_tomb_expire(e, UINT64_MAX);
	homa_peer_reclaim(e, 1);
	homa_grant_destroy(&e->grant);
	homa_mem_cache_drain(&e->mem);
	m = e->mem;
	m.in_use += sizeof(*e);
	homa_mem_free(&m, e, sizeof(*e));
}

/* ----------------------------------------------------------------- input */

static void count_decode_error(struct homa_stats *st, int err)
{
	switch (-err) {
#define X(name, lname, text)                                                             \
	case HOMA_WIRE_ERR_##name:                                                       \
		st->drop_##lname++;                                                      \
		break;
		HOMA_WIRE_ERRORS(X)
#undef X
	default:
		break;
	}
}

static void count_rx(struct homa_stats *st, const struct homa_packet *pkt)
{
	uint64_t *const counters[HOMA_PKT_TYPE_COUNT] = {
	    &st->rx_data,	 &st->rx_grant,	   &st->rx_resend,
	    &st->rx_rpc_unknown, &st->rx_busy,	   &st->rx_cutoffs,
	    &st->rx_freeze,	 &st->rx_need_ack, &st->rx_ack,
	};

	(*counters[pkt->common.type - HOMA_PKT_TYPE_MIN])++;
	if (pkt->common.type == HOMA_PKT_DATA)
		st->rx_data_bytes += pkt->payload_len;
}

void homa_engine_sync_stats(struct homa_engine *e)
{
	e->stats.grant_bytes = e->grant.grant_bytes;
	e->stats.fifo_grant_bytes = e->grant.fifo_grant_bytes;
	e->stats.alloc_failures = e->mem.failures;
}

void homa_engine_input(struct homa_engine *e, const struct homa_addr *src,
		       const uint8_t *pkt, size_t len, uint64_t now)
{
	struct homa_packet p;
	int err;

	e->now = now;
	err = homa_wire_decode(pkt, len, &p);
	if (err != 0) {
		count_decode_error(&e->stats, err);
		return;
	}
	count_rx(&e->stats, &p);
	homa_incoming_dispatch(e, src, &p, NULL, now);
	homa_pacer_pump(e, now);
	homa_engine_sync_stats(e);
}

int homa_engine_rx_place(const struct homa_engine *e, const struct homa_addr *src,
			 const uint8_t *hdr, size_t hdr_avail, size_t pkt_len,
			 struct homa_place *out)
{
	struct homa_packet p;

	if (e == NULL || src == NULL || out == NULL || hdr_avail < HOMA_DATA_HDR_LEN ||
	    pkt_len <= HOMA_DATA_HDR_LEN)
		return 0;
	if (homa_wire_decode_data_split(hdr, HOMA_DATA_HDR_LEN,
					pkt_len - HOMA_DATA_HDR_LEN, &p) != 0)
		return 0;
	return homa_incoming_place(e, src, &p, out);
}

void homa_engine_input_placed(struct homa_engine *e, const struct homa_addr *src,
			      const uint8_t *hdr, size_t hdr_len,
			      const struct homa_place *pl, uint64_t now)
{
	struct homa_packet p;
	size_t sum = 0;
	int err;

	e->now = now;
	for (unsigned int i = 0;
	     pl != NULL && i < pl->num_spans && i < HOMA_PLACE_MAX_SPANS; i++)
		sum += pl->spans[i].len;
	if (pl == NULL || pl->num_spans > HOMA_PLACE_MAX_SPANS || sum != pl->payload_len)
		err = -HOMA_WIRE_ERR_TOO_SHORT; /* an embedder bug: drop, counted */
	else
		err = homa_wire_decode_data_split(hdr, hdr_len, pl->payload_len, &p);
	if (err != 0) {
		count_decode_error(&e->stats, err);
		return;
	}
	count_rx(&e->stats, &p);
	homa_incoming_dispatch(e, src, &p, pl, now);
	homa_pacer_pump(e, now);
	homa_engine_sync_stats(e);
}

void homa_engine_unreachable(struct homa_engine *e, const struct homa_addr *addr,
			     uint16_t port, int error, uint64_t now)
{
	struct homa_link *sl;

	e->now = now;
	for (sl = e->socks.next; sl != &e->socks; sl = sl->next) {
		struct homa_sock *s = homa_container_of(sl, struct homa_sock, link);
		struct homa_link *l = s->rpcs.next;

		while (l != &s->rpcs) {
			struct homa_rpc *rpc =
			    homa_container_of(l, struct homa_rpc, sock_link);

			l = l->next;
			/* A response already received stands; a request the peer
			 * can no longer be answered is dropped even if ready. */
			if (!homa_addr_equal(&rpc->peer->addr, addr) ||
			    (port != 0 && rpc->dport != port) ||
			    (homa_rpc_is_client(rpc) && (rpc->flags & RPC_READY)))
				continue;
			e->stats.rpc_unreachable++;
			homa_rpc_fail(rpc, error, now);
		}
	}
	homa_engine_sync_stats(e);
}

/* ---------------------------------------------------------------- timers */

/*
 * Something needs ticks: an RPC waiting for its peer (parked ones wait only
 * for the application), or acks waiting to be flushed.
 */
int homa_engine_alive(const struct homa_engine *e)
{
	return e->num_rpcs != e->num_parked || !homa_list_empty(&e->ack_peers);
}

uint64_t homa_engine_next_timeout(const struct homa_engine *e)
{
	uint64_t t = homa_pacer_next(e), prio = homa_timer_next_recompute(e);

	if (prio < t)
		t = prio;
	if (homa_engine_alive(e)) {
		if (e->next_tick < t)
			t = e->next_tick;
	} else if (!homa_list_empty(&e->tombs)) {
		const struct homa_tomb *tomb =
		    homa_container_of(e->tombs.next, struct homa_tomb, engine_link);
		uint64_t when =
		    tomb->expires > e->next_tick ? tomb->expires : e->next_tick;

		if (when < t)
			t = when;
	}
	return t;
}

void homa_engine_defer_acks(struct homa_engine *e, int enable)
{
	if (!enable)
		homa_engine_run_deferred(e);
	e->defer_acks = enable != 0;
}

int homa_engine_run_deferred(struct homa_engine *e)
{
	unsigned int n = e->num_deferred;

	if (n == 0)
		return 0;
	homa_incoming_run_deferred(e);
	homa_engine_sync_stats(e);
	return (int)n;
}

void homa_engine_handle_timeout(struct homa_engine *e, uint64_t now)
{
	e->now = now;
	homa_incoming_run_deferred(e);
	if (now >= e->next_tick) {
		if (homa_engine_alive(e))
			homa_timer_tick(e, now);
		else
			homa_peer_tomb_expire(e, now);
		e->next_tick = now + e->s.tick_ns;
	}
	homa_timer_recompute_cutoffs(e, now);
	homa_pacer_pump(e, now);
	homa_engine_sync_stats(e);
}

/* --------------------------------------------------------------- queries */

const struct homa_stats *homa_engine_stats(const struct homa_engine *e)
{
	return &e->stats;
}

const struct homa_settings *homa_engine_settings(const struct homa_engine *e)
{
	return &e->s;
}

size_t homa_engine_mem_in_use(const struct homa_engine *e)
{
	return e->mem.in_use;
}

size_t homa_engine_num_rpcs(const struct homa_engine *e)
{
	return e->num_rpcs;
}

size_t homa_engine_num_peers(const struct homa_engine *e)
{
	return e->num_peers;
}

void homa_engine_grant_state(const struct homa_engine *e, uint64_t *incoming,
			     uint64_t *bound)
{
	if (incoming != NULL)
		*incoming = homa_grant_total_incoming(&e->grant);
	if (bound != NULL)
		*bound = homa_grant_incoming_bound(&e->grant);
}

void homa_engine_cutoffs(const struct homa_engine *e,
			 uint32_t cutoffs[HOMA_MAX_PRIORITIES], uint16_t *version)
{
	memcpy(cutoffs, e->cutoffs, sizeof(e->cutoffs));
	if (version != NULL)
		*version = e->cutoff_version;
}
