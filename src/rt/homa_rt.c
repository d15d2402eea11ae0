/*
 * homa_rt.c - the process-wide runtime: one engine, one lock, one background
 * thread, and the engine's callbacks.
 *
 * Why one engine per process: Homa's grant scheduler and pacer reason about
 * the host's link as a whole; two engines would each believe they own it.
 *
 * Why the background thread stays out of the way: on the target machines a
 * thread woken on another core costs ~60 us, twenty times a polling round
 * trip. So application threads do their own I/O (homa_rt_recv.c) and the
 * background thread only (a) runs timers and the pacer, sleeping on a
 * timerfd set to homa_engine_next_timeout(), and (b) reads packets of
 * sockets on which no application thread has waited recently. While a
 * receiver is around, the socket's fd is disarmed in the background epoll
 * set, so packet arrivals do not wake the background thread at all; it is
 * re-armed HOMA_RT_IDLE_NS after the last receiver left. Nobody wakes the
 * background thread to do that: it looks at its sockets when its timer
 * fires, and whoever needs a look by some time (a receiver leaving, the
 * bg thread itself) moves the timer earlier if it is not due by then
 * (homa_rt_bg_look_by).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "homa_rt.h"

/* The bg epoll data of the timerfd and stop eventfd (sockets use serial). */
#define HOMA_RT_EV_TIMER 0
#define HOMA_RT_EV_STOP	 1

struct homa_rt *homa_rt_global;
static pthread_mutex_t homa_rt_init_lock = PTHREAD_MUTEX_INITIALIZER;
static char homa_rt_errmsg[160];

uint64_t homa_rt_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

const char *homa_last_error_msg(void)
{
	return homa_rt_errmsg;
}

/* ------------------------------------------------------------ configuration */

/* The loopback MTU: the default path of the tests and of one-host demos. */
int homa_rt_mtu_default(void)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int mtu = 1500;

	if (fd < 0)
		return mtu;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(fd, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu > 0)
		mtu = ifr.ifr_mtu;
	close(fd);
	return mtu;
}

/* Largest Homa packet for an MTU: room for an IPv6 and a UDP header, and
 * never above what one IPv4 UDP datagram can carry (65507). */
static uint32_t max_packet_for_mtu(long mtu)
{
	long v = mtu - 40 - 8;

	if (v > 65507)
		v = 65507;
	if (v < HOMA_DATA_HDR_LEN + 64)
		v = HOMA_DATA_HDR_LEN + 64;
	return (uint32_t)v;
}

static int env_u64(const char *name, uint64_t *out)
{
	const char *v = getenv(name);
	char *end;
	unsigned long long x;

	if (!v || !*v)
		return 0;
	errno = 0;
	x = strtoull(v, &end, 0);
	if (errno || *end)
		return -EINVAL;
	*out = x;
	return 0;
}

static int env_double(const char *name, double *out)
{
	const char *v = getenv(name);
	char *end;
	double x;

	if (!v || !*v)
		return 0;
	x = strtod(v, &end);
	if (*end || x < 0.0 || x > 1.0)
		return -EINVAL;
	*out = x;
	return 0;
}

/* Applies one integer environment override to a 32-bit field. */
static int env_u32(const char *name, uint32_t *field)
{
	uint64_t v = *field;
	int err = env_u64(name, &v);

	if (!err)
		*field = (uint32_t)v;
	return err;
}

