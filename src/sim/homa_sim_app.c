/*
 * homa_sim_app.c - the applications every simulated host runs.
 *
 * The client issues requests (one by one for tests, or open-loop Poisson
 * load) and records each in sim->rpcs; the record's index travels as the
 * completion cookie. The server answers every request the moment it is
 * received. Both take messages with homa_sock_recv(), check them and give the
 * bpages back at once, so receive buffers only fill when the network does.
 *
 * Payload pattern. The engine assigns the RPC id only inside
 * homa_sock_send_request(), after the bytes were copied, so the pattern
 * cannot be derived from it. Instead the first 8 bytes of a request carry a
 * tag (the record index and a 32-bit check computed from the client host and
 * that index) and every following 8-byte word is a mix of the tag and the
 * word's offset. The server can thus verify a request alone (a wrong check or
 * a misplaced word is corruption), and builds the response from the same tag,
 * which the client verifies against the tag it sent. Requests shorter than 8
 * bytes carry a truncated tag: their bytes are compared by the client-side
 * response check only. Offsets enter every word, so bytes written to the
 * wrong place in the receive region are caught, not just flipped bits.
 *
 * At-most-once is checked independently of the engine: the server
 * application remembers every (client host, client port, RPC id) it executed
 * and counts a second execution as a duplicate. The memory is per server
 * incarnation: a server that crashed and restarted remembers nothing, and a
 * request it ran before the crash may legitimately run again after it.
 *
 * Load: a host's requests follow a Poisson process of rate
 *     lambda = load * link rate / E[wire bytes per RPC]
 * (homa_sim_wire_bytes_per_rpc), destination uniform among the other hosts.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "homa_sim_internal.h"

#define RESPONSE_SALT 0x5bd1e9955bd1e995ull

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 31;
	x *= 0x7fb5d329728ea185ull;
	x ^= x >> 27;
	x *= 0x81dadef4bfb8a5afull;
	x ^= x >> 33;
	return x;
}

static uint64_t make_tag(uint32_t client, uint64_t index)
{
	uint32_t check = (uint32_t)mix64(((uint64_t)client << 40) ^ index ^ 0x1234567ull);

	return (index & 0xffffffffull) << 32 | check;
}

static int tag_valid(uint64_t tag, uint32_t client)
{
	return make_tag(client, tag >> 32) == tag;
}

/* Word k (k >= 1) of a message with this tag. */
static uint64_t pattern_word(uint64_t tag, uint64_t k)
{
	return (tag ^ (k * 0x9e3779b97f4a7c15ull)) * 0xff51afd7ed558ccdull;
}

/* Words are little-endian in the payload; a whole word on a little-endian
 * host is one unaligned move, which keeps pattern work off the profile. */
static void put_word(uint8_t *dst, uint64_t w, size_t n)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (n == 8) {
		memcpy(dst, &w, 8);
		return;
	}
#endif
	for (size_t i = 0; i < n; i++)
		dst[i] = (uint8_t)(w >> (8 * i));
}

/* Fills buf[0..len) with the pattern of tag (tag itself first). */
static void pattern_fill(uint8_t *buf, uint32_t len, uint64_t tag)
{
	uint64_t k = 0;
	uint32_t off = 0;

	for (; off + 8 <= len; off += 8, k++)
		put_word(buf + off, k ? pattern_word(tag, k) : tag, 8);
	if (off < len)
		put_word(buf + off, k ? pattern_word(tag, k) : tag, len - off);
}

static uint64_t get_word(const uint8_t *src, size_t n)
{
	uint64_t w = 0;

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (n == 8) {
		memcpy(&w, src, 8);
		return w;
	}
#endif
	for (size_t i = 0; i < n; i++)
		w |= (uint64_t)src[i] << (8 * i);
	return w;
}

/* Byte o of a received message. */
static const uint8_t *msg_at(const uint8_t *region, const struct homa_recv_msg *m,
			     uint32_t o)
{
	return region + m->bpage_offsets[o >> HOMA_BPAGE_SHIFT] +
	       (o & (HOMA_BPAGE_SIZE - 1));
}

/* Reads the first min(8, length) bytes (the tag), zero-extended. */
static uint64_t msg_tag(const uint8_t *region, const struct homa_recv_msg *m)
{
	return get_word(msg_at(region, m, 0), m->length < 8 ? m->length : 8);
}

/*
 * 1 if the message matches the pattern of tag. Chunks of a message are 64 KiB
 * apart in offset, a multiple of 8, so words never straddle two bpages.
 */
