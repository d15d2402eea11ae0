/*
 * homa_sock.c - the socket API (reference sections 3, 4.2, 4.3, 4.7, 11).
 *
 * Ports: servers bind 1..32767; every socket first gets a client port drawn
 * at random from 32768..65535 (fix 12.3: the reference counts up from 32768,
 * which makes ports, and so traffic, predictable). Sockets are found by port
 * through a small chained table.
 */
#include "homa_internal.h"

#include "homa_peer.h"
#include "homa_rpc.h"

#define CLIENT_PORTS (65536u - HOMA_MIN_DEFAULT_PORT)

int homa_sock_fail(struct homa_sock *s, int err, const char *msg)
{
	size_t n = strlen(msg);

	if (n >= sizeof(s->error_msg))
		n = sizeof(s->error_msg) - 1;
	memcpy(s->error_msg, msg, n);
	s->error_msg[n] = '\0';
	return err;
}

struct homa_sock *homa_sock_find(const struct homa_engine *e, uint16_t port)
{
	struct homa_sock *s;

	for (s = e->ports[port % HOMA_PORT_BUCKETS]; s != NULL; s = s->port_next)
		if (s->port == port)
			return s;
	return NULL;
}

static void port_link(struct homa_sock *s, uint16_t port)
{
	struct homa_engine *e = s->e;

	s->port = port;
	s->port_next = e->ports[port % HOMA_PORT_BUCKETS];
	e->ports[port % HOMA_PORT_BUCKETS] = s;
}

static void port_unlink(struct homa_sock *s)
{
	struct homa_sock **pp = &s->e->ports[s->port % HOMA_PORT_BUCKETS];

	while (*pp != NULL && *pp != s)
		pp = &(*pp)->port_next;
	if (*pp == s)
		*pp = s->port_next;
	s->port_next = NULL;
}

/* A random free client port; 0 if all are taken. */
static uint16_t pick_client_port(struct homa_engine *e)
{
	uint32_t start = (uint32_t)(homa_engine_random(e) % CLIENT_PORTS), i;

	for (i = 0; i < CLIENT_PORTS; i++) {
		uint16_t port =
		    (uint16_t)(HOMA_MIN_DEFAULT_PORT + (start + i) % CLIENT_PORTS);

		if (homa_sock_find(e, port) == NULL)
			return port;
	}
	return 0;
}