int homa_config_default(struct homa_config *c)
{
	uint64_t mtu = (uint64_t)homa_rt_mtu_default();
	uint64_t rcvbuf_mb = 64, gso = 1, place = 0, bell = 1;
	int err = 0;

	memset(c, 0, sizeof(*c));
	homa_settings_default(&c->settings);
	c->settings.link_mbps = 1000000;
	/* Longer than a cross-core wake-up (~60 us) plus a turnaround: with
	 * less, two peers that both fell asleep keep waking each other too
	 * late to find the other still polling, and never get back to spinning. */
	c->poll_usecs = 100;
	err |= env_u64("HOMA_MTU", &mtu);
	c->settings.max_packet_bytes = max_packet_for_mtu((long)mtu);
	err |= env_u32("HOMA_LINK_MBPS", &c->settings.link_mbps);
	err |= env_u32("HOMA_TIMEOUT_TICKS", &c->settings.timeout_ticks);
	err |= env_u32("HOMA_RESEND_TICKS", &c->settings.resend_ticks);
	err |= env_u32("HOMA_REQUEST_ACK_TICKS", &c->settings.request_ack_ticks);
	err |= env_u32("HOMA_UNSCHED_BYTES", &c->settings.unsched_bytes);
	err |= env_u32("HOMA_MAX_INCOMING", &c->settings.max_incoming);
	err |= env_u32("HOMA_NIC_BACKLOG_NS", &c->settings.max_nic_backlog_ns);
	err |= env_u32("HOMA_GRANT_FIFO_FRACTION", &c->settings.grant_fifo_fraction);
	err |= env_u32("HOMA_PACER_FIFO_FRACTION", &c->settings.pacer_fifo_fraction);
	err |= env_u32("HOMA_FIFO_GRANT_INCREMENT", &c->settings.fifo_grant_increment);
	err |= env_u32("HOMA_POLL_USECS", &c->poll_usecs);
	err |= env_u64("HOMA_RCVBUF_MB", &rcvbuf_mb);
	c->default_rcvbuf_bytes = (size_t)rcvbuf_mb << 20;
	err |= env_double("HOMA_DROP_SEND", &c->drop_send);
	err |= env_double("HOMA_DROP_RECV", &c->drop_recv);
	err |= env_u64("HOMA_DROP_SEED", &c->drop_seed);
	err |= env_u64("HOMA_GSO", &gso);
	c->use_gso = gso != 0;
	err |= env_u64("HOMA_RX_PLACE", &place);
	c->rx_place = place != 0;
	err |= env_u64("HOMA_DOORBELL", &bell);
	c->use_doorbell = bell != 0;
	return err ? -EINVAL : 0;
}

/* ------------------------------------------------------------ loss injection */

/* splitmix64: tiny, seedable, and good enough to pick packets to drop. */
static uint64_t rng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

int homa_rt_drop(struct homa_rt *rt, double fraction)
{
	if (fraction <= 0.0)
		return 0;
	return (double)(rng_next(&rt->rng) >> 11) * 0x1.0p-53 < fraction;
}

/* ------------------------------------------------------------ engine callbacks */

static void cb_send(void *user, struct homa_sock *sock, const struct homa_endpoint *dst,
		    int priority, const uint8_t *hdr, size_t hdr_len,
		    const uint8_t *payload, size_t payload_len)
{
	struct homa_rt *rt = user;
	struct homa_socket *s = sock ? homa_sock_get_user(sock) : NULL;

	if (homa_rt_drop(rt, rt->cfg.drop_send)) {
		rt->stats.drop_send++;
		return;
	}
	homa_rt_carrier_send(rt, s, dst, priority, hdr, hdr_len, payload, payload_len);
}

/* Wakes sleeping receivers of s: they recheck; a spurious wake-up is harmless. */
static void wake_sleepers(struct homa_socket *s, uint64_t n)
{
	if (n && write(s->wake_efd, &n, sizeof(n)) < 0) {
		/* The counter is saturated: sleepers are already due to wake. */
	}
}

static void cb_ready(void *user, struct homa_sock *sock, uint64_t id)
{
	struct homa_socket *s = homa_sock_get_user(sock);

	(void)user;
	(void)id;
	if (!s)
		return;
	atomic_fetch_add(&s->ready_gen, 1);
	wake_sleepers(s, (uint64_t)s->sleepers);
	homa_rt_sync_ready(s);
}

static void cb_writable(void *user, struct homa_sock *sock)
{
	struct homa_rt *rt = user;

	(void)sock;
	pthread_cond_broadcast(&rt->writable_cv);
}

/* Keeps ready_efd readable exactly while a shared message (or shutdown) waits. */
void homa_rt_sync_ready(struct homa_socket *s)
{
	uint64_t v = 1;
	int want;

	/* Two system calls per message: only for applications that use the fd. */
	if (!s->fd_exported)
		return;
	want = atomic_load(&s->shut) || homa_sock_readable(s->core);
	if (want == s->ready_state)
		return;
	if (want) {
		if (write(s->ready_efd, &v, sizeof(v)) < 0)
			return;
	} else if (read(s->ready_efd, &v, sizeof(v)) < 0) {
		return;
	}
	s->ready_state = want;
}

