#!/usr/bin/env python3
"""Small traffic roles used to verify the emulated cluster (check_testbed.sh).

  netcheck.py udp-echo PORT SECONDS          echo every datagram back
  netcheck.py udp-sink PORT SECONDS          swallow datagrams
  netcheck.py udp-flood HOST PORT TOS SECONDS [SIZE]
  netcheck.py udp-probe HOST PORT TOS COUNT GAP_US
      one datagram at a time, DSCP set through IP_TOS; prints the min, p50,
      p99 round trip in microseconds
  netcheck.py tcp-sink PORT SECONDS
  netcheck.py tcp-send HOST PORT SECONDS     prints achieved Mbit/s
"""
import socket
import sys
import time


def udp_echo(port, seconds):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))
    s.settimeout(0.2)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            data, addr = s.recvfrom(65536)
        except socket.timeout:
            continue
        s.sendto(data, addr)


def udp_sink(port, seconds):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))
    s.settimeout(0.2)
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        try:
            n += len(s.recv(65536))
        except socket.timeout:
            continue
    print(f"udp-sink bytes {n}")


def udp_flood(host, port, tos, seconds, size=1400):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, tos)
    payload = b"x" * size
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for _ in range(64):
            try:
                s.sendto(payload, (host, port))
            except OSError:
                pass  # ENOBUFS when the local queue is full: keep pushing


def udp_probe(host, port, tos, count, gap_us):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, tos)
    s.settimeout(0.1)  # a probe dropped by a full queue must not stall the rest
    rtts = []
    lost = 0
    for i in range(count):
        tag = i.to_bytes(4, "big") + b"p" * 60
        t0 = time.monotonic_ns()
        s.sendto(tag, (host, port))
        while True:
            try:
                data = s.recv(2048)
            except socket.timeout:
                lost += 1
                break
            if data[:4] == tag[:4]:
                rtts.append((time.monotonic_ns() - t0) / 1000.0)
                break
        time.sleep(gap_us / 1e6)
    rtts.sort()
    if not rtts:
        print(f"udp-probe tos={tos:#x} lost={lost} no replies")
        return
    p = lambda q: rtts[min(len(rtts) - 1, int(q * len(rtts)))]
    print(f"udp-probe tos={tos:#x} n={len(rtts)} lost={lost} "
          f"min_us={rtts[0]:.0f} p50_us={p(0.5):.0f} p99_us={p(0.99):.0f}")


def tcp_sink(port, seconds):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", port))
    ls.listen(4)
    ls.settimeout(seconds)
    c, _ = ls.accept()
    c.settimeout(seconds)
    while c.recv(1 << 20):
        pass


def tcp_send(host, port, seconds):
    s = None
    for _ in range(50):  # the sink may still be starting
        try:
            s = socket.create_connection((host, port), timeout=5)
            break
        except OSError:
            time.sleep(0.1)
    if s is None:
        raise SystemExit("tcp-send: cannot connect")
    buf = b"y" * (1 << 20)
    n = 0
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        n += s.send(buf)
    s.close()
    dt = time.monotonic() - t0
    print(f"tcp-send mbps={n * 8 / dt / 1e6:.0f}")


def main(argv):
    role = argv[1]
    a = argv[2:]
    if role == "udp-echo":
        udp_echo(int(a[0]), float(a[1]))
    elif role == "udp-sink":
        udp_sink(int(a[0]), float(a[1]))
    elif role == "udp-flood":
        udp_flood(a[0], int(a[1]), int(a[2], 0), float(a[3]),
                  int(a[4]) if len(a) > 4 else 1400)
    elif role == "udp-probe":
        udp_probe(a[0], int(a[1]), int(a[2], 0), int(a[3]), int(a[4]))
    elif role == "tcp-sink":
        tcp_sink(int(a[0]), float(a[1]))
    elif role == "tcp-send":
        tcp_send(a[0], int(a[1]), float(a[2]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
