/*
 * homa_rt_socket.c - the public socket calls other than homa_recv():
 * opening, binding, sending, aborting, information, shutdown.
 *
 * Each call takes the engine lock once, runs the engine (which transmits
 * from this thread through the send callback), and leaves. Errors from the
 * engine keep their code; the socket's error text says which call failed
 * and why, so homa_error_msg() is useful without a debugger.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "homa_rt.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
/* Bytes of a default receive region faulted in when it is mapped. */
#define HOMA_RT_PREFAULT_BYTES (512u << 10)

/* How many ports homa_socket() tries when UDP ports are taken by others. */
#define HOMA_RT_PORT_TRIES 64
/* iovecs converted on the stack; longer lists are allocated. */
#define HOMA_RT_STACK_IOV 16

/* ------------------------------------------------------------ errors */

int homa_rt_set_err(struct homa_socket *s, int err, const char *fmt, ...)
{
	va_list ap;

	if (!s)
		return err;
	pthread_mutex_lock(&s->errlock);
	va_start(ap, fmt);
	vsnprintf(s->errmsg, sizeof(s->errmsg), fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&s->errlock);
	return err;
}

int homa_rt_core_err(struct homa_socket *s, int err, const char *what)
{
	const char *core = s->core ? homa_sock_error_msg(s->core) : "";

	if (err >= 0)
		return err;
	return homa_rt_set_err(s, err, "%s: %s", what, *core ? core : homa_strerror(err));
}

/* Each thread gets its own copy, so another thread's error cannot change the
 * text while it is being read. */
static _Thread_local char errmsg_copy[128];

const char *homa_error_msg(const struct homa_socket *s)
{
	struct homa_socket *w = (struct homa_socket *)s; /* the lock, not the text */

	if (!s)
		return "no socket";
	pthread_mutex_lock(&w->errlock);
	memcpy(errmsg_copy, s->errmsg, sizeof(errmsg_copy));
	pthread_mutex_unlock(&w->errlock);
	return errmsg_copy;
}

const char *homa_strerror(int err)
{
	switch (err < 0 ? -err : err) {
	case 0:
		return "success";
	case EINVAL:
		return "invalid argument (length, id, flags or state)";
	case ENOENT:
		return "no such RPC";
	case EAGAIN:
		return "nothing ready (non-blocking) or send memory full";
	case ESHUTDOWN:
		return "socket shut down";
	case ETIMEDOUT:
		return "timed out: the peer did not respond";
	case ENOTCONN:
		return "peer unreachable (no socket at that port)";
	case EHOSTUNREACH:
		return "host unreachable";
	case EAFNOSUPPORT:
		return "address family does not match the socket";
	case EADDRINUSE:
		return "port already in use";
	case EADDRNOTAVAIL:
		return "no free port";
	case ENOBUFS:
		return "receive region exhausted: hand bpages back";
	case ENOMEM:
		return "out of memory";
	case EPERM:
		return "permission denied (raw carrier needs CAP_NET_RAW)";
	default:
		return strerror(err < 0 ? -err : err);
	}
}

/* ------------------------------------------------------------ opening */

/* Core socket plus carrier fd on the same port, skipping ports that some
 * other process holds at the UDP level. */
static int open_core_and_fd(struct homa_rt *rt, struct homa_socket *s)
{
	struct homa_sock *failed[HOMA_RT_PORT_TRIES];
	int nfailed = 0, err = -EADDRNOTAVAIL;

	for (int i = 0; i < HOMA_RT_PORT_TRIES; i++) {
		struct homa_sock *core;
		int fd;

		pthread_mutex_lock(&rt->lock);
		err = homa_sock_new(rt->engine, &core);
		if (!err)
			homa_sock_set_user(core, s);
		homa_rt_unlock(rt);
		if (err)
			break;
		fd = homa_rt_carrier_open(s->family, s->carrier, homa_sock_port(core));
		if (fd >= 0) {
			s->core = core;
			s->fd = fd;
			s->port = homa_sock_port(core);
			err = 0;
			break;
		}
		failed[nfailed++] = core; /* kept until done so it is not re-drawn */
		err = fd;
		if (fd != -EADDRINUSE)
			break;
	}
	pthread_mutex_lock(&rt->lock);
	for (int i = 0; i < nfailed; i++)
		homa_sock_free(failed[i], homa_rt_now());
	homa_rt_unlock(rt);
	return err == -EADDRINUSE ? -EADDRNOTAVAIL : err;
}