/* ------------------------------------------------------------ timers */

static void arm_timer(struct homa_rt *rt, uint64_t deadline)
{
	struct itimerspec its;

	if (deadline == rt->timer_armed_at)
		return; /* one system call less per wake-up */
	memset(&its, 0, sizeof(its));
	if (deadline != UINT64_MAX) {
		/* 0 would disarm the timer: a due deadline fires 1 ns from now. */
		its.it_value.tv_sec = (time_t)(deadline / 1000000000ull);
		its.it_value.tv_nsec = (long)(deadline % 1000000000ull);
		if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
			its.it_value.tv_nsec = 1;
	}
	timerfd_settime(rt->bg_timerfd, TFD_TIMER_ABSTIME, &its, NULL);
	rt->timer_armed_at = deadline;
}

/*
 * How late the bg timer may fire: half the pacer's NIC backlog. The pacer
 * refills the NIC queue up to max_nic_backlog_ns whenever it runs; waking
 * it only once half of that has drained sends several packets per wake-up
 * (one GSO batch) instead of one packet per wake-up on a slow link. Other
 * deadlines (1 ms ticks) do not mind.
 */
static uint64_t pacer_slack(const struct homa_rt *rt)
{
	return rt->cfg.settings.max_nic_backlog_ns / 2;
}

/*
 * Called with the lock held after every engine call: caches the next
 * deadline for the polling loops and moves the bg timer earlier if needed
 * (later deadlines just cause one early wake-up, cheaper than a syscall).
 */
void homa_rt_after_engine(struct homa_rt *rt)
{
	uint64_t next = homa_engine_next_timeout(rt->engine);

	atomic_store(&rt->next_timeout, next);
	if (next != UINT64_MAX && next + rt->timer_slack < rt->timer_armed_at)
		arm_timer(rt, next + rt->timer_slack);
}

/*
 * The background thread must look at its sockets by `at` (lock held): to
 * re-arm one whose receivers have left. Costs a system call only when the
 * timer would fire later than that.
 */
void homa_rt_bg_look_by(struct homa_rt *rt, uint64_t at)
{
	if (at < rt->timer_armed_at)
		arm_timer(rt, at);
}

/*
 * Runs due timers and sets the next wake-up. While receivers spin, they run
 * due timers themselves (homa_rt_recv.c), so the background thread only
 * checks every HOMA_RT_IDLE_NS instead of waking on every 1 ms tick and
 * competing with them for the CPU and the lock. look_at: when some socket
 * must be looked at again (bg_rearm_idle), UINT64_MAX if none.
 */
static void run_timers(struct homa_rt *rt, uint64_t now, int spinners, uint64_t look_at)
{
	uint64_t next;

	if (now >= homa_engine_next_timeout(rt->engine))
		homa_engine_handle_timeout(rt->engine, now);
	next = homa_engine_next_timeout(rt->engine);
	atomic_store(&rt->next_timeout, next);
	rt->timer_slack = spinners ? HOMA_RT_SPIN_LOOK_NS : pacer_slack(rt);
	if (spinners)
		next = now + HOMA_RT_SPIN_LOOK_NS;
	else if (next < UINT64_MAX - rt->timer_slack)
		next += rt->timer_slack;
	if (look_at < next)
		next = look_at;
	arm_timer(rt, next);
}

/* ------------------------------------------------------------ background thread */

/*
 * Disarming takes the fd out of the epoll set rather than clearing its
 * events: any epoll entry hooks the socket's wait queue, and then every
 * packet sent or received through it pays an epoll callback under the
 * queue's irq-saving lock (~0.2 us per packet each way on this VM), while
 * the receivers that own the socket poll it without epoll.
 */
