#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_decode (fuzz/corpus/decode/) as binary files.

Seeds are the kernel vectors (tests/vectors/*.hex, with the payload the file
omits appended as zeros so DATA seeds decode) plus one packet of each type the
vectors lack, laid out per docs/wire.md. Rerun after adding vectors.
"""
import os
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fuzz", "corpus", "decode")

# Payload bytes each vector's comment says were omitted.
OMITTED_PAYLOAD = {
    "data_gso_segment.hex": 1424,
    "data_main_offset_in_sequence.hex": 1424,
    "data_response_with_ack.hex": 100,
    "data_single_100.hex": 100,
}


def read_hex(path):
    out = bytearray()
    with open(path) as f:
        for line in f:
            if line.startswith("#"):
                continue
            out += bytes(int(tok, 16) for tok in line.split())
    return bytes(out)


def common(ptype, sport=32768, dport=4000, seq=0, doff=0x50, sender_id=2):
    # sport, dport, sequence, ack[3] + type, doff, flags, window, checksum, urgent, id
    return struct.pack(">HHI3xBBBHHHQ", sport, dport, seq, ptype, doff, 0x06, 0, 0,
                       0xB97D, sender_id)


def synthesized():
    yield "resend.bin", common(0x12) + struct.pack(">IIB", 0, 0xFFFFFFFF, 6)
    yield "rpc_unknown.bin", common(0x13, sender_id=3)
    yield "busy.bin", common(0x14)
    yield "freeze.bin", common(0x16)
    yield "need_ack.bin", common(0x17, sender_id=5)
    acks = b"".join(struct.pack(">QH", 2 * i + 2, 4000 + i) for i in range(5))
    yield "ack_full.bin", common(0x18) + struct.pack(">H", 5) + acks
    data = struct.pack(">IIQHHB3xI", 5000, 5000, 0, 0, 1, 1, 2848)
    yield "data_retransmit_seg.bin", common(0x10, seq=2848, doff=0xE0) + data + bytes(1000)
    yield "grant_padded.bin", common(0x11) + struct.pack(">IB", 1000, 7) + bytes(31)


def main():
    os.makedirs(OUT, exist_ok=True)
    vec_dir = os.path.join(ROOT, "tests", "vectors")
    for name in sorted(os.listdir(vec_dir)):
        if name.endswith(".hex"):
            pkt = read_hex(os.path.join(vec_dir, name))
            pkt += bytes(OMITTED_PAYLOAD.get(name, 0))
            with open(os.path.join(OUT, name[:-4] + ".bin"), "wb") as f:
                f.write(pkt)
    for name, pkt in synthesized():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(pkt)


if __name__ == "__main__":
    main()
