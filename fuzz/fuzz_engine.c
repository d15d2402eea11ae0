/*
 * fuzz_engine.c - stateful libFuzzer target: two engines back to back, driven
 * by a program.
 *
 * FUZZ_SOURCES: src/core/ tests/common/homa_pktbuild.c
 *
 * Engine 0 (10.0.0.1) and engine 1 (10.0.0.2) each have a client socket and
 * a server socket on port 99, with receive regions. Every packet an engine
 * sends to the other waits in one queue until the program delivers, drops,
 * duplicates or reorders it. The input is a sequence of 4-byte instructions
 * {op, a, b, c} (op taken modulo the number of operations):
 *
 *   0 SEND      client of engine a&1 sends a request to the other engine's
 *               server: length 1 + ((b<<8|c) << ((a>>1)&3)); (a>>4)&1
 *               private; (a>>5)==5 the maximum (1 MB), ==6 port 0, ==7 an
 *               invalid length (0 or 1 MB + 1)
 *   1 DELIVER   queued packet a               2 DROP      queued packet a
 *   3 DUP       copy queued packet a          4 SWAP      packets a and b
 *   5 RAW       the next a + 256 * ((c >> 2) & 7) bytes of the input go to
 *               engine b&1 as a packet, from the other engine (c & 3 == 0),
 *               itself (1) or 10.0.0.9 (2, 3)
 *   6 MUTATE    copy of packet a with byte b xored with c (c == 0: cut at b)
 *               goes to its destination at once
 *   7 CLOCK     time moves by (b + 1) << (a % 32) ns; due timers run
 *   8 RECV      engine a&1, socket (a>>1)&1 (0 client, 1 server); b&1 keeps
 *               the bpages (released later by RELEASE), else released now
 *   9 REPLY     to held request a, length as SEND from (b, c)
 *  10 RELEASE   held bpages a                11 ABORT    client RPC b (c&1: all)
 *  12 SHUTDOWN  engine a&1, socket (a>>1)&1 13 ALLOCS   fail every a-th
 *               allocation from now on (0: none), or the b-th from now
 *  14 RUN       up to 32 * (a % 16 + 1) steps of delivering packets in order
 *               and firing timers (at most RUN_BUDGET steps per input, so
 *               that no input runs for seconds)
 *  15 UNREACH   engine a&1 hears that the other is unreachable (port b&1 ?
 *               99 : all ports), error from c
 *  16 PRIVRECV  engine a&1's client receives the private RPC b
 *  17 SERVER    engine a&1's server socket accepts requests or not (b&1)
 *
 * Invariants, checked after every instruction and at the end: nothing
 * crashes (ASan, UBSan); every engine's mem_in_use equals the bytes its
 * allocator has live; granted-but-unreceived bytes stay under the bound the
 * grant scheduler documents; a response is delivered only for an id its
 * client sent and at most once; a request of the other engine's client
 * reaches the server application at most once within tombstone_ns (however
 * its packets were duplicated, delayed, mutated or replayed); a delivered
 * message's bpages lie inside the region; every span homa_engine_rx_place()
 * returns lies inside a receive region and covers the packet's payload
 * exactly (half of the placeable packets are delivered placed). At teardown, once the
 * sockets are freed the engines hold 0 bytes, and once the engines are freed the
 * allocators have 0 bytes live.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "homa/homa_core.h"
#include "homa_pktbuild.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                      \
	do {                                                                             \
		if (!(cond))                                                             \
			abort();                                                         \
	} while (0)

#define MAX_QUEUE    256
#define MAX_PKT	     2048
#define MAX_SENT     512
#define MAX_HELD     32
#define REGION_PAGES 20
#define REGION_LEN   ((size_t)REGION_PAGES << HOMA_BPAGE_SHIFT)
#define SERVER_PORT  99
#define NUM_OPS	     18
#define RUN_BUDGET   4096

struct qpkt {
	int from, to;
	size_t len;
	uint8_t bytes[MAX_PKT];
};

struct counting_alloc {
	size_t live;
	size_t base; /* the engine object, which mem_in_use leaves out */
	uint64_t count;
	uint64_t fail_every; /* 0: never */
	uint64_t fail_at;    /* fail when count reaches it (0: never) */
};