void homa_rt_bg_watch(struct homa_rt *rt, struct homa_socket *s, int arm)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = s->serial};

	if (!arm)
		epoll_ctl(rt->bg_epfd, EPOLL_CTL_DEL, s->fd, NULL);
	else if (epoll_ctl(rt->bg_epfd, EPOLL_CTL_MOD, s->fd, &ev) < 0)
		epoll_ctl(rt->bg_epfd, EPOLL_CTL_ADD, s->fd, &ev);
	atomic_store(&s->bg_armed, arm);
}

/* Makes the background thread look at its sockets now (stop flag unset). */
void homa_rt_bg_kick(struct homa_rt *rt)
{
	uint64_t one = 1;

	if (write(rt->bg_stop_efd, &one, sizeof(one)) < 0) {
		/* counter saturated: a wake-up is pending anyway */
	}
}

void homa_rt_bg_unwatch(struct homa_rt *rt, struct homa_socket *s)
{
	epoll_ctl(rt->bg_epfd, EPOLL_CTL_DEL, s->fd, NULL);
	atomic_store(&s->bg_armed, 0);
}

static int receiver_active(struct homa_socket *s, uint64_t now)
{
	return atomic_load(&s->waiters) > 0 ||
	       now - atomic_load(&s->last_wait_ns) < HOMA_RT_IDLE_NS;
}

static struct homa_socket *find_serial(struct homa_rt *rt, uint64_t serial)
{
	struct homa_socket *s;

	for (s = rt->socks; s; s = s->next)
		if (s->serial == serial)
			return s;
	return NULL;
}

/* A socket's fd became readable: read it, or leave it to its receivers. */
static void bg_socket_event(struct homa_rt *rt, uint64_t serial, uint32_t events,
			    uint64_t now)
{
	struct homa_socket *s = find_serial(rt, serial);

	if (!s || atomic_load(&s->shut))
		return;
	if (events & EPOLLERR) {
		homa_rt_rx_errors(rt, s, now);
		homa_rt_after_engine(rt);
	}
	if (!(events & EPOLLIN))
		return;
	if (receiver_active(s, now)) {
		homa_rt_bg_watch(rt, s, 0);
		return;
	}
	homa_rt_rx_drain(rt, s, 8);
}

/* Takes back sockets whose receivers have gone; returns 1 if some remain disarmed. */
/*
 * A spinning receiver that made no turn since our last look (HOMA_RT_IDLE_NS
 * ago) is descheduled: on a crowded machine the scheduler starves a busy
 * spinner in favour of threads that sleep, such as this one. Read its
 * socket meanwhile, so that the peer sees no silence (and no timeout).
 */
static void cover_stalled_spinner(struct homa_rt *rt, struct homa_socket *s, int waiters)
{
	uint64_t beat = atomic_load(&s->spin_beat);

	if (waiters > s->sleepers && beat == s->bg_seen_beat) {
		rt->stats.bg_covers++;
		homa_rt_rx_drain(rt, s, 8);
	}
	s->bg_seen_beat = beat;
}

/*
 * Takes back sockets whose receivers have gone. Returns when a later look is
 * needed (UINT64_MAX: never): when the last receiver to leave a socket has
 * been gone HOMA_RT_IDLE_NS, or HOMA_RT_IDLE_NS from now while one is
 * spinning (it may leave any moment). Receivers that are all asleep need no
 * looks: one that slept asks for a look when it wakes (sleep_once).
 */
static uint64_t bg_rearm_idle(struct homa_rt *rt, uint64_t now)
{
	struct homa_socket *s;
	uint64_t look = UINT64_MAX;

	for (s = rt->socks; s; s = s->next) {
		int waiters = atomic_load(&s->waiters);
		uint64_t at;

		if (atomic_load(&s->bg_armed) || atomic_load(&s->shut))
			continue;
		if (waiters > 0 && waiters == s->sleepers)
			continue;
		if (receiver_active(s, now)) {
			cover_stalled_spinner(rt, s, waiters);
			at = waiters > 0
				 ? now + HOMA_RT_SPIN_LOOK_NS
				 : atomic_load(&s->last_wait_ns) + HOMA_RT_IDLE_NS;
			if (at <= now)
				at = now + 1;
			if (at < look)
				look = at;
			continue;
		}
		homa_rt_bg_watch(rt, s, 1);
	}
	return look;
}

