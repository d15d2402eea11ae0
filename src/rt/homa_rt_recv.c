/*
 * homa_rt_recv.c - homa_recv(): the fast path.
 *
 * A receiver does its own I/O: it reads its socket's packets with
 * recvmmsg(MSG_DONTWAIT) WITHOUT the engine lock, and takes the lock only
 * when it got packets, when the ready callback signalled something new
 * (ready_gen), or when a timer is due. That keeps a spinning receiver from
 * starving sender threads of the lock, and one 100-byte round trip costs two
 * system calls on each side, as with raw UDP.
 *
 * After poll_usecs of nothing, it sleeps in ppoll() on its socket's fd
 * and wake_efd, with a nanosecond timeout (a 70 us receive timeout sleeps
 * 70 us, not a whole millisecond). Lost wake-ups are impossible: the fd is
 * level-triggered, and sleepers register (sleepers++) under the lock before a
 * last check, so any later ready callback writes wake_efd for them.
 *
 * A receiver that slept does not wake the background thread when it leaves
 * (a cross-core wake-up per message costs ~60 us and CPU on both sides): it
 * only makes sure the bg timer fires by the time the socket falls idle
 * (homa_rt_bg_look_by), so that packets nobody waits for are still read.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include "homa_rt.h"

/* Longest single sleep: bounds how long a lost wake-up could ever last. */
#define HOMA_RT_MAX_SLEEP_NS 1000000000ull

/* Copies an engine result into the caller's struct; returns homa_recv's value. */
static int fill_msg(struct homa_socket *s, const struct homa_recv_msg *m,
		    struct homa_msg *msg)
{
	msg->id = m->id;
	msg->completion_cookie = m->completion_cookie;
	homa_rt_addr_to_sockaddr(&m->peer, s->family, &msg->peer, &msg->peer_len);
	if (m->error) {
		msg->num_bpages = 0;
		msg->length = 0;
		return homa_rt_set_err(s, -m->error, "homa_recv: RPC %llu failed: %s",
				       (unsigned long long)m->id,
				       homa_strerror(m->error));
	}
	msg->num_bpages = m->num_bpages;
	memcpy(msg->bpage_offsets, m->bpage_offsets, sizeof(msg->bpage_offsets));
	msg->length = m->length;
	return (int)m->length;
}

/* One attempt to take a message (lock held; now: a recent clock reading, the
 * caller's, so a message costs no clock read of its own); -EAGAIN if none. */
static int try_take(struct homa_socket *s, uint64_t id, struct homa_msg *msg,
		    uint64_t now)
{
	struct homa_recv_msg m;
	int err = homa_sock_recv(s->core, id, now, &m);

	if (err == -EAGAIN)
		return err;
	homa_rt_sync_ready(s);
	if (err == -EINVAL)
		return homa_rt_set_err(s, err,
				       "homa_recv: id %llu names no private RPC of "
				       "this socket",
				       (unsigned long long)id);
	if (err)
		return homa_rt_core_err(s, err, "homa_recv");
	return fill_msg(s, &m, msg);
}

/*
 * 1 if waiting is hopeless: some message is stalled for lack of bpages and
 * nothing else is arriving that could end the wait (lock held).
 */
static int buffers_exhausted(struct homa_socket *s)
{
	struct homa_sock_info info;
	struct homa_rpc_info *rpcs;
	size_t count = 0, n;
	int stalled = 0, moving = 0;

	/* A message stalls only after the pool refused it once: until then
	 * this costs nothing, instead of a walk over every RPC per sleep. */
	if (!homa_engine_stats(homa_rt_global->engine)->buffer_alloc_failures)
		return 0;
	homa_sock_get_info(s->core, &info, NULL, 0, &count);
	if (!count || !(rpcs = malloc(count * sizeof(*rpcs))))
		return 0;
	homa_sock_get_info(s->core, &info, rpcs, count, &n);
	for (size_t i = 0; i < n && i < count; i++) {
		if (rpcs[i].flags & HOMA_RPC_BUF_STALL)
			stalled = 1;
		else if (rpcs[i].rx_length >= 0 && rpcs[i].rx_remaining > 0)
			moving = 1;
	}
	free(rpcs);
	return stalled && !moving;
}

