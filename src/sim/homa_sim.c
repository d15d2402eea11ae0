/*
 * homa_sim.c - the simulator's life cycle and main loop.
 *
 * The loop pops the earliest event, sets the clock to its time and hands it
 * to the part of the simulator that owns it (network, host timer,
 * application). Nothing happens between events, so an idle network costs
 * nothing however long it stays idle: draining a run until tombstones expire
 * (seconds of virtual time) is a few thousand timer events.
 *
 * The end of a run has three phases. Completion: every issued RPC has
 * completed or failed. Drain: the engines still hold server RPCs waiting for
 * acks and tombstones of executed requests; the simulation keeps running
 * until they hold no RPCs and then for as long as tombstones and NEED_ACK
 * state may live. Finish: live RPCs and engine bytes are measured, then every
 * engine is freed and whatever its counting allocator still holds is a leak.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "homa_sim_internal.h"

void homa_sim_config_default(struct homa_sim_config *c)
{
	memset(c, 0, sizeof(*c));
	c->hosts = 2;
	c->link_gbps = 10;
	c->prop_ns = 1000;
	c->switch_buffer_bytes = 16u << 20;
	c->reorder_max_ns = 10000;
	c->seed = 1;
	c->server_port = 1000;
	c->rcvbuf_bytes = 64u << 20;
	c->response_bytes = 100;
	c->verify_payload = 1;
	c->load = 0.5;
	homa_settings_default(&c->settings);
	c->settings.link_mbps = 10000;
	c->settings.max_packet_bytes = HOMA_SIM_MTU - HOMA_SIM_IP_BYTES;
}

static int config_check(const struct homa_sim_config *c)
{
	if (c->hosts < 1 || c->hosts > 65536 || c->link_gbps <= 0 || c->link_gbps > 10000)
		return -EINVAL;
	if (c->response_bytes < 1 || c->response_bytes > HOMA_MAX_MESSAGE_LENGTH)
		return -EINVAL;
	if (c->loss < 0 || c->loss >= 1 || c->dup < 0 || c->dup > 1 || c->reorder < 0 ||
	    c->reorder > 1)
		return -EINVAL;
	if (c->rcvbuf_bytes < (HOMA_MAX_BPAGES + 1) * (size_t)HOMA_BPAGE_SIZE)
		return -EINVAL;
	return homa_settings_check(&c->settings, NULL);
}

static int sim_alloc_parts(struct homa_sim *sim)
{
	uint32_t n = sim->cfg.hosts;

	sim->hosts = calloc(n, sizeof(*sim->hosts));
	sim->ports = calloc(n, sizeof(*sim->ports));
	if (!sim->hosts || !sim->ports)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		sim->hosts[i].scratch = malloc(HOMA_MAX_MESSAGE_LENGTH);
		if (!sim->hosts[i].scratch)
			return -ENOMEM;
	}
	return 0;
}

static int sim_boot_all(struct homa_sim *sim)
{
	struct homa_rng master;
	int err;

	homa_rng_seed(&master, sim->cfg.seed);
	homa_rng_seed(&sim->fault_rng, homa_rng_next(&master));
	for (uint32_t i = 0; i < sim->cfg.hosts; i++) {
		struct sim_host *h = &sim->hosts[i];

		h->sim = sim;
		h->index = i;
		homa_sim_host_addr(i, &h->addr);
		homa_rng_seed(&h->load_rng, homa_rng_next(&master));
		if (sim->cfg.fail_allocs)
			h->alloc.fail_every = sim->cfg.fail_allocs + i;
		err = homa_sim_host_boot(h, homa_rng_next(&master));
		if (err)
			return err;
	}
	return 0;
}

int homa_sim_new(const struct homa_sim_config *c, struct homa_sim **out)
{
	struct homa_sim *sim;
	int err;

	*out = NULL;
	sim = calloc(1, sizeof(*sim));
	if (!sim)
		return -ENOMEM;
	sim->cfg = *c;
	sim->cfg.settings.link_mbps = (uint32_t)(c->link_gbps * 1000 + 0.5);
	sim->link_bps = (uint64_t)(c->link_gbps * 1e9 + 0.5);
	err = config_check(&sim->cfg);
	if (!err)
		err = sim_alloc_parts(sim);
	if (!err)
		err = sim_boot_all(sim);
	if (err) {
		homa_sim_free(sim);
		return err;
	}
	*out = sim;
	return 0;
}

void homa_sim_free(struct homa_sim *sim)
{
	if (!sim)
		return;
	if (sim->hosts)
		homa_sim_finish(sim);
	homa_sim_net_free(sim);
	homa_sim_queue_destroy(&sim->queue);
	for (uint32_t i = 0; sim->hosts && i < sim->cfg.hosts; i++)
		free(sim->hosts[i].scratch), free(sim->hosts[i].retry);
	free(sim->hosts);
	free(sim->ports);
	free(sim->rpcs);
	free(sim->slowdowns);
	homa_sim_exec_set_free(&sim->execs);
	free(sim);
}

uint64_t homa_sim_now(const struct homa_sim *sim)
{
	return sim->now;
}

const struct homa_sim_config *homa_sim_config(const struct homa_sim *sim)
{
	return &sim->cfg;
}

static void dispatch(struct homa_sim *sim, const struct sim_event *ev)
{
	sim->res.events++;
	switch (ev->type) {
	case SIM_EV_TIMER:
		homa_sim_host_event(sim, ev);
		break;
	case SIM_EV_APP_SEND:
	case SIM_EV_APP_RETRY:
		homa_sim_app_event(sim, ev);
		break;
	default:
		homa_sim_net_event(sim, ev);
		break;
	}
}

/* Runs one event due at or before t. Returns 0 if there was none. */
static int step(struct homa_sim *sim, uint64_t t)
{
	const struct sim_event *top = homa_sim_queue_peek(&sim->queue);
	struct sim_event ev;

	if (!top || top->time > t || sim->finished)
		return 0;
	homa_sim_queue_pop(&sim->queue, &ev);
	sim->now = ev.time;
	dispatch(sim, &ev);
	return 1;
}