/* 1 if some receiver is busy-polling right now (lock held). */
static int any_spinner(struct homa_rt *rt)
{
	struct homa_socket *s;

	for (s = rt->socks; s; s = s->next)
		if (atomic_load(&s->waiters) > s->sleepers)
			return 1;
	return 0;
}

static void *bg_main(void *arg)
{
	struct homa_rt *rt = arg;
	struct epoll_event evs[16];
	uint64_t look_at;

	while (!atomic_load(&rt->bg_stop)) {
		int n = epoll_wait(rt->bg_epfd, evs, 16, -1);
		uint64_t now = homa_rt_now(), junk;

		pthread_mutex_lock(&rt->lock);
		rt->stats.bg_wakeups++;
		for (int i = 0; i < n; i++) {
			if (evs[i].data.u64 == HOMA_RT_EV_TIMER) {
				if (read(rt->bg_timerfd, &junk, sizeof(junk)) < 0) {
					/* spurious: timer was re-armed meanwhile */
				}
			} else if (evs[i].data.u64 == HOMA_RT_EV_STOP) {
				if (read(rt->bg_stop_efd, &junk, sizeof(junk)) < 0) {
					/* another wake-up consumed it */
				}
			} else {
				bg_socket_event(rt, evs[i].data.u64, evs[i].events, now);
			}
		}
		look_at = bg_rearm_idle(rt, now);
		run_timers(rt, homa_rt_now(), any_spinner(rt), look_at);
		homa_rt_unlock(rt);
	}
	return NULL;
}

/* ------------------------------------------------------------ init / fini */

static int bg_start(struct homa_rt *rt)
{
	struct epoll_event ev = {.events = EPOLLIN};

	rt->bg_epfd = epoll_create1(EPOLL_CLOEXEC);
	rt->bg_timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	rt->bg_stop_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (rt->bg_epfd < 0 || rt->bg_timerfd < 0 || rt->bg_stop_efd < 0)
		return -errno;
	ev.data.u64 = HOMA_RT_EV_TIMER;
	epoll_ctl(rt->bg_epfd, EPOLL_CTL_ADD, rt->bg_timerfd, &ev);
	ev.data.u64 = HOMA_RT_EV_STOP;
	epoll_ctl(rt->bg_epfd, EPOLL_CTL_ADD, rt->bg_stop_efd, &ev);
	rt->timer_armed_at = UINT64_MAX;
	rt->timer_slack = pacer_slack(rt);
	return -pthread_create(&rt->bg, NULL, bg_main, rt);
}

static void rt_free(struct homa_rt *rt)
{
	if (rt->engine)
		homa_engine_free(rt->engine);
	homa_rt_txq_free(rt->txq);
	if (rt->bg_epfd >= 0)
		close(rt->bg_epfd);
	if (rt->bg_timerfd >= 0)
		close(rt->bg_timerfd);
	if (rt->bg_stop_efd >= 0)
		close(rt->bg_stop_efd);
	pthread_cond_destroy(&rt->writable_cv);
	pthread_mutex_destroy(&rt->lock);
	free(rt);
}

/*
 * The engine lock spins briefly before it sleeps: its critical sections are
 * a few microseconds, while a contended default mutex parks the waiter in
 * the kernel and costs it a cross-core wake-up (~60 us here) - a busy-polling
 * receiver that met the background thread's periodic look in the lock then
 * lost a whole round trip's worth of time and more.
 */
static void init_lock(pthread_mutex_t *m)
{
	pthread_mutexattr_t a;

	pthread_mutexattr_init(&a);
#ifdef PTHREAD_MUTEX_ADAPTIVE_NP
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ADAPTIVE_NP);
#endif
	pthread_mutex_init(m, &a);
	pthread_mutexattr_destroy(&a);
}

static uint64_t fresh_seed(void)
{
	uint64_t seed = 0;

	if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
		seed = homa_rt_now() ^ (uint64_t)getpid() << 32;
	return seed ? seed : 1;
}