/* Reads the socket (unless read is 0) and tries to take a message; -EAGAIN
 * if nothing. When it got that far, *now is the clock reading it used.
 * *got (may be NULL) tells whether the read found datagrams. */
static int poll_once(struct homa_rt *rt, struct homa_socket *s, uint64_t id,
		     struct homa_msg *msg, int force, int read, int *got, uint64_t *nowp)
{
	struct homa_rt_rxbatch *b = homa_rt_rxbatch_get();
	int n = b && read ? homa_rt_rx_read(s, b) : 0, r;
	uint64_t now;

	if (got)
		*got = n != 0;
	if (!n && !force)
		return -EAGAIN;
	*nowp = now = homa_rt_now();
	pthread_mutex_lock(&rt->lock);
	homa_rt_rx_input(rt, s, b, n, now);
	if (now >= homa_engine_next_timeout(rt->engine)) {
		homa_engine_handle_timeout(rt->engine, now);
		homa_rt_after_engine(rt);
	}
	r = try_take(s, id, msg, now);
	homa_rt_unlock(rt);
	return r;
}

/* Sleeps until packets or a wake-up arrive; -EAGAIN means "poll again". */
static int sleep_once(struct homa_rt *rt, struct homa_socket *s, uint64_t id,
		      struct homa_msg *msg, uint64_t deadline)
{
	struct pollfd pfd[2] = {{.events = POLLIN}, {.events = POLLIN}};
	uint64_t now, junk, ns = HOMA_RT_MAX_SLEEP_NS;
	struct timespec ts;
	int r, nev, woken = 0;

	now = homa_rt_now();
	pthread_mutex_lock(&rt->lock);
	r = try_take(s, id, msg, now);
	if (r == -EAGAIN && buffers_exhausted(s))
		r = homa_rt_set_err(s, -ENOBUFS,
				    "homa_recv: receive region exhausted; "
				    "hand bpages back");
	if (r == -EAGAIN) {
		s->sleepers++;
		rt->stats.sleeps++;
		pfd[0].fd = s->fd; /* a bind that swaps it wakes the sleepers */
		pfd[1].fd = s->wake_efd;
	}
	homa_rt_unlock(rt);
	if (r != -EAGAIN)
		return r;
	now = homa_rt_now();
	if (deadline != UINT64_MAX)
		ns = deadline > now ? (deadline - now < ns ? deadline - now : ns) : 0;
	ts.tv_sec = (time_t)(ns / 1000000000ull);
	ts.tv_nsec = (long)(ns % 1000000000ull);
	/*
	 * ppoll(), not an epoll set: an fd in an epoll set costs every packet
	 * an epoll callback in the sender's kernel path (~0.2 us per packet
	 * on loopback) even while nobody sleeps; ppoll() hooks the socket's
	 * wait queue only for the sleep.
	 */
	nev = ppoll(pfd, 2, &ts, NULL);
	now = homa_rt_now();
	pthread_mutex_lock(&rt->lock);
	s->sleepers--;
	if (nev > 0) {
		woken = !!(pfd[1].revents & POLLIN);
		if (pfd[0].revents & POLLERR)
			homa_rt_rx_errors(rt, s, now); /* else POLLERR persists */
	}
	/* The bg thread does not watch this socket while receivers come and go;
	 * it must look again once they may have left for good. */
	if (!atomic_load(&s->bg_armed))
		homa_rt_bg_look_by(rt, now + HOMA_RT_IDLE_NS + HOMA_RT_IDLE_NS / 4);
	homa_rt_after_engine(rt);
	homa_rt_unlock(rt);
	/* Only a signalled semaphore needs reading: one system call less for
	 * a receiver woken by its packets. */
	if (woken && read(s->wake_efd, &junk, sizeof(junk)) < 0) {
		/* another sleeper took it: harmless */
	}
	/* -ETIME: slept through without news; polling again would only burn
	 * a core on an idle socket. -EAGAIN: something arrived, poll again. */
	return nev > 0 ? -EAGAIN : -ETIME;
}

/*
 * Polling time is charged per iteration, capped at HOMA_RT_POLL_STEP_NS: on a
 * loaded machine a spinning thread is often descheduled for milliseconds,
 * and counting that wall time would send it to sleep (and cost a ~60 us
 * wake-up) right after it finally runs again, exactly when its peer answers.
 */
