/*
 * homa_sim_net.c - links, the switch and the faults.
 *
 * The path of a packet: the engine's send callback hands it to the host's
 * NIC, a FIFO that serialises at the link rate (the packet leaves at
 * max(now, NIC idle) + wire time and the NIC is busy until then); after the
 * propagation delay its last bit reaches the switch (store and forward). At
 * the ingress the test's filter and then the random faults apply: loss drops
 * it, duplication enqueues a second copy, reordering holds it back by a
 * random extra delay so later packets of the same flow overtake it. The
 * packet then joins one of the 8 strict-priority queues of its output port if
 * the shared buffer has room (else it is dropped and counted); a port always
 * sends the head of its highest non-empty level, and a packet holds buffer
 * until its last bit has left. After the propagation delay the destination
 * engine gets it.
 *
 * Wire size = Homa bytes + 20 (IPv4) + 42 (Ethernet header, FCS, preamble,
 * inter-packet gap): the simulator models the raw-IP carrier, so engines are
 * configured with max_packet_bytes = 1500 - 20. Queue occupancy is counted in
 * wire bytes, which is what a switch buffer holds (give or take the preamble).
 *
 * Only the switch ingress draws faults, so the host side stays a faithful
 * FIFO and every fault is a single draw per packet from one seeded stream.
 */
#include <stdlib.h>
#include <string.h>

#include "homa_sim_internal.h"

uint64_t homa_sim_wire_ns(const struct homa_sim *sim, uint32_t wire_bytes)
{
	/* Round up: a link never sends faster than its rate. */
	return ((uint64_t)wire_bytes * 8 * 1000000000ull + sim->link_bps - 1) /
	       sim->link_bps;
}

void homa_sim_schedule(struct homa_sim *sim, uint64_t time, uint32_t type, uint32_t host,
		       uint64_t gen, struct sim_pkt *pkt)
{
	struct sim_event ev = {
	    .time = time, .type = type, .host = host, .gen = gen, .pkt = pkt};

	if (homa_sim_queue_push(&sim->queue, &ev)) {
		/* Out of memory in the simulator itself: nothing sensible left. */
		abort();
	}
}

static struct sim_pkt *pkt_new(uint32_t len)
{
	struct sim_pkt *p = malloc(sizeof(*p) + len);

	if (!p)
		abort();
	p->next = NULL;
	p->len = len;
	p->wire = len + HOMA_SIM_IP_BYTES + HOMA_SIM_FRAME_BYTES;
	return p;
}

static struct sim_pkt *pkt_clone(const struct sim_pkt *src)
{
	struct sim_pkt *p = pkt_new(src->len);

	memcpy(p, src, sizeof(*p) + src->len);
	p->next = NULL;
	return p;
}

void homa_sim_net_send(struct sim_host *h, uint32_t dst, int priority, const uint8_t *hdr,
		       size_t hdr_len, const uint8_t *payload, size_t payload_len)
{
	struct homa_sim *sim = h->sim;
	struct sim_pkt *p = pkt_new((uint32_t)(hdr_len + payload_len));
	uint64_t start = h->nic_free_ns > sim->now ? h->nic_free_ns : sim->now;

	p->src = h->index;
	p->dst = dst;
	p->src_epoch = h->epoch;
	p->priority = priority < 0 ? 0 : (priority > 7 ? 7 : priority);
	memcpy(p->bytes, hdr, hdr_len);
	if (payload_len)
		memcpy(p->bytes + hdr_len, payload, payload_len);
	h->nic_free_ns = start + homa_sim_wire_ns(sim, p->wire);
	sim->res.pkts_sent++;
	sim->res.wire_bytes += p->wire;
	homa_sim_schedule(sim, h->nic_free_ns + sim->cfg.prop_ns, SIM_EV_SWITCH_IN, dst,
			  0, p);
}

/* The filter and the random faults. Returns 1 if the packet goes on. */
static int apply_faults(struct homa_sim *sim, struct sim_pkt *p, uint64_t *delay)
{
	struct homa_sim_pkt view = {p->src, p->dst, p->priority, p->len, p->bytes};

	*delay = 0;
	if (sim->filter &&
	    sim->filter(sim->filter_ctx, &view, sim->now, delay) == HOMA_SIM_DROP) {
		sim->res.drops_filter++;
		return 0;
	}
	if (sim->cfg.loss > 0 && homa_rng_uniform(&sim->fault_rng) < sim->cfg.loss) {
		sim->res.drops_loss++;
		return 0;
	}
	if (sim->cfg.reorder > 0 &&
	    homa_rng_uniform(&sim->fault_rng) < sim->cfg.reorder) {
		*delay += 1 + (uint64_t)(homa_rng_uniform(&sim->fault_rng) *
					 (double)sim->cfg.reorder_max_ns);
		sim->res.reorders++;
	}
	return 1;
}