static int rt_create(const struct homa_config *c, struct homa_rt **out)
{
	struct homa_callbacks cb = {
	    .send = cb_send, .ready = cb_ready, .writable = cb_writable};
	struct homa_rt *rt = calloc(1, sizeof(*rt));
	const char *why = NULL;
	int err;

	if (!rt)
		return -ENOMEM;
	rt->cfg = *c;
	rt->rng = c->drop_seed;
	init_lock(&rt->lock);
	pthread_cond_init(&rt->writable_cv, NULL);
	rt->bg_epfd = rt->bg_timerfd = rt->bg_stop_efd = -1;
	rt->next_serial = 2; /* 0 and 1 name the timer and stop fds */
	err = homa_settings_check(&c->settings, &why);
	if (!err)
		err = homa_engine_new(&c->settings, &cb, rt, NULL,
				      c->engine_seed ? c->engine_seed : fresh_seed(),
				      homa_rt_now(), &rt->engine);
	if (err) {
		snprintf(homa_rt_errmsg, sizeof(homa_rt_errmsg),
			 "engine settings rejected: %s",
			 why ? why : "homa_engine_new failed");
		rt_free(rt);
		return err;
	}
	atomic_store(&rt->next_timeout, homa_engine_next_timeout(rt->engine));
	if (c->use_gso)
		rt->txq = homa_rt_txq_new(); /* NULL: plain sends, still correct */
	/* Acks wait for the next flush of the queue (homa_rt_unlock); without
	 * one they would wait for a timer tick. */
	homa_engine_defer_acks(rt->engine, rt->txq != NULL);
	err = bg_start(rt);
	if (err) {
		snprintf(homa_rt_errmsg, sizeof(homa_rt_errmsg),
			 "cannot start the background thread");
		rt_free(rt);
		return err;
	}
	*out = rt;
	return 0;
}

int homa_init(const struct homa_config *c)
{
	struct homa_config def;
	int err = 0;

	pthread_mutex_lock(&homa_rt_init_lock);
	if (homa_rt_global) {
		err = -EALREADY;
		goto out;
	}
	if (!c) {
		homa_config_default(&def);
		c = &def;
	}
	err = rt_create(c, &homa_rt_global);
out:
	pthread_mutex_unlock(&homa_rt_init_lock);
	return err;
}

/* The runtime, creating it with defaults on first use. */
struct homa_rt *homa_rt_get(int *err)
{
	struct homa_rt *rt = homa_rt_global;

	*err = 0;
	if (rt)
		return rt;
	*err = homa_init(NULL);
	if (*err == -EALREADY)
		*err = 0;
	return *err ? NULL : homa_rt_global;
}

int homa_fini(void)
{
	struct homa_rt *rt;
	uint64_t one = 1;
	int err = 0;

	pthread_mutex_lock(&homa_rt_init_lock);
	rt = homa_rt_global;
	if (!rt) {
		err = -ENOENT;
	} else if (rt->nsocks) {
		err = -EBUSY;
	} else {
		atomic_store(&rt->bg_stop, 1);
		if (write(rt->bg_stop_efd, &one, sizeof(one)) < 0)
			err = -errno;
		pthread_join(rt->bg, NULL);
		homa_rt_global = NULL;
		rt_free(rt);
	}
	pthread_mutex_unlock(&homa_rt_init_lock);
	return err;
}

int homa_get_stats(struct homa_stats *engine, struct homa_rt_stats *rts)
{
	struct homa_rt *rt = homa_rt_global;

	if (!rt)
		return -ENOENT;
	pthread_mutex_lock(&rt->lock);
	if (engine)
		*engine = *homa_engine_stats(rt->engine);
	if (rts) {
		*rts = rt->stats;
		rts->rx_gro_on = atomic_load(&rt->rx_gro_on);
		for (struct homa_socket *s = rt->socks; s; s = s->next) {
			rts->rx_empty_reads += atomic_load(&s->empty_reads);
			rts->rx_bell_late += atomic_load(&s->bell_late);
		}
	}
	homa_rt_unlock_hold(rt); /* looking sends nothing held (HOMA_SEND_MORE) */
	return 0;
}

int homa_get_settings(struct homa_settings *out)
{
	struct homa_rt *rt = homa_rt_global;

	if (!rt)
		return -ENOENT;
	pthread_mutex_lock(&rt->lock);
	*out = *homa_engine_settings(rt->engine);
	homa_rt_unlock(rt);
	return 0;
}