#define HOMA_RT_POLL_STEP_NS 5000
/*
 * After this much empty polling the loop yields the CPU, and then again once
 * per HOMA_RT_YIELD_EVERY_NS. Yielding on every turn instead made most turns
 * a sched_yield() (~0.8 us on this VM, against ~0.5 us for an empty read),
 * so a message waited longer to be seen (docs/perf.md, seventh session).
 */
#define HOMA_RT_YIELD_AFTER_NS 2000
#define HOMA_RT_YIELD_EVERY_NS 2000
/*
 * With a doorbell (homa_rt_doorbell.c) a turn reads the socket only when
 * the kernel's counter moved. The filter bumps it just before the datagram
 * is queued, so after a ring the loop keeps reading until a read comes back
 * empty at least HOMA_RT_BELL_LAG_NS later. Every HOMA_RT_BELL_SAFETY_NS it
 * reads anyway: ICMP errors do not ring, and a datagram queued later than
 * the lag allows must not wait for the next one.
 */
#define HOMA_RT_BELL_LAG_NS    1000
#define HOMA_RT_BELL_SAFETY_NS 20000

struct bell_state {
	const _Atomic uint64_t *counter; /* NULL: read on every turn */
	const atomic_int *off;		 /* the socket's bell_off */
	uint64_t rung;			 /* counter value last acted on */
	uint64_t rung_at;		 /* when it was seen to move */
	int pending;			 /* reading until an empty read after the lag */
	uint64_t last_read, last_yield;
};

/* 1 if this turn must read the socket. */
static int bell_should_read(struct bell_state *b, uint64_t now)
{
	uint64_t v;

	if (!b->counter || atomic_load_explicit(b->off, memory_order_relaxed))
		return 1;
	v = atomic_load_explicit(b->counter, memory_order_acquire);
	if (v != b->rung) {
		b->rung = v;
		b->rung_at = now;
		b->pending = 1;
	}
	return b->pending || now - b->last_read >= HOMA_RT_BELL_SAFETY_NS;
}

static void bell_after_read(struct bell_state *b, int got, uint64_t now)
{
	b->last_read = now;
	if (!got && now - b->rung_at >= HOMA_RT_BELL_LAG_NS)
		b->pending = 0;
}

/* 1 if a spinner past HOMA_RT_YIELD_AFTER_NS should yield on this turn. */
static int should_yield(struct bell_state *b, uint64_t now)
{
	if (now - b->last_yield < HOMA_RT_YIELD_EVERY_NS)
		return 0;
	b->last_yield = now;
	return 1;
}

static int wait_loop(struct homa_rt *rt, struct homa_socket *s, uint64_t id,
		     struct homa_msg *msg, uint64_t now)
{
	uint64_t timeo = atomic_load(&s->rcvtimeo_us);
	uint64_t budget = (uint64_t)rt->cfg.poll_usecs * 1000, spent = 0, last = now;
	uint64_t deadline = timeo ? now + timeo * 1000 : UINT64_MAX, seen = 0;
	struct bell_state bell = {.counter = s->bell.counter, .off = &s->bell_off};
	int r, got = 0;

