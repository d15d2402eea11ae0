/*
 * homa_rt_doorbell.c - a counter in shared memory that the kernel bumps
 * for every datagram that reaches a socket.
 *
 * A busy-polling receiver used to ask the kernel whether anything had
 * arrived with an empty recvfrom() on every turn: on this kind of VM that
 * costs ~0.5 us, and with the sched_yield() a spinner owes a shared core
 * (~0.8 us) a turn took ~1.3 us, so a packet waited on average more than
 * half a turn before the read that took it even started.
 *
 * The doorbell is an eBPF socket filter (BPF_PROG_TYPE_SOCKET_FILTER,
 * SO_ATTACH_BPF) on the UDP carrier socket. For each datagram the kernel
 * is about to queue, the program adds one to a 64-bit counter in a
 * one-entry array map created with BPF_F_MMAPABLE, and accepts the whole
 * datagram. The runtime maps that counter into its address space, so a
 * spinning receiver reads memory instead of making a system call, and
 * issues its recvfrom() only when the counter moved.
 *
 * The filter runs just before the datagram is queued, so a reader that
 * sees the counter move may still find the queue empty for a moment; the
 * wait loop keeps reading for a while after each ring (homa_rt_recv.c),
 * and reads once in a while even without one, since ICMP errors (the
 * error queue) never pass through the filter.
 *
 * Loading the program needs CAP_BPF (or root) where the kernel keeps
 * unprivileged BPF disabled, as Debian does by default. Without it, or
 * with HOMA_DOORBELL=0, sockets simply have no doorbell and the wait loop
 * polls with recvfrom() as before. Raw-IP sockets never get one: their
 * classic port filter (homa_rt_carrier.c) occupies the filter slot.
 *
 * The program, in eBPF instructions (no compiler or library needed):
 *	r1 = &counter		(ld_imm64, BPF_PSEUDO_MAP_VALUE: the map's value)
 *	r2 = 1
 *	lock *(u64 *)(r1 + 0) += r2
 *	w0 = 0xffffffff		(keep the whole datagram)
 *	exit
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "homa_rt.h"

#ifndef SO_ATTACH_BPF
#define SO_ATTACH_BPF 50
#endif

static long sys_bpf(int cmd, union bpf_attr *attr)
{
#ifdef SYS_bpf
	return syscall(SYS_bpf, cmd, attr, sizeof(*attr));
#else
	(void)cmd;
	(void)attr;
	errno = ENOSYS;
	return -1;
#endif
}

static int make_map(void)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_ARRAY;
	a.key_size = sizeof(uint32_t);
	a.value_size = sizeof(uint64_t);
	a.max_entries = 1;
	a.map_flags = BPF_F_MMAPABLE;
	return (int)sys_bpf(BPF_MAP_CREATE, &a);
}

static int load_prog(int map_fd)
{
	struct bpf_insn prog[6];
	union bpf_attr a;

	memset(prog, 0, sizeof(prog));
	prog[0].code = BPF_LD | BPF_DW | BPF_IMM;
	prog[0].dst_reg = 1;
	prog[0].src_reg = BPF_PSEUDO_MAP_VALUE;
	prog[0].imm = map_fd;
	prog[1].imm = 0; /* offset into the value */
	prog[2].code = BPF_ALU64 | BPF_MOV | BPF_K;
	prog[2].dst_reg = 2;
	prog[2].imm = 1;
	prog[3].code = BPF_STX | BPF_ATOMIC | BPF_DW;
	prog[3].dst_reg = 1;
	prog[3].src_reg = 2;
	prog[3].imm = BPF_ADD;
	prog[4].code = BPF_ALU | BPF_MOV | BPF_K;
	prog[4].dst_reg = 0;
	prog[4].imm = -1;
	prog[5].code = BPF_JMP | BPF_EXIT;

	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	a.insns = (uint64_t)(uintptr_t)prog;
	a.insn_cnt = sizeof(prog) / sizeof(prog[0]);
	a.license = (uint64_t)(uintptr_t) "GPL";
	return (int)sys_bpf(BPF_PROG_LOAD, &a);
}

int homa_rt_doorbell_open(struct homa_rt_doorbell *d)
{
	long page = sysconf(_SC_PAGESIZE);
	void *p;
	int err;

	d->map_fd = d->prog_fd = -1;
	d->counter = NULL;
	d->map_fd = make_map();
	if (d->map_fd < 0)
		goto fail;
	d->prog_fd = load_prog(d->map_fd);
	if (d->prog_fd < 0)
		goto fail;
	p = mmap(NULL, (size_t)(page > 0 ? page : 4096), PROT_READ, MAP_SHARED, d->map_fd,
		 0);
	if (p == MAP_FAILED)
		goto fail;
	d->counter = p;
	return 0;
fail:
	err = -errno;
	homa_rt_doorbell_close(d);
	return err ? err : -EINVAL;
}

int homa_rt_doorbell_attach(const struct homa_rt_doorbell *d, int fd)
{
	if (!d->counter)
		return -EINVAL;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_BPF, &d->prog_fd, sizeof(d->prog_fd)) <
	    0)
		return -errno;
	return 0;
}

void homa_rt_doorbell_close(struct homa_rt_doorbell *d)
{
	long page = sysconf(_SC_PAGESIZE);

	if (d->counter)
		munmap((void *)d->counter, (size_t)(page > 0 ? page : 4096));
	if (d->prog_fd >= 0)
		close(d->prog_fd);
	if (d->map_fd >= 0)
		close(d->map_fd);
	d->counter = NULL;
	d->map_fd = d->prog_fd = -1;
}