static int open_wait_fds(struct homa_socket *s)
{
	s->wake_efd = eventfd(0, EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC);
	s->ready_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->wake_efd < 0 || s->ready_efd < 0)
		return -errno;
	return 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* The doorbell, when the configuration and our privileges allow one: a
 * socket without it works the same, only its spinners read more. */
static void open_doorbell(struct homa_rt *rt, struct homa_socket *s)
{
	if (s->carrier != HOMA_CARRIER_UDP || !rt->cfg.use_doorbell)
		return;
	if (homa_rt_doorbell_open(&s->bell) != 0)
		return;
	if (homa_rt_doorbell_attach(&s->bell, s->fd) != 0)
		homa_rt_doorbell_close(&s->bell);
}

static void socket_destroy(struct homa_socket *s)
{
	homa_rt_doorbell_close(&s->bell);
	close_fd(&s->fd);
	close_fd(&s->wake_efd);
	close_fd(&s->ready_efd);
	if (s->region_owned)
		munmap(s->region, s->region_len);
	pthread_mutex_destroy(&s->errlock);
	free(s);
}

int homa_socket(int family, int flags, struct homa_socket **out)
{
	struct homa_socket *s;
	struct homa_rt *rt;
	int err;

	if (!out || (flags & ~(HOMA_SOCK_NONBLOCK | HOMA_SOCK_RAW)))
		return -EINVAL;
	if (family != AF_INET && family != AF_INET6)
		return -EAFNOSUPPORT;
	rt = homa_rt_get(&err);
	if (!rt)
		return err;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->family = family;
	s->carrier = (flags & HOMA_SOCK_RAW) ? HOMA_CARRIER_RAW : HOMA_CARRIER_UDP;
	s->fd = s->wake_efd = s->ready_efd = -1;
	s->bell.map_fd = s->bell.prog_fd = -1;
	pthread_mutex_init(&s->errlock, NULL);
	s->cur_tos = -1;
	atomic_store(&s->nonblock, !!(flags & HOMA_SOCK_NONBLOCK));
	err = open_core_and_fd(rt, s);
	if (!err)
		err = open_wait_fds(s);
	if (!err)
		open_doorbell(rt, s);
	if (err) {
		if (s->core) {
			pthread_mutex_lock(&rt->lock);
			homa_sock_free(s->core, homa_rt_now());
			homa_rt_unlock(rt);
		}
		socket_destroy(s);
		return err;
	}
	pthread_mutex_lock(&rt->lock);
	s->serial = rt->next_serial++;
	rt->stats.rx_doorbells += s->bell.counter != NULL;
	s->next = rt->socks;
	rt->socks = s;
	rt->nsocks++;
	homa_rt_bg_watch(rt, s, 1);
	homa_rt_unlock(rt);
	*out = s;
	return 0;
}

/* ------------------------------------------------------------ configuration */