	bell.last_yield = now;
	if (bell.counter) {
		/* The first turn reads; an empty read there ends the ring. */
		bell.rung = atomic_load_explicit(bell.counter, memory_order_acquire);
		bell.rung_at = now - HOMA_RT_BELL_LAG_NS;
		bell.pending = 1;
		bell.last_read = now;
	}
	atomic_fetch_add(&s->waiters, 1);
	for (;;) {
		uint64_t gen = atomic_load(&s->ready_gen);
		int due = now >= atomic_load(&rt->next_timeout);
		int read;

		if (atomic_load(&s->shut)) {
			r = homa_rt_set_err(s, -ESHUTDOWN, "homa_recv: socket shut down");
			break;
		}
		/* Not a read-modify-write (~20 ns a turn): a bump lost to another
		 * spinner's is harmless, the bg thread only asks if it moved. */
		atomic_store_explicit(
		    &s->spin_beat,
		    atomic_load_explicit(&s->spin_beat, memory_order_relaxed) + 1,
		    memory_order_relaxed);
		read = bell_should_read(&bell, now);
		if (read || gen != seen || due)
			r = poll_once(rt, s, id, msg, gen != seen || due, read, &got,
				      &now);
		else
			r = -EAGAIN;
		if (read && !got)
			atomic_fetch_add_explicit(&s->empty_reads, 1,
						  memory_order_relaxed);
		if (read && got && bell.counter && !bell.pending)
			/* found by a safety read: queued after the lag */
			atomic_fetch_add_explicit(&s->bell_late, 1, memory_order_relaxed);
		if (read && bell.counter)
			bell_after_read(&bell, got, now);
		seen = gen;
		if (r != -EAGAIN)
			break;
		now = homa_rt_now();
		if (now >= deadline) {
			msg->id = 0;
			r = -ETIMEDOUT; /* routine for pollers: no text */
			break;
		}
		spent +=
		    now - last < HOMA_RT_POLL_STEP_NS ? now - last : HOMA_RT_POLL_STEP_NS;
		last = now;
		if (spent < budget) {
			/* A spinner must not hold a shared core for a whole time
			 * slice while its peer (or our bg thread) waits for it;
			 * yielding costs ~0.8 us here even when nobody else wants
			 * the core, hence only once per HOMA_RT_YIELD_EVERY_NS. */
			if (spent > HOMA_RT_YIELD_AFTER_NS && should_yield(&bell, now))
				sched_yield();
			continue;
		}
		r = sleep_once(rt, s, id, msg, deadline);
		if (r == -ETIME) {
			last = now = homa_rt_now(); /* budget stays spent: sleep again */
			continue;
		}
		if (r != -EAGAIN)
			break;
		spent = 0;
		last = now = homa_rt_now();
	}
	/* now: at most one turn old (the last read's, when it found a message) */
	atomic_store(&s->last_wait_ns, now);
	atomic_fetch_sub(&s->waiters, 1);
	return r;
}

int homa_recv(struct homa_socket *s, struct homa_msg *msg, int flags)
{
	struct homa_rt *rt = homa_rt_global;
	uint64_t id, now;
	int r = 0, held;

	if (!s || !msg || msg->num_bpages > HOMA_MAX_BPAGES ||
	    (flags & ~HOMA_RECV_NONBLOCK))
		return s ? homa_rt_set_err(s, -EINVAL, "homa_recv: bad arguments")
			 : -EINVAL;
	id = msg->id;
	pthread_mutex_lock(&rt->lock);
	held = homa_rt_txq_pending(rt);
	if (held && !(id == 0 && homa_sock_readable(s->core))) {
		/* Nothing to return at once: what HOMA_SEND_MORE held leaves
		 * now, before the work below (a round trip waits for it). */
		homa_rt_txq_flush_then_acks(rt);
		held = 0;
	}
	now = homa_rt_now(); /* for the engine and, if it comes to that, the wait */
	if (atomic_load(&s->shut))
		r = homa_rt_set_err(s, -ESHUTDOWN, "homa_recv: socket shut down");
	if (!r && msg->num_bpages &&
	    homa_sock_release_bpages(s->core, msg->bpage_offsets, msg->num_bpages))
		r = homa_rt_set_err(s, -EINVAL,
				    "homa_recv: a returned bpage offset is not "
				    "held by the application");
	msg->num_bpages = 0;
	if (!r)
		r = homa_rt_ensure_rcvbuf(rt, s);
	if (!r)
		r = try_take(s, id, msg, now);
	homa_rt_after_engine(rt);
	/* Packets held by HOMA_SEND_MORE stay held while messages are ready
	 * (a server answering a batch of requests); they leave before any
	 * polling, waiting or -EAGAIN. */
	if (held && r > 0)
		homa_rt_unlock_hold(rt);
	else
		homa_rt_unlock(rt);
	if (r != -EAGAIN)
		return r;
	if ((flags & HOMA_RECV_NONBLOCK) || atomic_load(&s->nonblock)) {
		/* A non-blocking poller is a receiver too: the background thread
		 * leaves its packets to it for HOMA_RT_IDLE_NS. -EAGAIN is
		 * routine here, so no error text is formatted. */
		r = poll_once(rt, s, id, msg, 0, 1, NULL, &now);
		atomic_store(&s->last_wait_ns, now);
		return r;
	}
	return wait_loop(rt, s, id, msg, now);
}