static int pattern_check(const uint8_t *region, const struct homa_recv_msg *m,
			 uint64_t tag)
{
	uint32_t len = m->length;

	if (m->num_bpages != (len + HOMA_BPAGE_SIZE - 1) / HOMA_BPAGE_SIZE)
		return 0;
	for (uint32_t c = 0; c < m->num_bpages; c++) {
		const uint8_t *p = region + m->bpage_offsets[c];
		uint32_t start = c * HOMA_BPAGE_SIZE;
		uint32_t end =
		    len - start < HOMA_BPAGE_SIZE ? len : start + HOMA_BPAGE_SIZE;

		for (uint32_t off = start; off < end; off += 8, p += 8) {
			size_t n = end - off < 8 ? end - off : 8;
			uint64_t k = off / 8;
			uint64_t want = k ? pattern_word(tag, k) : tag;

			if (n < 8)
				want &= (1ull << (8 * n)) - 1;
			if (get_word(p, n) != want)
				return 0;
		}
	}
	return 1;
}

static uint64_t truncate_tag(uint64_t tag, uint32_t len)
{
	return len >= 8 ? tag : tag & ((1ull << (8 * len)) - 1);
}

/* --------------------------------------------------- at-most-once set */

static uint64_t key_hash(const struct sim_exec_key *k)
{
	uint64_t who = (uint64_t)k->host << 16 | k->port;
	uint64_t where = (uint64_t)k->server << 32 | k->server_epoch;

	return mix64(k->id ^ who * 0x9e3779b97f4a7c15ull ^ mix64(where));
}

static int key_equal(const struct sim_exec_key *a, const struct sim_exec_key *b)
{
	return a->host == b->host && a->port == b->port && a->id == b->id &&
	       a->server == b->server && a->server_epoch == b->server_epoch;
}

/* Inserts k; returns 1 if it was already there. */
static int exec_set_add(struct sim_exec_set *s, const struct sim_exec_key *k);

static void exec_set_grow(struct sim_exec_set *s)
{
	struct sim_exec_set bigger = {NULL, 0, s->cap ? s->cap * 2 : 1024};

	bigger.slots = malloc(bigger.cap * sizeof(*bigger.slots));
	if (!bigger.slots)
		abort();
	for (size_t i = 0; i < bigger.cap; i++)
		bigger.slots[i].host = UINT32_MAX;
	for (size_t i = 0; i < s->cap; i++)
		if (s->slots[i].host != UINT32_MAX)
			exec_set_add(&bigger, &s->slots[i]);
	free(s->slots);
	*s = bigger;
}

static int exec_set_add(struct sim_exec_set *s, const struct sim_exec_key *k)
{
	size_t i;

	if ((s->n + 1) * 2 > s->cap)
		exec_set_grow(s);
	for (i = key_hash(k) & (s->cap - 1); s->slots[i].host != UINT32_MAX;
	     i = (i + 1) & (s->cap - 1))
		if (key_equal(&s->slots[i], k))
			return 1;
	s->slots[i] = *k;
	s->n++;
	return 0;
}

void homa_sim_exec_set_free(struct sim_exec_set *s)
{
	free(s->slots);
	memset(s, 0, sizeof(*s));
}

/* ------------------------------------------------------------ server */

#define RETRY_NS 10000

static void retry_push(struct sim_host *h, uint64_t id,
		       const struct homa_endpoint *client, uint64_t tag)
{
	if (h->nretry == h->retry_cap) {
		size_t cap = h->retry_cap ? h->retry_cap * 2 : 16;
		struct sim_reply *r = realloc(h->retry, cap * sizeof(*r));

		if (!r)
			abort();
		h->retry = r;
		h->retry_cap = cap;
	}
	h->retry[h->nretry++] = (struct sim_reply){id, *client, tag};
	if (!h->retry_armed) {
		h->retry_armed = 1;
		homa_sim_schedule(h->sim, h->sim->now + RETRY_NS, SIM_EV_APP_RETRY,
				  h->index, h->epoch, NULL);
	}
}

/*
 * Answers request id. A request in service must be answered or it lives
 * until the socket closes (and its client keeps hearing BUSY), so a reply
 * refused for lack of memory is tried again later, as a real server would.
 */
static void server_reply(struct sim_host *h, uint64_t id,
			 const struct homa_endpoint *client, uint64_t tag)
{
	struct homa_sim *sim = h->sim;
	uint32_t rlen = sim->cfg.response_bytes;
	struct homa_iov iov = {h->scratch, rlen};
	int err;

	if (sim->cfg.verify_payload)
		pattern_fill(h->scratch, rlen, tag ^ RESPONSE_SALT);
	err = homa_sock_reply(h->server, id, client, &iov, 1, sim->now);
	if (err == -ENOMEM || err == -EAGAIN)
		retry_push(h, id, client, tag);
	else if (err)
		sim->res.reply_errors++;
}