struct sent_rpc {
	int engine;
	uint64_t id;
	int delivered;	    /* the response reached the client */
	uint64_t served_at; /* the request reached the server application (0: not) */
};

struct held_req {
	int engine;
	uint64_t id;
	struct homa_endpoint peer;
};

struct held_pages {
	int engine, sock;
	uint32_t n;
	uint32_t offsets[HOMA_MAX_BPAGES];
};

struct world {
	uint64_t now;
	struct homa_engine *e[2];
	struct homa_sock *s[2][2]; /* [engine][0 client, 1 server]; NULL once freed */
	struct homa_addr addr[3];
	struct counting_alloc alloc[2];
	struct qpkt *q[MAX_QUEUE];
	int nq;
	struct sent_rpc sent[MAX_SENT];
	int nsent;
	struct held_req held[MAX_HELD];
	int nheld;
	struct held_pages pages[MAX_HELD];
	int npages;
	int budget; /* RUN steps left */
	uint16_t client_port[2];
	uint64_t tombstone_ns;
};

static struct world W;
static uint8_t regions[2][2][REGION_LEN] __attribute__((aligned(4096)));
static uint8_t payload[HOMA_MAX_MESSAGE_LENGTH];

/* ------------------------------------------------------------- memory */

static void *c_alloc(void *ctx, size_t size)
{
	struct counting_alloc *a = ctx;
	void *p;

	a->count++;
	if ((a->fail_every != 0 && a->count % a->fail_every == 0) ||
	    a->count == a->fail_at)
		return NULL;
	p = malloc(size);
	if (p != NULL)
		a->live += size;
	return p;
}

static void c_free(void *ctx, void *p, size_t size)
{
	struct counting_alloc *a = ctx;

	CHECK(a->live >= size);
	a->live -= size;
	free(p);
}

/* ---------------------------------------------------------- callbacks */

static int engine_of(const struct homa_addr *a)
{
	if (homa_addr_equal(a, &W.addr[0]))
		return 0;
	if (homa_addr_equal(a, &W.addr[1]))
		return 1;
	return -1;
}

static void cb_send(void *user, struct homa_sock *sock, const struct homa_endpoint *dst,
		    int priority, const uint8_t *hdr, size_t hdr_len, const uint8_t *pl,
		    size_t pl_len)
{
	int from = (int)(intptr_t)user, to = engine_of(&dst->addr);
	struct qpkt *p;

	(void)sock;
	CHECK(priority >= 0 && priority < HOMA_MAX_PRIORITIES);
	CHECK(hdr_len >= HOMA_COMMON_HDR_LEN && hdr_len <= HOMA_MAX_HDR_LEN);
	CHECK(hdr_len + pl_len <= MAX_PKT);
	if (to < 0 || W.nq == MAX_QUEUE)
		return;
	p = malloc(sizeof(*p));
	CHECK(p != NULL);
	p->from = from;
	p->to = to;
	p->len = hdr_len + pl_len;
	memcpy(p->bytes, hdr, hdr_len);
	if (pl_len)
		memcpy(p->bytes + hdr_len, pl, pl_len);
	W.q[W.nq++] = p;
}

static const struct homa_callbacks callbacks = {cb_send, NULL, NULL};

/* --------------------------------------------------------- invariants */

static void check_engine(int i)
{
	uint64_t incoming, bound;

	CHECK(homa_engine_mem_in_use(W.e[i]) + W.alloc[i].base == W.alloc[i].live);
	homa_engine_grant_state(W.e[i], &incoming, &bound);
	CHECK(incoming <= bound);
}

static void check_all(void)
{
	check_engine(0);
	check_engine(1);
}

/* ------------------------------------------------------------ helpers */

static int in_region(int e, const uint8_t *p, size_t len)
{
	for (int s = 0; s < 2; s++)
		if (p >= regions[e][s] && len <= REGION_LEN &&
		    p + len <= regions[e][s] + REGION_LEN)
			return 1;
	return 0;
}

/*
 * Every packet is also offered to homa_engine_rx_place(); every other one
 * it accepts is delivered the placed way (payload written into the spans,
 * then homa_engine_input_placed), as the runtime does.
 */