static void switch_in(struct homa_sim *sim, struct sim_pkt *p)
{
	uint64_t delay;

	if (sim->hosts[p->src].epoch != p->src_epoch || !apply_faults(sim, p, &delay)) {
		if (sim->hosts[p->src].epoch != p->src_epoch)
			sim->res.drops_down++;
		free(p);
		return;
	}
	if (sim->cfg.dup > 0 && homa_rng_uniform(&sim->fault_rng) < sim->cfg.dup) {
		sim->res.dups++;
		homa_sim_schedule(sim, sim->now, SIM_EV_ENQUEUE, p->dst, 0, pkt_clone(p));
	}
	homa_sim_schedule(sim, sim->now + delay, SIM_EV_ENQUEUE, p->dst, 0, p);
}

static struct sim_pkt *port_dequeue(struct sim_port *port)
{
	for (int level = HOMA_MAX_PRIORITIES - 1; level >= 0; level--) {
		struct sim_fifo *f = &port->q[level];
		struct sim_pkt *p = f->head;

		if (!p)
			continue;
		f->head = p->next;
		if (!f->head)
			f->tail = NULL;
		p->next = NULL;
		return p;
	}
	return NULL;
}

static void port_start(struct homa_sim *sim, uint32_t index)
{
	struct sim_port *port = &sim->ports[index];

	if (port->busy)
		return;
	port->busy = port_dequeue(port);
	if (port->busy)
		homa_sim_schedule(sim, sim->now + homa_sim_wire_ns(sim, port->busy->wire),
				  SIM_EV_PORT_DONE, index, 0, NULL);
}

static void note_peaks(struct homa_sim *sim, uint32_t index)
{
	struct sim_port *port = &sim->ports[index];

	if (port->bytes > port->peak)
		port->peak = port->bytes;
	if (port->bytes > sim->res.port_peak_max_bytes) {
		sim->res.port_peak_max_bytes = port->bytes;
		sim->res.port_peak_max_host = index;
	}
	if (sim->switch_bytes > sim->res.switch_peak_queue_bytes)
		sim->res.switch_peak_queue_bytes = sim->switch_bytes;
}

static void enqueue(struct homa_sim *sim, struct sim_pkt *p)
{
	struct sim_port *port = &sim->ports[p->dst];
	struct sim_fifo *f = &port->q[p->priority];

	if (sim->switch_bytes + p->wire > sim->cfg.switch_buffer_bytes) {
		sim->res.drops_buffer++;
		free(p);
		return;
	}
	sim->switch_bytes += p->wire;
	port->bytes += p->wire;
	note_peaks(sim, p->dst);
	if (f->tail)
		f->tail->next = p;
	else
		f->head = p;
	f->tail = p;
	port_start(sim, p->dst);
}

static void port_done(struct homa_sim *sim, uint32_t index)
{
	struct sim_port *port = &sim->ports[index];
	struct sim_pkt *p = port->busy;

	port->busy = NULL;
	port->bytes -= p->wire;
	sim->switch_bytes -= p->wire;
	homa_sim_schedule(sim, sim->now + sim->cfg.prop_ns, SIM_EV_HOST_RX, index, 0, p);
	port_start(sim, index);
}

static void host_rx(struct homa_sim *sim, struct sim_pkt *p)
{
	struct sim_host *h = &sim->hosts[p->dst];

	if (!h->up) {
		sim->res.drops_down++;
		free(p);
		return;
	}
	sim->res.pkts_delivered++;
	homa_engine_input(h->engine, &sim->hosts[p->src].addr, p->bytes, p->len,
			  sim->now);
	free(p);
	homa_sim_host_after_call(h, 0);
}

void homa_sim_net_event(struct homa_sim *sim, const struct sim_event *ev)
{
	switch (ev->type) {
	case SIM_EV_SWITCH_IN:
		switch_in(sim, ev->pkt);
		break;
	case SIM_EV_ENQUEUE:
		enqueue(sim, ev->pkt);
		break;
	case SIM_EV_PORT_DONE:
		port_done(sim, ev->host);
		break;
	case SIM_EV_HOST_RX:
		host_rx(sim, ev->pkt);
		break;
	default:
		break;
	}
}

static void fifo_free(struct sim_fifo *f)
{
	while (f->head) {
		struct sim_pkt *p = f->head;

		f->head = p->next;
		free(p);
	}
	f->tail = NULL;
}

/* Frees every packet still queued in the switch or in flight. */
void homa_sim_net_free(struct homa_sim *sim)
{
	struct sim_event ev;

	while (homa_sim_queue_pop(&sim->queue, &ev))
		free(ev.pkt);
	for (uint32_t i = 0; sim->ports && i < sim->cfg.hosts; i++) {
		for (int l = 0; l < HOMA_MAX_PRIORITIES; l++)
			fifo_free(&sim->ports[i].q[l]);
		free(sim->ports[i].busy);
		sim->ports[i].busy = NULL;
	}
}