static void server_retry(struct sim_host *h)
{
	size_t n = h->nretry;
	struct sim_reply *todo;

	h->retry_armed = 0;
	if (!h->up || !n)
		return;
	todo = malloc(n * sizeof(*todo));
	if (!todo)
		abort();
	memcpy(todo, h->retry, n * sizeof(*todo));
	h->nretry = 0;
	for (size_t i = 0; i < n && h->up; i++)
		server_reply(h, todo[i].id, &todo[i].client, todo[i].tag);
	free(todo);
	homa_sim_host_after_call(h, 0);
}

static void server_handle(struct sim_host *h, const struct homa_recv_msg *m)
{
	struct homa_sim *sim = h->sim;
	uint32_t client = homa_sim_host_of(sim, &m->peer.addr);
	struct sim_exec_key key = {client, m->peer.port, h->index, h->epoch, m->id};
	uint64_t tag = msg_tag(h->server_region, m);

	if (m->error || client == UINT32_MAX || !(m->id & 1)) {
		sim->res.unexpected_messages++;
		return;
	}
	if (exec_set_add(&sim->execs, &key))
		sim->res.duplicate_executions++;
	if (sim->cfg.verify_payload) {
		if ((m->length >= 8 && !tag_valid(tag, client)) ||
		    !pattern_check(h->server_region, m, tag))
			sim->res.corrupted_messages++;
	}
	server_reply(h, m->id, &m->peer, tag);
}

/* ------------------------------------------------------------ client */

static void rpc_close(struct homa_sim *sim, struct homa_sim_rpc *r, int state, int error)
{
	r->state = state;
	r->error = error;
	r->end_ns = sim->now;
	sim->rpcs_open--;
	if (state == HOMA_SIM_RPC_DONE) {
		sim->res.rpcs_completed++;
	} else if (state == HOMA_SIM_RPC_FAILED) {
		sim->res.rpcs_failed++;
		sim->res.errors[error > 0 && error < HOMA_SIM_MAX_ERRNO ? error : 0]++;
	} else {
		sim->res.rpcs_lost++;
	}
}

static void client_handle(struct sim_host *h, const struct homa_recv_msg *m)
{
	struct homa_sim *sim = h->sim;
	uint64_t i = m->completion_cookie;
	struct homa_sim_rpc *r = i < sim->nrpcs ? &sim->rpcs[i] : NULL;

	if (!r || r->client != h->index || r->state != HOMA_SIM_RPC_PENDING ||
	    r->id != m->id) {
		sim->res.unexpected_messages++;
		return;
	}
	if (m->error) {
		rpc_close(sim, r, HOMA_SIM_RPC_FAILED, m->error);
		return;
	}
	if (sim->cfg.verify_payload) {
		uint64_t tag =
		    truncate_tag(make_tag(h->index, i), r->length) ^ RESPONSE_SALT;

		if (m->length != sim->cfg.response_bytes ||
		    !pattern_check(h->client_region, m, tag))
			sim->res.corrupted_messages++;
	}
	rpc_close(sim, r, HOMA_SIM_RPC_DONE, 0);
}

/* Takes every ready message of one socket. */
static void drain_socket(struct sim_host *h, struct homa_sock *s, int server)
{
	struct homa_recv_msg m;

	while (h->up && homa_sock_recv(s, 0, h->sim->now, &m) == 0) {
		if (server)
			server_handle(h, &m);
		else
			client_handle(h, &m);
		if (m.num_bpages)
			homa_sock_release_bpages(s, m.bpage_offsets, m.num_bpages);
	}
}

void homa_sim_app_poll(struct sim_host *h)
{
	while (h->up && h->ready) {
		uint32_t ready = h->ready;

		h->ready = 0;
		if (ready & 1)
			drain_socket(h, h->server, 1);
		if (ready & 2)
			drain_socket(h, h->client, 0);
	}
}

static struct homa_sim_rpc *rpc_new(struct homa_sim *sim)
{
	if (sim->nrpcs == sim->rpcs_cap) {
		uint64_t cap = sim->rpcs_cap ? sim->rpcs_cap * 2 : 1024;
		struct homa_sim_rpc *r = realloc(sim->rpcs, cap * sizeof(*r));

		if (!r)
			return NULL;
		sim->rpcs = r;
		sim->rpcs_cap = cap;
	}
	memset(&sim->rpcs[sim->nrpcs], 0, sizeof(sim->rpcs[0]));
	return &sim->rpcs[sim->nrpcs++];
}