static void input(int to, int from_addr, const uint8_t *b, size_t n)
{
	static unsigned int flip;
	struct homa_place pl;
	size_t done = HOMA_DATA_HDR_LEN;
	int k = homa_engine_rx_place(W.e[to], &W.addr[from_addr], b, n, n, &pl);

	CHECK(k >= 0 && k <= HOMA_PLACE_MAX_SPANS);
	if (k == 0 || (flip++ & 1)) {
		homa_engine_input(W.e[to], &W.addr[from_addr], b, n, W.now);
		return;
	}
	CHECK(pl.num_spans == (unsigned int)k && pl.hdr_len == HOMA_DATA_HDR_LEN &&
	      pl.payload_len == n - HOMA_DATA_HDR_LEN);
	for (int i = 0; i < k; i++) {
		CHECK(pl.spans[i].len > 0 &&
		      in_region(to, pl.spans[i].base, pl.spans[i].len));
		memcpy(pl.spans[i].base, b + done, pl.spans[i].len);
		done += pl.spans[i].len;
	}
	CHECK(done == n);
	homa_engine_input_placed(W.e[to], &W.addr[from_addr], b, HOMA_DATA_HDR_LEN, &pl,
				 W.now);
}

static void deliver(int i)
{
	struct qpkt *p = W.q[i];

	memmove(&W.q[i], &W.q[i + 1], (size_t)(W.nq - i - 1) * sizeof(W.q[0]));
	W.nq--;
	input(p->to, p->from, p->bytes, p->len);
	free(p);
}

static void fire_timers(void)
{
	for (int i = 0; i < 2; i++)
		if (homa_engine_next_timeout(W.e[i]) <= W.now)
			homa_engine_handle_timeout(W.e[i], W.now);
}

static uint32_t length_of(uint8_t a, uint8_t b, uint8_t c)
{
	uint32_t len = 1 + ((uint32_t)(b << 8 | c) << ((a >> 1) & 3));

	if ((a >> 5) == 7)
		return (a & 1) ? 0 : HOMA_MAX_MESSAGE_LENGTH + 1;
	if ((a >> 5) == 5)
		return HOMA_MAX_MESSAGE_LENGTH;
	return len;
}

static void check_msg(int eng, int sock, const struct homa_recv_msg *m)
{
	uint32_t k;

	(void)eng;
	(void)sock;
	CHECK(m->num_bpages <= HOMA_MAX_BPAGES);
	if (m->error != 0) {
		CHECK(m->error > 0);
		CHECK(m->num_bpages == 0);
		return;
	}
	CHECK(m->length >= 1 && m->length <= HOMA_MAX_MESSAGE_LENGTH);
	CHECK(m->num_bpages == (m->length + HOMA_BPAGE_SIZE - 1) >> HOMA_BPAGE_SHIFT);
	for (k = 0; k < m->num_bpages; k++) {
		uint32_t in_page = k + 1 < m->num_bpages
				       ? HOMA_BPAGE_SIZE
				       : m->length - k * HOMA_BPAGE_SIZE;

		CHECK((size_t)m->bpage_offsets[k] + in_page <= REGION_LEN);
	}
}

/* A response: its id was sent by this engine's client and is delivered once. */
static void check_response(int eng, const struct homa_recv_msg *m)
{
	int i;

	CHECK((m->id & 1) == 0);
	for (i = 0; i < W.nsent; i++)
		if (W.sent[i].engine == eng && W.sent[i].id == m->id)
			break;
	if (i == W.nsent)
		CHECK(W.nsent == MAX_SENT); /* only an id we could not record */
	else {
		CHECK(!W.sent[i].delivered);
		W.sent[i].delivered = 1;
	}
}

/*
 * A request of the other engine's client reaches this server at most once
 * while its tombstone must live (tombstone_ns after the RPC ended, so
 * certainly within tombstone_ns of the first delivery), even if its packets
 * were duplicated, delayed, mutated or replayed.
 */
static void check_request(int eng, const struct homa_recv_msg *m)
{
	int i;

	if (!homa_addr_equal(&m->peer.addr, &W.addr[!eng]) || W.s[!eng][0] == NULL ||
	    m->peer.port != W.client_port[!eng])
		return;
	for (i = 0; i < W.nsent; i++) {
		struct sent_rpc *r = &W.sent[i];

		if (r->engine != !eng || r->id != (m->id ^ 1))
			continue;
		if (r->served_at != 0)
			CHECK(W.now - r->served_at >= W.tombstone_ns);
		r->served_at = W.now;
	}
}