void homa_sim_run_until(struct homa_sim *sim, uint64_t t)
{
	while (step(sim, t))
		;
	if (t > sim->now && !sim->finished)
		sim->now = t;
}

static int all_done(const struct homa_sim *sim)
{
	if (sim->rpcs_open)
		return 0;
	return !sim->load_on || sim->res.rpcs_requested >= sim->cfg.rpcs;
}

int homa_sim_run_to_completion(struct homa_sim *sim, uint64_t limit_ns)
{
	while (!all_done(sim)) {
		if (!step(sim, limit_ns)) {
			if (sim->now < limit_ns && !sim->finished)
				sim->now = limit_ns;
			return -ETIME;
		}
	}
	return 0;
}

static size_t live_rpcs(const struct homa_sim *sim)
{
	size_t n = 0;

	for (uint32_t i = 0; i < sim->cfg.hosts; i++)
		if (sim->hosts[i].up)
			n += homa_engine_num_rpcs(sim->hosts[i].engine);
	return n;
}

int homa_sim_drain(struct homa_sim *sim, uint64_t limit_ns)
{
	const struct homa_settings *s = &sim->cfg.settings;
	uint64_t slice = s->tick_ns * 10;
	uint64_t linger;

	sim->load_on = 0;
	while (live_rpcs(sim) && sim->now < limit_ns)
		homa_sim_run_until(sim, sim->now + slice < limit_ns ? sim->now + slice
								    : limit_ns);
	if (live_rpcs(sim))
		return -ETIME;
	/* Tombstones outlive their RPC by tombstone_ns; give every timer a
	 * couple of ticks more to notice. */
	linger = s->tombstone_ns + 3 * s->tick_ns;
	homa_sim_run_until(sim,
			   sim->now + linger < limit_ns ? sim->now + linger : limit_ns);
	return 0;
}

void homa_sim_finish(struct homa_sim *sim)
{
	if (sim->finished)
		return;
	homa_sim_results(sim);
	for (uint32_t i = 0; i < sim->cfg.hosts; i++) {
		struct sim_host *h = &sim->hosts[i];

		if (!h->up)
			continue;
		sim->res.rpcs_leaked += homa_engine_num_rpcs(h->engine);
		sim->res.state_bytes_at_end += homa_engine_mem_in_use(h->engine);
		homa_sim_host_halt(h);
	}
	sim->res.stats = sim->dead_stats;
	sim->res.sim_ns = sim->now;
	sim->finished = 1;
}

const struct homa_sim_results *homa_sim_results(struct homa_sim *sim)
{
	uint64_t *d;

	if (sim->finished)
		return &sim->res;
	sim->res.stats = sim->dead_stats;
	d = (uint64_t *)&sim->res.stats;
	for (uint32_t i = 0; i < sim->cfg.hosts; i++) {
		if (!sim->hosts[i].up)
			continue;
		const struct homa_stats *s = homa_engine_stats(sim->hosts[i].engine);

		for (size_t k = 0; k < HOMA_STATS_COUNT; k++)
			d[k] += homa_stats_get(s, k);
	}
	sim->res.sim_ns = sim->now;
	return &sim->res;
}

const struct homa_sim_rpc *homa_sim_rpc(const struct homa_sim *sim, uint64_t index)
{
	return index < sim->nrpcs ? &sim->rpcs[index] : NULL;
}

uint64_t homa_sim_num_rpcs(const struct homa_sim *sim)
{
	return sim->nrpcs;
}

void homa_sim_set_filter(struct homa_sim *sim, homa_sim_filter_fn fn, void *ctx)
{
	sim->filter = fn;
	sim->filter_ctx = ctx;
}

void homa_sim_crash(struct homa_sim *sim, uint32_t host)
{
	if (host >= sim->cfg.hosts || !sim->hosts[host].up || sim->finished)
		return;
	homa_sim_host_halt(&sim->hosts[host]);
	homa_sim_app_host_crashed(sim, host);
}

int homa_sim_restart(struct homa_sim *sim, uint32_t host, uint64_t seed)
{
	if (host >= sim->cfg.hosts || sim->hosts[host].up || sim->finished)
		return -EINVAL;
	return homa_sim_host_boot(&sim->hosts[host], seed);
}

int homa_sim_host_up(const struct homa_sim *sim, uint32_t host)
{
	return host < sim->cfg.hosts && sim->hosts[host].up;
}

void homa_sim_fail_allocs(struct homa_sim *sim, uint32_t host, uint64_t every_n)
{
	if (host < sim->cfg.hosts)
		sim->hosts[host].alloc.fail_every = every_n;
}

struct homa_engine *homa_sim_engine(struct homa_sim *sim, uint32_t host)
{
	return host < sim->cfg.hosts && sim->hosts[host].up ? sim->hosts[host].engine
							    : NULL;
}

uint64_t homa_sim_port_peak(const struct homa_sim *sim, uint32_t host)
{
	return host < sim->cfg.hosts ? sim->ports[host].peak : 0;
}

int homa_sim_pkt_type(const struct homa_sim_pkt *p)
{
	struct homa_packet pkt;

	/* The codec knows the layout; a test filter should not. */
	return homa_wire_decode(p->bytes, p->len, &pkt) < 0 ? 0 : pkt.common.type;
}