int64_t homa_sim_send_rpc(struct homa_sim *sim, uint32_t client, uint32_t server,
			  uint32_t length)
{
	struct sim_host *h = client < sim->cfg.hosts ? &sim->hosts[client] : NULL;
	struct homa_endpoint dst = {.port = sim->cfg.server_port};
	struct homa_iov iov;
	struct homa_sim_rpc *r;
	uint64_t index = sim->nrpcs;
	int err;

	if (!h || !h->up || server >= sim->cfg.hosts || sim->finished || !length ||
	    length > HOMA_MAX_MESSAGE_LENGTH)
		return -EINVAL;
	homa_sim_host_addr(server, &dst.addr);
	if (sim->cfg.verify_payload)
		pattern_fill(h->scratch, length, make_tag(client, index));
	iov.base = h->scratch;
	iov.len = length;
	r = rpc_new(sim);
	if (!r)
		return -ENOMEM;
	*r = (struct homa_sim_rpc){.client = client,
				   .server = server,
				   .length = length,
				   .state = HOMA_SIM_RPC_PENDING,
				   .start_ns = sim->now};
	sim->res.rpcs_requested++;
	sim->rpcs_open++;
	err =
	    homa_sock_send_request(h->client, &dst, &iov, 1, index, 0, sim->now, &r->id);
	if (err) {
		sim->res.send_errors++;
		rpc_close(sim, r, HOMA_SIM_RPC_FAILED, -err);
	}
	homa_sim_host_after_call(h, 0);
	return (int64_t)index;
}

void homa_sim_app_host_crashed(struct homa_sim *sim, uint32_t host)
{
	for (uint64_t i = 0; i < sim->nrpcs; i++)
		if (sim->rpcs[i].client == host &&
		    sim->rpcs[i].state == HOMA_SIM_RPC_PENDING)
			rpc_close(sim, &sim->rpcs[i], HOMA_SIM_RPC_LOST, 0);
}

/* ------------------------------------------------------------- load */

/* Wire bytes of one message: payload plus, per packet, the DATA header,
 * IPv4 header and Ethernet framing. */
static double msg_wire_bytes(uint32_t len, uint32_t max_packet)
{
	uint32_t payload = max_packet - HOMA_DATA_HDR_LEN;
	uint32_t pkts = (len + payload - 1) / payload;

	if (pkts == 0)
		pkts = 1;
	return (double)len + (double)pkts * (HOMA_DATA_HDR_LEN + HOMA_SIM_IP_BYTES +
					     HOMA_SIM_FRAME_BYTES);
}

double homa_sim_wire_bytes_per_rpc(const struct homa_sim_config *c,
				   const struct homa_workload *w)
{
	uint32_t mtu = c->settings.max_packet_bytes;
	double total = 0, prev = 0;

	for (uint32_t i = 0; i < w->n; i++) {
		double p = w->cum[i] - prev;

		prev = w->cum[i];
		total += p * msg_wire_bytes(w->lengths[i] ? w->lengths[i] : 1, mtu);
	}
	return total + msg_wire_bytes(c->response_bytes, mtu);
}

static void schedule_next(struct homa_sim *sim, struct sim_host *h)
{
	double gap = homa_rng_exponential(&h->load_rng, sim->load_mean_gap_ns);

	homa_sim_schedule(sim, sim->now + 1 + (uint64_t)gap, SIM_EV_APP_SEND, h->index, 0,
			  NULL);
}

void homa_sim_app_event(struct homa_sim *sim, const struct sim_event *ev)
{
	struct sim_host *h = &sim->hosts[ev->host];
	uint32_t len, dst;

	if (ev->type == SIM_EV_APP_RETRY) {
		/* A retry armed before a crash belongs to the dead application. */
		if (ev->gen == h->epoch)
			server_retry(h);
		return;
	}

	if (!sim->load_on || sim->res.rpcs_requested >= sim->cfg.rpcs)
		return;
	/* Draws happen even while the host is down, so a crash elsewhere does
	 * not shift this host's sequence. */
	len = homa_workload_sample(sim->cfg.workload, homa_rng_uniform(&h->load_rng));
	dst = (uint32_t)(homa_rng_next(&h->load_rng) % (sim->cfg.hosts - 1));
	if (dst >= h->index)
		dst++;
	if (h->up)
		homa_sim_send_rpc(sim, h->index, dst, len ? len : 1);
	schedule_next(sim, h);
}

int homa_sim_start_load(struct homa_sim *sim)
{
	double per_rpc, rate;

	if (!sim->cfg.workload || sim->cfg.load <= 0 || sim->cfg.hosts < 2 ||
	    sim->finished)
		return -EINVAL;
	per_rpc = homa_sim_wire_bytes_per_rpc(&sim->cfg, sim->cfg.workload);
	rate = sim->cfg.load * (double)sim->link_bps / 8.0 / per_rpc; /* RPCs/s/host */
	sim->load_mean_gap_ns = 1e9 / rate;
	sim->load_on = 1;
	for (uint32_t i = 0; i < sim->cfg.hosts; i++)
		schedule_next(sim, &sim->hosts[i]);
	return 0;
}