static void take(int eng, int sock, const struct homa_recv_msg *m, int keep)
{
	check_msg(eng, sock, m);
	if (sock == 0)
		check_response(eng, m);
	else if (m->error == 0)
		check_request(eng, m);
	if (sock == 1 && m->error == 0 && W.nheld < MAX_HELD) {
		CHECK(m->id & 1);
		W.held[W.nheld].engine = eng;
		W.held[W.nheld].id = m->id;
		W.held[W.nheld].peer = m->peer;
		W.nheld++;
	}
	if (m->num_bpages == 0)
		return;
	if (keep && W.npages < MAX_HELD) {
		struct held_pages *h = &W.pages[W.npages++];

		h->engine = eng;
		h->sock = sock;
		h->n = m->num_bpages;
		memcpy(h->offsets, m->bpage_offsets, sizeof(h->offsets));
		return;
	}
	CHECK(homa_sock_release_bpages(W.s[eng][sock], m->bpage_offsets, m->num_bpages) ==
	      0);
}

/* ---------------------------------------------------------- operations */

static void op_send(uint8_t a, uint8_t b, uint8_t c)
{
	int e = a & 1;
	struct homa_sock *s = W.s[e][0];
	struct homa_endpoint dst;
	struct homa_iov iov;
	uint64_t id = 0;
	int err;

	if (s == NULL)
		return;
	dst.addr = W.addr[!e];
	dst.port = (a >> 5) == 6 ? 0 : SERVER_PORT;
	iov.base = payload;
	iov.len = length_of(a, b, c);
	/* payload is static and never changes: it may be lent (BORROW). */
	err = homa_sock_send_request(s, &dst, &iov, 1, 7,
				     ((a >> 4) & 1 ? HOMA_SENDMSG_PRIVATE : 0) |
					 ((a >> 3) & 1 ? HOMA_SENDMSG_BORROW : 0),
				     W.now, &id);
	if (err == 0) {
		CHECK(id != 0 && (id & 1) == 0);
		if (W.nsent < MAX_SENT) {
			W.sent[W.nsent].engine = e;
			W.sent[W.nsent].id = id;
			W.sent[W.nsent].delivered = 0;
			W.nsent++;
		}
	} else {
		CHECK(err == -EINVAL || err == -ENOMEM || err == -EAGAIN ||
		      err == -ESHUTDOWN);
	}
}

static void op_raw(uint8_t a, uint8_t b, uint8_t c, const uint8_t **data, size_t *left)
{
	size_t n = (size_t)a + 256 * (size_t)((c >> 2) & 7);
	int to = b & 1, src = c & 3;

	if (n > *left)
		n = *left;
	input(to, src == 0 ? !to : src == 1 ? to : 2, *data, n);
	*data += n;
	*left -= n;
}

static void op_mutate(uint8_t a, uint8_t b, uint8_t c)
{
	struct qpkt *p;
	uint8_t buf[MAX_PKT];
	size_t n;

	if (W.nq == 0)
		return;
	p = W.q[a % W.nq];
	n = p->len;
	memcpy(buf, p->bytes, n);
	if (c == 0)
		n = b % n;
	else
		buf[b % n] ^= c;
	input(p->to, p->from, buf, n);
}

static void op_clock(uint8_t a, uint8_t b)
{
	uint64_t d = ((uint64_t)b + 1) << (a % 32);

	W.now += d;
	fire_timers();
}

static void op_recv(uint8_t a, uint8_t b)
{
	int e = a & 1, sock = (a >> 1) & 1;
	struct homa_recv_msg m;
	int err;

	if (W.s[e][sock] == NULL)
		return;
	err = homa_sock_recv(W.s[e][sock], 0, W.now, &m);
	if (err == 0)
		take(e, sock, &m, b & 1);
	else
		CHECK(err == -EAGAIN || err == -ESHUTDOWN || err == -EINVAL);
}

static void op_private_recv(uint8_t a, uint8_t b)
{
	int e = a & 1;
	struct homa_recv_msg m;
	int err;

	if (W.s[e][0] == NULL || W.nsent == 0)
		return;
	err = homa_sock_recv(W.s[e][0], W.sent[b % W.nsent].id, W.now, &m);
	if (err == 0)
		take(e, 0, &m, 0);
	else
		CHECK(err == -EAGAIN || err == -ESHUTDOWN || err == -EINVAL);
}