static int sock_new(struct homa_engine *e, struct homa_sock **out)
{
	uint16_t port = pick_client_port(e);
	struct homa_sock *s;

	if (port == 0)
		return -EADDRNOTAVAIL;
	s = homa_mem_zalloc(&e->mem, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->e = e;
	homa_list_init(&s->rpcs);
	homa_list_init(&s->ready);
	homa_list_init(&s->bufwait);
	homa_list_insert_before(&e->socks, &s->link);
	e->num_socks++;
	port_link(s, port);
	*out = s;
	return 0;
}

int homa_sock_bind(struct homa_sock *s, uint16_t port)
{
	struct homa_sock *other;

	if (s->shutdown)
		return homa_sock_fail(s, -ESHUTDOWN, "socket is shut down");
	if (port == 0)
		return 0;
	if (port >= HOMA_MIN_DEFAULT_PORT)
		return homa_sock_fail(s, -EINVAL, "server ports must be 1..32767");
	other = homa_sock_find(s->e, port);
	if (other == s)
		return 0;
	if (other != NULL)
		return homa_sock_fail(s, -EADDRINUSE, "port already in use");
	port_unlink(s);
	port_link(s, port);
	s->is_server = 1;
	return 0;
}

int homa_sock_set_server(struct homa_sock *s, int enable)
{
	if (s->shutdown)
		return homa_sock_fail(s, -ESHUTDOWN, "socket is shut down");
	s->is_server = enable != 0;
	return 0;
}

int homa_sock_is_server(const struct homa_sock *s)
{
	return s->is_server;
}

uint16_t homa_sock_port(const struct homa_sock *s)
{
	return s->port;
}

void homa_sock_set_user(struct homa_sock *s, void *user)
{
	s->user = user;
}

void *homa_sock_get_user(const struct homa_sock *s)
{
	return s->user;
}

static int sock_set_rcvbuf(struct homa_sock *s, void *region, size_t length)
{
	int err;

	if (s->shutdown)
		return homa_sock_fail(s, -ESHUTDOWN, "socket is shut down");
	if (s->has_pool)
		return homa_sock_fail(s, -EINVAL, "receive region already set");
	if (region == NULL || ((uintptr_t)region & 63) != 0)
		return homa_sock_fail(s, -EINVAL,
				      "receive region must be 64-byte aligned");
	if (length < (size_t)(HOMA_MAX_BPAGES + 1) * HOMA_BPAGE_SIZE ||
	    (uint64_t)length > (1ull << 32))
		return homa_sock_fail(s, -EINVAL,
				      "receive region too small or above 4 GiB");
	err = homa_pool_init(&s->pool, &s->e->mem, length);
	if (err != 0)
		return homa_sock_fail(s, err, "cannot set up the receive pool");
	s->region = region;
	s->region_len = length;
	s->has_pool = 1;
	return 0;
}

/*
 * Fix 12.6: before its RPCs vanish, a closing socket acks every server RPC it
 * may have caused, so servers free them now instead of NEED_ACKing a dead
 * port until they give up.
 */
static void ack_before_close(struct homa_sock *s)
{
	struct homa_link *l;

	for (l = s->rpcs.next; l != &s->rpcs; l = l->next) {
		struct homa_rpc *rpc = homa_container_of(l, struct homa_rpc, sock_link);

		if (homa_rpc_is_client(rpc) && rpc->out.next_xmit != 0)
			homa_peer_ack_push(s->e, rpc->peer, s, rpc->id, rpc->dport);
	}
	homa_peer_flush_acks(s->e, s, 0);
}

static void sock_shutdown(struct homa_sock *s, uint64_t now)
{
	struct homa_engine *e = s->e;

	if (s->shutdown)
		return;
	e->now = now;
	ack_before_close(s);
	port_unlink(s);
	s->shutdown = 1;
	while (!homa_list_empty(&s->rpcs))
		homa_rpc_end(homa_container_of(s->rpcs.next, struct homa_rpc, sock_link),
			     now);
	homa_peer_tomb_drop_port(e, s->port);
}

void homa_sock_free(struct homa_sock *s, uint64_t now)
{
	struct homa_engine *e = s->e;

	/* Acks for its RPCs end them (tombstones) before the socket goes. */
	e->now = now;
	homa_incoming_run_deferred(e);
	sock_shutdown(s, now);
	homa_rpc_table_free(s);
	if (s->has_pool)
		homa_pool_destroy(&s->pool, &e->mem);
	homa_list_remove(&s->link);
	e->num_socks--;
	homa_mem_free(&e->mem, s, sizeof(*s));
	if (e->num_socks == 0) {
		/* Nothing can talk to anyone: give every byte back. */
		homa_peer_tomb_expire(e, UINT64_MAX);
		homa_peer_reclaim(e, 0);
	}
	homa_engine_sync_stats(e);
}

/* ---------------------------------------------------------------- send */

static int check_message(struct homa_sock *s, const struct homa_iov *iov, size_t iovcnt,
			 uint64_t *length)
{
	uint64_t total = 0;
	size_t i;

	if (iov == NULL && iovcnt != 0)
		return homa_sock_fail(s, -EINVAL, "iov is NULL");
	for (i = 0; i < iovcnt; i++) {
		if (iov[i].base == NULL && iov[i].len != 0)
			return homa_sock_fail(s, -EINVAL, "iov entry with NULL base");
		total += iov[i].len;
	}
	if (total == 0 || total > HOMA_MAX_MESSAGE_LENGTH)
		return homa_sock_fail(s, -EINVAL, "message length must be 1..1000000");
	*length = total;
	return 0;
}

/* Send memory (6.6): one message may overshoot an empty budget. */
static int check_wmem(struct homa_sock *s, uint64_t length)
{
	if (s->wmem == 0 || s->wmem + length <= s->e->s.wmem_max)
		return 0;
	s->want_writable = 1;
	s->e->stats.send_memory_full++;
	return homa_sock_fail(s, -EAGAIN, "send memory full");
}

static int sock_send_request(struct homa_sock *s, const struct homa_endpoint *dst,
			     const struct homa_iov *iov, size_t iovcnt, uint64_t cookie,
			     uint32_t flags, uint64_t now, uint64_t *id)
{
	struct homa_rpc *rpc;
	uint64_t length;
	int err;

	s->e->now = now;
	if (s->shutdown)
		return homa_sock_fail(s, -ESHUTDOWN, "socket is shut down");
	if (flags & ~(uint32_t)(HOMA_SENDMSG_PRIVATE | HOMA_SENDMSG_BORROW))
		return homa_sock_fail(s, -EINVAL, "unknown flags");
	if ((flags & HOMA_SENDMSG_BORROW) && iovcnt != 1)
		return homa_sock_fail(s, -EINVAL, "a borrowed message must be one piece");
	if (dst == NULL || dst->port == 0)
		return homa_sock_fail(s, -EINVAL, "destination port 0");
	err = check_message(s, iov, iovcnt, &length);
	if (err == 0)
		err = check_wmem(s, length);
	if (err == 0)
		err = homa_rpc_new_client(s, dst, now, &rpc);
	if (err != 0)
		return err;
	if (flags & HOMA_SENDMSG_BORROW)
		rpc->flags |= RPC_OUT_BORROWED;
	err = homa_outgoing_copy(rpc, iov, iovcnt);
	if (err != 0) {
		homa_rpc_end(rpc, now);
		return homa_sock_fail(s, err, "no memory for the message");
	}
	rpc->cookie = cookie;
	if (flags & HOMA_SENDMSG_PRIVATE)
		rpc->flags |= RPC_PRIVATE;
	if (id != NULL)
		*id = rpc->id;
	s->e->stats.client_requests_started++;
	homa_outgoing_xmit(rpc, now);
	return 0;
}

static int sock_reply(struct homa_sock *s, uint64_t id,
		      const struct homa_endpoint *client, const struct homa_iov *iov,
		      size_t iovcnt, uint64_t now)
{
	struct homa_rpc *rpc;
	uint64_t length;
	int err;

	s->e->now = now;
	if (s->shutdown)
		return homa_sock_fail(s, -ESHUTDOWN, "socket is shut down");
	if (client == NULL)
		return homa_sock_fail(s, -EINVAL, "no client address");
	rpc = homa_rpc_find_server(s, &client->addr, id);
	if (rpc == NULL || rpc->dport != client->port)
		return homa_sock_fail(s, -ENOENT, "no such RPC");
	if (rpc->state != HOMA_RPC_IN_SERVICE)
		return homa_sock_fail(s, -EINVAL, "RPC is not in service");
	err = check_message(s, iov, iovcnt, &length);
	if (err == 0)
		err = check_wmem(s, length);
	if (err == 0 && homa_outgoing_copy(rpc, iov, iovcnt) != 0)
		err = homa_sock_fail(s, -ENOMEM, "no memory for the message");
	if (err != 0)
		return err;
	rpc->state = HOMA_RPC_OUTGOING;
	rpc->silent_ticks = 0;
	homa_rpc_unpark(rpc, now);
	s->e->stats.server_responses_started++;
	homa_outgoing_xmit(rpc, now);
	return 0;
}

/* ---------------------------------------------------------------- recv */

static void fill_msg(const struct homa_rpc *rpc, struct homa_recv_msg *msg)
{
	memset(msg, 0, sizeof(*msg));
	msg->id = rpc->id;
	msg->completion_cookie = homa_rpc_is_client(rpc) ? rpc->cookie : 0;
	msg->peer.addr = rpc->peer->addr;
	msg->peer.port = rpc->dport;
	msg->error = rpc->error;
	if (rpc->error != 0)
		return;
	msg->length = (uint32_t)rpc->in.length;
	msg->num_bpages = rpc->in.num_bpages;
	memcpy(msg->bpage_offsets, rpc->in.bpage_offsets,
	       rpc->in.num_bpages * sizeof(msg->bpage_offsets[0]));
}

static struct homa_rpc *take_ready(struct homa_sock *s, uint64_t id, int *err)
{
	struct homa_rpc *rpc;

	if (id != 0) {
		rpc = homa_rpc_find_client(s, id);
		if (rpc == NULL || !(rpc->flags & RPC_PRIVATE)) {
			*err = homa_sock_fail(s, -EINVAL, "id names no private RPC");
			return NULL;
		}
	} else {
		rpc = homa_list_empty(&s->ready)
			  ? NULL
			  : homa_container_of(s->ready.next, struct homa_rpc, ready_link);
	}
	if (rpc == NULL || !(rpc->flags & RPC_READY)) {
		*err = -EAGAIN;
		return NULL;
	}
	homa_list_remove(&rpc->ready_link);
	rpc->flags &= ~(uint32_t)RPC_READY;
	return rpc;
}

static int sock_recv(struct homa_sock *s, uint64_t id, uint64_t now,
		     struct homa_recv_msg *msg)
{
	struct homa_rpc *rpc;
	int err = 0;

	s->e->now = now;
	if (s->shutdown)
		return homa_sock_fail(s, -ESHUTDOWN, "socket is shut down");
	if (!s->has_pool)
		return homa_sock_fail(s, -EINVAL, "no receive region");
	rpc = take_ready(s, id, &err);
	if (rpc == NULL)
		return err;
	fill_msg(rpc, msg);
	if (rpc->error == 0)
		rpc->flags |= RPC_BUFS_OWNED_BY_APP;
	if (!homa_rpc_is_client(rpc)) {
		rpc->state = HOMA_RPC_IN_SERVICE;
		rpc->silent_ticks = 0;
		return 0;
	}
	if (rpc->error == 0)
		homa_peer_ack_push(s->e, rpc->peer, s, rpc->id, rpc->dport);
	homa_rpc_end(rpc, now);
	return 0;
}

static int sock_release_bpages(struct homa_sock *s, const uint32_t *offsets,
			       uint32_t count)
{
	if (!s->has_pool || (offsets == NULL && count != 0))
		return homa_sock_fail(s, -EINVAL, "no receive region");
	if (homa_pool_release(&s->pool, offsets, count) != 0)
		return homa_sock_fail(s, -EINVAL, "offset not owned by the application");
	homa_incoming_retry_stalled(s, s->e->now);
	return 0;
}

/* --------------------------------------------------------------- abort */

static void abort_one(struct homa_rpc *rpc, int error, uint64_t now)
{
	rpc->sock->e->stats.rpc_aborts++;
	if (error == 0)
		homa_rpc_end(rpc, now);
	else
		homa_rpc_fail(rpc, error, now);
}

static int sock_abort(struct homa_sock *s, uint64_t id, int error, uint64_t now)
{
	struct homa_link *l;

	s->e->now = now;
	if (s->shutdown)
		return homa_sock_fail(s, -ESHUTDOWN, "socket is shut down");
	if (id != 0) {
		struct homa_rpc *rpc = homa_rpc_find_client(s, id);

		if (rpc == NULL)
			return homa_sock_fail(s, -EINVAL, "id names no client RPC");
		abort_one(rpc, error, now);
		return 0;
	}
	for (l = s->rpcs.next; l != &s->rpcs;) {
		struct homa_rpc *rpc = homa_container_of(l, struct homa_rpc, sock_link);

		l = l->next;
		if (homa_rpc_is_client(rpc))
			abort_one(rpc, error, now);
	}
	return 0;
}

/* ---------------------------------------------------------------- info */

int homa_sock_readable(const struct homa_sock *s)
{
	return s->shutdown || !homa_list_empty(&s->ready);
}

int homa_sock_writable(const struct homa_sock *s)
{
	return s->wmem < s->e->s.wmem_max;
}

static void rpc_info(const struct homa_rpc *rpc, struct homa_rpc_info *i)
{
	memset(i, 0, sizeof(*i));
	i->id = rpc->id;
	i->peer.addr = rpc->peer->addr;
	i->peer.port = rpc->dport;
	i->completion_cookie = rpc->cookie;
	i->tx_length = rpc->out.length;
	i->tx_sent = rpc->out.next_xmit;
	i->tx_granted = rpc->out.granted;
	i->tx_prio = rpc->out.sched_prio;
	i->rx_length = rpc->in.length;
	if (rpc->in.length >= 0) {
		i->rx_remaining = rpc->in.gaps.bytes_remaining;
		i->rx_gaps = rpc->in.gaps.num_gaps;
		i->rx_gap_bytes = homa_msgin_gap_bytes(&rpc->in.gaps);
		i->rx_granted = rpc->in.grant.granted;
	}
	i->flags = ((rpc->flags & RPC_BUF_STALL) ? HOMA_RPC_BUF_STALL : 0) |
		   ((rpc->flags & RPC_PRIVATE) ? HOMA_RPC_PRIVATE : 0) |
		   ((rpc->flags & RPC_READY) ? HOMA_RPC_RX_READY : 0);
}

int homa_sock_get_info(const struct homa_sock *s, struct homa_sock_info *info,
		       struct homa_rpc_info *rpcs, size_t max, size_t *count)
{
	const struct homa_link *l;
	size_t n = 0;

	if (info != NULL) {
		memset(info, 0, sizeof(*info));
		info->bpool_avail_bytes =
		    s->has_pool ? homa_pool_avail_bytes(&s->pool) : 0;
		info->port = s->port;
		info->num_rpcs = (uint32_t)s->num_rpcs;
		info->send_memory = s->wmem;
		memcpy(info->error_msg, s->error_msg, sizeof(info->error_msg));
	}
	for (l = s->rpcs.next; l != &s->rpcs; l = l->next, n++)
		if (rpcs != NULL && n < max)
			rpc_info(homa_container_of(l, struct homa_rpc, sock_link),
				 &rpcs[n]);
	if (count != NULL)
		*count = n;
	return 0;
}

const char *homa_sock_error_msg(const struct homa_sock *s)
{
	return s->error_msg;
}

/* ------------------------------------------------------------ wrappers */

/*
 * Every API call that can allocate, grant or send syncs the counters that
 * other modules keep (allocation failures, grant bytes) before returning, so
 * homa_engine_stats() is current without writing through a const engine.
 */

int homa_sock_new(struct homa_engine *e, struct homa_sock **out)
{
	int err = sock_new(e, out);

	homa_engine_sync_stats(e);
	return err;
}

int homa_sock_set_rcvbuf(struct homa_sock *s, void *region, size_t length)
{
	int err = sock_set_rcvbuf(s, region, length);

	homa_engine_sync_stats(s->e);
	return err;
}

void homa_sock_shutdown(struct homa_sock *s, uint64_t now)
{
	sock_shutdown(s, now);
	homa_engine_sync_stats(s->e);
}

int homa_sock_send_request(struct homa_sock *s, const struct homa_endpoint *dst,
			   const struct homa_iov *iov, size_t iovcnt, uint64_t cookie,
			   uint32_t flags, uint64_t now, uint64_t *id)
{
	int err = sock_send_request(s, dst, iov, iovcnt, cookie, flags, now, id);

	homa_engine_sync_stats(s->e);
	return err;
}

int homa_sock_reply(struct homa_sock *s, uint64_t id, const struct homa_endpoint *client,
		    const struct homa_iov *iov, size_t iovcnt, uint64_t now)
{
	int err = sock_reply(s, id, client, iov, iovcnt, now);

	homa_engine_sync_stats(s->e);
	return err;
}

int homa_sock_recv(struct homa_sock *s, uint64_t id, uint64_t now,
		   struct homa_recv_msg *msg)
{
	int err = sock_recv(s, id, now, msg);

	homa_engine_sync_stats(s->e);
	return err;
}

int homa_sock_release_bpages(struct homa_sock *s, const uint32_t *offsets, uint32_t count)
{
	int err = sock_release_bpages(s, offsets, count);

	homa_engine_sync_stats(s->e);
	return err;
}

int homa_sock_abort(struct homa_sock *s, uint64_t id, int error, uint64_t now)
{
	int err = sock_abort(s, id, error, now);

	homa_engine_sync_stats(s->e);
	return err;
}