int homa_rt_ensure_rcvbuf(struct homa_rt *rt, struct homa_socket *s)
{
	size_t len = rt->cfg.default_rcvbuf_bytes;
	void *region;
	int err;

	if (s->region)
		return 0;
	region = mmap(NULL, len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (region == MAP_FAILED)
		return homa_rt_set_err(s, -ENOMEM, "cannot map a %zu-byte receive region",
				       len);
	err = homa_sock_set_rcvbuf(s->core, region, len);
	if (err) {
		munmap(region, len);
		return homa_rt_core_err(s, err, "default receive region");
	}
	/* The pool keeps busy sockets' messages in the lowest bpages; faulting
	 * those in now keeps first-touch page faults (tens of microseconds in a
	 * VM) out of the first thousands of round trips. Best effort (Linux
	 * 5.14+); the rest of the region stays lazily mapped. */
	madvise(region, len < HOMA_RT_PREFAULT_BYTES ? len : HOMA_RT_PREFAULT_BYTES,
		MADV_POPULATE_WRITE);
	s->region = region;
	s->region_len = len;
	s->region_owned = 1;
	return 0;
}

int homa_set_rcvbuf(struct homa_socket *s, void *region, size_t length)
{
	struct homa_rt *rt = homa_rt_global;
	int err;

	if (!s || !region)
		return -EINVAL;
	pthread_mutex_lock(&rt->lock);
	if (atomic_load(&s->shut))
		err = homa_rt_set_err(s, -ESHUTDOWN, "homa_set_rcvbuf: socket shut down");
	else if (s->region)
		err = homa_rt_set_err(s, -EINVAL,
				      "homa_set_rcvbuf: a receive region is "
				      "already set (set it before bind/send/recv)");
	else
		err = homa_rt_core_err(s, homa_sock_set_rcvbuf(s->core, region, length),
				       "homa_set_rcvbuf");
	if (!err) {
		s->region = region;
		s->region_len = length;
	}
	homa_rt_unlock(rt);
	return err;
}

/*
 * Replaces the carrier socket (UDP bind to a new port) under the same fd
 * number: dup3() swaps the file atomically, so a reader that loaded s->fd
 * without the lock reads either socket, never a closed fd or a number that
 * some other open() has reused. (A read already inside the kernel keeps the
 * old socket alive until it returns.)
 */
static void swap_fd(struct homa_rt *rt, struct homa_socket *s, int newfd)
{
	uint64_t n = (uint64_t)s->sleepers;

	homa_rt_bg_unwatch(rt, s);
	if (s->carrier == HOMA_CARRIER_UDP && atomic_load(&s->rx_gro)) {
		/* The new socket reads as the old one did, from its first
		 * read. rx_gro never goes back to 0: a reader racing with
		 * enable_gro() must never see it down on a socket with GRO on. */
		homa_rt_carrier_gro_on(newfd);
	}
	if (dup3(newfd, s->fd, O_CLOEXEC) >= 0) {
		close(newfd);
	} else {
		close(s->fd); /* cannot happen with a valid fd; keep working */
		s->fd = newfd;
	}
	s->cur_tos = -1;
	homa_rt_bg_watch(rt, s, 1);
	/* Sleepers poll the old fd: they wake and poll the new one. */
	if (n && write(s->wake_efd, &n, sizeof(n)) < 0) {
		/* saturated: they are due to wake anyway */
	}
}

static int bind_port(struct homa_rt *rt, struct homa_socket *s, uint16_t port)
{
	int newfd = homa_rt_carrier_set_port(s, port), err, rung = 1;

	if (newfd < 0)
		return homa_rt_set_err(s, newfd, "homa_bind: port %u: %s", port,
				       homa_strerror(newfd));
	if (newfd != s->fd && s->bell.counter)
		rung = homa_rt_doorbell_attach(&s->bell, newfd) == 0;
	pthread_mutex_lock(&rt->lock);
	err = homa_rt_core_err(s, homa_sock_bind(s->core, port), "homa_bind");
	if (err) {
		if (newfd != s->fd)
			close(newfd);
		else
			homa_rt_carrier_set_port(s, s->port); /* restore the filter */
	} else {
		if (newfd != s->fd)
			swap_fd(rt, s, newfd);
		if (!rung)
			atomic_store(&s->bell_off, 1); /* works on, reading every turn */
		s->port = port;
		err = homa_rt_ensure_rcvbuf(rt, s);
	}
	homa_rt_unlock(rt);
	return err;
}

int homa_bind(struct homa_socket *s, const struct sockaddr *addr, socklen_t addrlen)
{
	struct homa_endpoint ep;
	int err;

	if (!s)
		return -EINVAL;
	err = homa_rt_sockaddr_to_ep(addr, addrlen, s->family, &ep);
	if (err)
		return homa_rt_set_err(s, err, "homa_bind: address %s",
				       err == -EAFNOSUPPORT
					   ? "family differs from the socket's"
					   : "missing or too short");
	if (atomic_load(&s->shut))
		return homa_rt_set_err(s, -ESHUTDOWN, "homa_bind: socket shut down");
	if (ep.port == 0)
		return 0;
	if (ep.port >= HOMA_MIN_DEFAULT_PORT)
		return homa_rt_set_err(s, -EINVAL,
				       "homa_bind: port %u is not a server port "
				       "(1..32767)",
				       ep.port);
	if (ep.port == s->port)
		return 0;
	return bind_port(homa_rt_global, s, ep.port);
}

int homa_set_server(struct homa_socket *s, int enable)
{
	struct homa_rt *rt = homa_rt_global;
	int err;

	if (!s)
		return -EINVAL;
	pthread_mutex_lock(&rt->lock);
	/* Requests that reached the kernel socket before this call were refused
	 * when they arrived, as kernel Homa would have: input them first. */
	if (enable)
		homa_rt_rx_drain(rt, s, 64);
	err =
	    homa_rt_core_err(s, homa_sock_set_server(s->core, enable), "homa_set_server");
	if (!err && enable)
		err = homa_rt_ensure_rcvbuf(rt, s);
	homa_rt_unlock(rt);
	return err;
}

int homa_set_nonblocking(struct homa_socket *s, int enable)
{
	if (!s)
		return -EINVAL;
	atomic_store_explicit(&s->nonblock, !!enable, memory_order_release);
	return 0;
}

int homa_set_recv_timeout(struct homa_socket *s, uint64_t usecs)
{
	if (!s)
		return -EINVAL;
	atomic_store_explicit(&s->rcvtimeo_us, usecs, memory_order_release);
	return 0;
}

uint16_t homa_get_port(const struct homa_socket *s)
{
	return s ? s->port : 0;
}

int homa_get_family(const struct homa_socket *s)
{
	return s ? s->family : -EINVAL;
}

int homa_fd(struct homa_socket *s)
{
	struct homa_rt *rt = homa_rt_global;

	if (!s)
		return -EINVAL;
	pthread_mutex_lock(&rt->lock);
	s->fd_exported = 1;
	homa_rt_sync_ready(s);
	homa_rt_unlock(rt);
	return s->ready_efd;
}

/* ------------------------------------------------------------ shutdown */

int homa_shutdown(struct homa_socket *s)
{
	struct homa_rt *rt = homa_rt_global;

	if (!s)
		return -EINVAL;
	pthread_mutex_lock(&rt->lock);
	if (!atomic_load(&s->shut)) {
		uint64_t many = 1u << 30;

		atomic_store(&s->shut, 1);
		homa_sock_shutdown(s->core, homa_rt_now());
		homa_rt_bg_unwatch(rt, s);
		/* Every sleeper, present or arriving, wakes and sees shut. */
		if (write(s->wake_efd, &many, sizeof(many)) < 0)
			homa_rt_set_err(s, -errno,
					"homa_shutdown: cannot wake receivers");
		homa_rt_sync_ready(s);
		pthread_cond_broadcast(&rt->writable_cv);
		homa_rt_after_engine(rt);
	}
	homa_rt_unlock(rt);
	return 0;
}

int homa_close(struct homa_socket *s)
{
	struct homa_rt *rt = homa_rt_global;
	struct homa_socket **pp;

	if (!s)
		return -EINVAL;
	homa_shutdown(s);
	pthread_mutex_lock(&rt->lock);
	homa_sock_free(s->core, homa_rt_now());
	for (pp = &rt->socks; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	rt->nsocks--;
	rt->stats.rx_empty_reads += atomic_load(&s->empty_reads);
	rt->stats.rx_bell_late += atomic_load(&s->bell_late);
	homa_rt_after_engine(rt);
	homa_rt_unlock(rt);
	socket_destroy(s);
	return 0;
}

/* ------------------------------------------------------------ sending */

/* Converts iov to the engine's form; *out is hiov or an allocation. */
static int convert_iov(const struct iovec *iov, int iovcnt, struct homa_iov *hiov,
		       struct homa_iov **out, size_t *total)
{
	struct homa_iov *h = hiov;

	if (iovcnt < 0 || (iovcnt && !iov))
		return -EINVAL;
	if (iovcnt > HOMA_RT_STACK_IOV) {
		h = malloc((size_t)iovcnt * sizeof(*h));
		if (!h)
			return -ENOMEM;
	}
	*total = 0;
	for (int i = 0; i < iovcnt; i++) {
		h[i].base = iov[i].iov_base;
		h[i].len = iov[i].iov_len;
		*total += iov[i].iov_len;
	}
	*out = h;
	return 0;
}

/* Waits (lock held) for send memory; returns 0 to retry or an error. */
static int wait_writable(struct homa_rt *rt, struct homa_socket *s)
{
	struct timespec ts;

	if (atomic_load(&s->nonblock))
		return -EAGAIN;
	if (atomic_load(&s->shut))
		return -ESHUTDOWN;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += 10000000; /* recheck every 10 ms: acks may come via bg */
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	homa_rt_txq_flush(rt); /* the lock is released while waiting */
	pthread_cond_timedwait(&rt->writable_cv, &rt->lock, &ts);
	return 0;
}

/* Ends a send: HOMA_SEND_MORE leaves its packets queued (homa_rt_txq.c). */
static void unlock_send(struct homa_rt *rt, int flags)
{
	if (flags & HOMA_SEND_MORE)
		homa_rt_unlock_hold(rt);
	else
		homa_rt_unlock(rt);
}

/* Common checks of homa_sendv/homa_replyv; returns 0 or the error. */
static int check_send(struct homa_socket *s, const struct sockaddr *dest,
		      socklen_t destlen, size_t total, const char *call,
		      struct homa_endpoint *ep)
{
	int err = homa_rt_sockaddr_to_ep(dest, destlen, s->family, ep);

	if (err)
		return homa_rt_set_err(s, err, "%s: destination %s", call,
				       err == -EAFNOSUPPORT
					   ? "family differs from the socket's"
					   : "missing or too short");
	if (total == 0 || total > HOMA_MAX_MESSAGE_LENGTH)
		return homa_rt_set_err(s, -EINVAL, "%s: message length %zu outside 1..%u",
				       call, total, HOMA_MAX_MESSAGE_LENGTH);
	if (ep->port == 0)
		return homa_rt_set_err(s, -EINVAL, "%s: destination port 0", call);
	if (atomic_load(&s->shut))
		return homa_rt_set_err(s, -ESHUTDOWN, "%s: socket shut down", call);
	return 0;
}

int homa_sendv(struct homa_socket *s, const struct iovec *iov, int iovcnt,
	       const struct sockaddr *dest, socklen_t destlen, uint64_t *id,
	       uint64_t completion_cookie, int flags)
{
	struct homa_iov stack[HOMA_RT_STACK_IOV], *h;
	struct homa_rt *rt = homa_rt_global;
	struct homa_endpoint ep;
	uint64_t new_id = 0;
	size_t total;
	int err;

	if (!s)
		return -EINVAL;
	err = convert_iov(iov, iovcnt, stack, &h, &total);
	if (err)
		return homa_rt_set_err(s, err, "homa_send: bad iovec");
	err = check_send(s, dest, destlen, total, "homa_send", &ep);
	if (!err &&
	    (flags & ~(HOMA_SENDMSG_PRIVATE | HOMA_SEND_MORE | HOMA_SEND_ZEROCOPY)))
		err = homa_rt_set_err(s, -EINVAL, "homa_send: unknown flags 0x%x", flags);
	if (!err && (flags & HOMA_SEND_ZEROCOPY) && iovcnt != 1)
		err = homa_rt_set_err(s, -EINVAL,
				      "homa_send: HOMA_SEND_ZEROCOPY needs the message "
				      "in one piece (iovcnt 1, got %d)",
				      iovcnt);
	pthread_mutex_lock(&rt->lock);
	if (!err)
		err = homa_rt_ensure_rcvbuf(rt, s);
	while (!err) {
		err = homa_sock_send_request(
		    s->core, &ep, h, (size_t)iovcnt, completion_cookie,
		    ((uint32_t)flags & HOMA_SENDMSG_PRIVATE) |
			((flags & HOMA_SEND_ZEROCOPY) ? HOMA_SENDMSG_BORROW : 0),
		    homa_rt_now(), &new_id);
		if (err != -EAGAIN)
			break;
		err = wait_writable(rt, s); /* 0: memory freed or 10 ms passed, retry */
	}
	homa_rt_after_engine(rt);
	unlock_send(rt, flags);
	if (h != stack)
		free(h);
	if (err)
		return homa_rt_core_err(s, err, "homa_send");
	if (id)
		*id = new_id;
	return 0;
}

int homa_send(struct homa_socket *s, const void *buf, size_t length,
	      const struct sockaddr *dest, socklen_t destlen, uint64_t *id,
	      uint64_t completion_cookie, int flags)
{
	struct iovec iov = {(void *)buf, length};

	return homa_sendv(s, &iov, 1, dest, destlen, id, completion_cookie, flags);
}

int homa_replyv_flags(struct homa_socket *s, const struct iovec *iov, int iovcnt,
		      const struct sockaddr *dest, socklen_t destlen, uint64_t id,
		      int flags)
{
	struct homa_iov stack[HOMA_RT_STACK_IOV], *h;
	struct homa_rt *rt = homa_rt_global;
	struct homa_endpoint ep;
	size_t total;
	int err;

	if (!s)
		return -EINVAL;
	err = convert_iov(iov, iovcnt, stack, &h, &total);
	if (err)
		return homa_rt_set_err(s, err, "homa_reply: bad iovec");
	err = check_send(s, dest, destlen, total, "homa_reply", &ep);
	if (!err && !(id & 1))
		err = homa_rt_set_err(s, -EINVAL,
				      "homa_reply: id %llu is not a request id (odd)",
				      (unsigned long long)id);
	if (!err && (flags & ~HOMA_SEND_MORE))
		err =
		    homa_rt_set_err(s, -EINVAL, "homa_reply: unknown flags 0x%x", flags);
	pthread_mutex_lock(&rt->lock);
	while (!err) {
		err = homa_sock_reply(s->core, id, &ep, h, (size_t)iovcnt, homa_rt_now());
		if (err != -EAGAIN)
			break;
		err = wait_writable(rt, s);
	}
	homa_rt_after_engine(rt);
	unlock_send(rt, flags);
	if (h != stack)
		free(h);
	if (err == -ENOENT)
		return homa_rt_set_err(s, err,
				       "homa_reply: no request %llu awaits a reply "
				       "(never received, already answered, or ended)",
				       (unsigned long long)id);
	return err ? homa_rt_core_err(s, err, "homa_reply") : 0;
}

int homa_replyv(struct homa_socket *s, const struct iovec *iov, int iovcnt,
		const struct sockaddr *dest, socklen_t destlen, uint64_t id)
{
	return homa_replyv_flags(s, iov, iovcnt, dest, destlen, id, 0);
}

int homa_reply_flags(struct homa_socket *s, const void *buf, size_t length,
		     const struct sockaddr *dest, socklen_t destlen, uint64_t id,
		     int flags)
{
	struct iovec iov = {(void *)buf, length};

	return homa_replyv_flags(s, &iov, 1, dest, destlen, id, flags);
}

int homa_reply(struct homa_socket *s, const void *buf, size_t length,
	       const struct sockaddr *dest, socklen_t destlen, uint64_t id)
{
	return homa_reply_flags(s, buf, length, dest, destlen, id, 0);
}

int homa_flush(struct homa_socket *s)
{
	struct homa_rt *rt = homa_rt_global;

	if (!s)
		return -EINVAL;
	pthread_mutex_lock(&rt->lock);
	homa_rt_unlock(rt);
	return 0;
}

/* ------------------------------------------------------------ control, info */

int homa_abort(struct homa_socket *s, uint64_t id, int error)
{
	struct homa_rt *rt = homa_rt_global;
	int err;

	if (!s)
		return -EINVAL;
	if (error < 0)
		return homa_rt_set_err(s, -EINVAL,
				       "homa_abort: error must be a positive errno");
	pthread_mutex_lock(&rt->lock);
	err = homa_sock_abort(s->core, id, error, homa_rt_now());
	homa_rt_sync_ready(s);
	homa_rt_after_engine(rt);
	homa_rt_unlock(rt);
	if (err == -EINVAL)
		return homa_rt_set_err(s, err, "homa_abort: id %llu names no client RPC",
				       (unsigned long long)id);
	return homa_rt_core_err(s, err, "homa_abort");
}

int homa_info(struct homa_socket *s, struct homa_sock_info *info,
	      struct homa_rpc_info *rpcs, size_t max, size_t *count)
{
	struct homa_rt *rt = homa_rt_global;
	struct homa_sock_info tmp;
	size_t n = 0;
	int err;

	if (!s || (max && !rpcs))
		return -EINVAL;
	pthread_mutex_lock(&rt->lock);
	err = homa_sock_get_info(s->core, info ? info : &tmp, rpcs, max, &n);
	homa_rt_unlock(rt);
	if (count)
		*count = n;
	if (!err && atomic_load(&s->shut))
		err = -ESHUTDOWN;
	return err;
}

int homa_release_bpages(struct homa_socket *s, const uint32_t *offsets, uint32_t count)
{
	struct homa_rt *rt = homa_rt_global;
	int err;

	if (!s || (count && !offsets))
		return -EINVAL;
	pthread_mutex_lock(&rt->lock);
	err = homa_sock_release_bpages(s->core, offsets, count);
	homa_rt_after_engine(rt);
	homa_rt_unlock(rt);
	if (err)
		return homa_rt_set_err(s, err,
				       "homa_release_bpages: an offset is not held by "
				       "the application");
	return 0;
}

/* ------------------------------------------------------------ message bytes */

void *homa_bpage_addr(const struct homa_socket *s, uint32_t offset)
{
	if (!s || !s->region || offset >= s->region_len)
		return NULL;
	return s->region + offset;
}

void *homa_msg_data(const struct homa_socket *s, const struct homa_msg *msg, uint32_t i,
		    size_t *len)
{
	size_t before = (size_t)i * HOMA_BPAGE_SIZE;

	if (!s || !msg || i >= msg->num_bpages || before >= msg->length)
		return NULL;
	if (len) {
		size_t rest = msg->length - before;

		*len = rest < HOMA_BPAGE_SIZE ? rest : HOMA_BPAGE_SIZE;
	}
	return homa_bpage_addr(s, msg->bpage_offsets[i]);
}

size_t homa_msg_copy(const struct homa_socket *s, const struct homa_msg *msg,
		     size_t offset, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len && offset + done < (msg ? msg->length : 0)) {
		size_t at = offset + done, piece;
		uint8_t *p =
		    homa_msg_data(s, msg, (uint32_t)(at / HOMA_BPAGE_SIZE), &piece);
		size_t in = at % HOMA_BPAGE_SIZE, n = piece - in;

		if (!p)
			break;
		if (n > len - done)
			n = len - done;
		memcpy((uint8_t *)buf + done, p + in, n);
		done += n;
	}
	return done;
}