static void op_reply(uint8_t a, uint8_t b, uint8_t c)
{
	struct held_req h;
	struct homa_iov iov;
	int err, i;

	if (W.nheld == 0)
		return;
	i = a % W.nheld;
	h = W.held[i];
	W.nheld--;
	W.held[i] = W.held[W.nheld];
	if (W.s[h.engine][1] == NULL)
		return;
	iov.base = payload;
	iov.len = length_of((uint8_t)(a & 0x1f), b, c);
	err = homa_sock_reply(W.s[h.engine][1], h.id, &h.peer, &iov, 1, W.now);
	CHECK(err <= 0);
}

static void op_release(uint8_t a)
{
	struct held_pages h;
	int i;

	if (W.npages == 0)
		return;
	i = a % W.npages;
	h = W.pages[i];
	W.npages--;
	W.pages[i] = W.pages[W.npages];
	if (W.s[h.engine][h.sock] != NULL)
		CHECK(homa_sock_release_bpages(W.s[h.engine][h.sock], h.offsets, h.n) ==
		      0);
}

static void op_abort(uint8_t a, uint8_t b, uint8_t c)
{
	int e = a & 1, err;
	uint64_t id = 0;

	if (W.s[e][0] == NULL)
		return;
	if (!(c & 1) && W.nsent > 0)
		id = W.sent[b % W.nsent].id;
	err = homa_sock_abort(W.s[e][0], id, (c >> 1) % 4 == 0 ? 0 : ECANCELED, W.now);
	CHECK(err == 0 || err == -EINVAL || err == -ESHUTDOWN);
}

/* Held bpages of a socket die with it. */
static void forget_socket(int e, int sock)
{
	int i;

	for (i = 0; i < W.npages;)
		if (W.pages[i].engine == e && W.pages[i].sock == sock) {
			W.npages--;
			W.pages[i] = W.pages[W.npages];
		} else
			i++;
}

static void op_shutdown(uint8_t a)
{
	int e = a & 1, sock = (a >> 1) & 1;

	if (W.s[e][sock] != NULL)
		homa_sock_shutdown(W.s[e][sock], W.now);
}

static void op_allocs(uint8_t a, uint8_t b)
{
	for (int i = 0; i < 2; i++) {
		W.alloc[i].fail_every = a;
		W.alloc[i].fail_at = b ? W.alloc[i].count + b : 0;
	}
}

static void op_run(uint8_t a)
{
	int steps = 32 * (a % 16 + 1);

	while (steps-- > 0 && W.budget-- > 0) {
		uint64_t t0 = homa_engine_next_timeout(W.e[0]);
		uint64_t t1 = homa_engine_next_timeout(W.e[1]);
		uint64_t t = t0 < t1 ? t0 : t1;

		if (W.nq > 0) {
			deliver(0);
		} else if (t != UINT64_MAX && t <= W.now + 10000000000ull) {
			if (t > W.now)
				W.now = t;
			fire_timers();
		} else {
			return;
		}
		check_all();
	}
}

static void op_unreach(uint8_t a, uint8_t b, uint8_t c)
{
	static const int errs[] = {ENOTCONN, EHOSTUNREACH, EPROTONOSUPPORT};
	int e = a & 1;

	homa_engine_unreachable(W.e[e], &W.addr[!e], (b & 1) ? SERVER_PORT : 0,
				errs[c % 3], W.now);
}

static void op_server(uint8_t a, uint8_t b)
{
	int e = a & 1;

	if (W.s[e][1] != NULL)
		homa_sock_set_server(W.s[e][1], b & 1);
}

static void execute(uint8_t op, uint8_t a, uint8_t b, uint8_t c, const uint8_t **data,
		    size_t *left)
{
	switch (op % NUM_OPS) {
	case 0:
		op_send(a, b, c);
		break;
	case 1:
		if (W.nq)
			deliver(a % W.nq);
		break;
	case 2:
		if (W.nq) {
			int i = a % W.nq;

			free(W.q[i]);
			W.nq--;
			W.q[i] = W.q[W.nq];
		}
		break;
	case 3:
		if (W.nq && W.nq < MAX_QUEUE) {
			struct qpkt *p = malloc(sizeof(*p));

			CHECK(p != NULL);
			memcpy(p, W.q[a % W.nq], sizeof(*p));
			W.q[W.nq++] = p;
		}
		break;
	case 4:
		if (W.nq) {
			struct qpkt *t = W.q[a % W.nq];

			W.q[a % W.nq] = W.q[b % W.nq];
			W.q[b % W.nq] = t;
		}
		break;
	case 5:
		op_raw(a, b, c, data, left);
		break;
	case 6:
		op_mutate(a, b, c);
		break;
	case 7:
		op_clock(a, b);
		break;
	case 8:
		op_recv(a, b);
		break;
	case 9:
		op_reply(a, b, c);
		break;
	case 10:
		op_release(a);
		break;
	case 11:
		op_abort(a, b, c);
		break;
	case 12:
		op_shutdown(a);
		break;
	case 13:
		op_allocs(a, b);
		break;
	case 14:
		op_run(a);
		break;
	case 15:
		op_unreach(a, b, c);
		break;
	case 16:
		op_private_recv(a, b);
		break;
	default:
		op_server(a, b);
		break;
	}
}

/* ------------------------------------------------------ setup/teardown */

static int setup(void)
{
	struct homa_settings st;
	int i, j;

	memset(&W, 0, sizeof(W));
	W.now = 1000;
	W.budget = RUN_BUDGET;
	homa_addr_from_ipv4(&W.addr[0], 0x0a000001u);
	homa_addr_from_ipv4(&W.addr[1], 0x0a000002u);
	homa_addr_from_ipv4(&W.addr[2], 0x0a000009u);
	homa_settings_default(&st);
	W.tombstone_ns = st.tombstone_ns;
	/* Small caps so that the fuzzer reaches them. */
	st.max_server_rpcs_per_peer = 8;
	st.max_rpcs_per_socket = 16;
	st.max_peers = 4;
	/* Tombstones keep their default cap: with a small one, at-most-once
	 * would end by design (the oldest dropped) and check_request could not
	 * tell. */
	for (i = 0; i < 2; i++) {
		struct homa_allocator a = {c_alloc, c_free, &W.alloc[i]};

		CHECK(homa_engine_new(&st, &callbacks, (void *)(intptr_t)i, &a,
				      77 + (uint64_t)i, W.now, &W.e[i]) == 0);
		W.alloc[i].base = W.alloc[i].live;
		for (j = 0; j < 2; j++) {
			CHECK(homa_sock_new(W.e[i], &W.s[i][j]) == 0);
			CHECK(homa_sock_set_rcvbuf(W.s[i][j], regions[i][j],
						   REGION_LEN) == 0);
		}
		CHECK(homa_sock_bind(W.s[i][1], SERVER_PORT) == 0);
		W.client_port[i] = homa_sock_port(W.s[i][0]);
	}
	return 0;
}

static void teardown(void)
{
	int i, j;

	/* Drain the queue: a packet arriving after everything must be harmless. */
	while (W.nq > 0)
		deliver(W.nq - 1);
	check_all();
	for (i = 0; i < 2; i++) {
		W.alloc[i].fail_every = 0;
		W.alloc[i].fail_at = 0;
	}
	for (i = 0; i < 2; i++)
		for (j = 0; j < 2; j++) {
			homa_sock_free(W.s[i][j], W.now);
			W.s[i][j] = NULL;
			forget_socket(i, j);
		}
	/* Packets sent while closing (acks) go nowhere. */
	while (W.nq > 0) {
		free(W.q[W.nq - 1]);
		W.nq--;
	}
	for (i = 0; i < 2; i++) {
		CHECK(homa_engine_mem_in_use(W.e[i]) == 0);
		homa_engine_free(W.e[i]);
		CHECK(W.alloc[i].live == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data;
	size_t left = size;

	if (payload[1] == 0)
		hpb_pattern_fill(payload, 0, sizeof(payload));
	setup();
	while (left >= 4) {
		uint8_t op = p[0], a = p[1], b = p[2], c = p[3];

		p += 4;
		left -= 4;
		execute(op, a, b, c, &p, &left);
		check_all();
	}
	teardown();
	return 0;
}
