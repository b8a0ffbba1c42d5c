# SPDX-License-Identifier: GPL-2.0
"""Test helper for `vtapctl collect` (not a test itself: not executable).

Crafts GRE-TEB and ERSPAN II/III packets as vtap.ko sends them (and broken
ones; VXLAN payloads for the fuzzer's seeds), sends them from raw sockets, and reads pcap/pcapng files back.

  python3 collect_pkt.py send SCENARIO DST4 DST6 EXPECT.json
      send SCENARIO's packets (basic, or move: from 198.51.100.1 and .3,
      IPv4 only) to DST4 (IPv4) and DST6 (IPv6, or "-") and write what the
      collector should report to EXPECT.json
  python3 collect_pkt.py frames FILE
      one line per packet of a pcap or pcapng file: interface name,
      direction (in/out/-), original length, hex bytes
  python3 collect_pkt.py seeds DIR
      write the fuzzer's seed corpus (crafted packets, IPv4 from the IP
      header on, GRE from the GRE header on, VXLAN UDP payloads) to DIR
"""
import json
import os
import socket
import struct
import sys
import time

GRE_TEB, ERSPAN2, ERSPAN3 = 0x6558, 0x88BE, 0x22EB


def frame(n, src=b"\x02\x00\x00\x00\x00\x01", dst=b"\x02\x00\x00\x00\x00\x02",
          size=60, vlan=None):
    """An Ethernet frame carrying an IPv4/UDP packet, numbered @n."""
    payload = struct.pack("!I", n) + bytes((n + i) & 0xFF for i in range(max(0, size - 46)))
    udp = struct.pack("!HHHH", 1000 + n % 1000, 2000, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), n & 0xFFFF, 0x4000, 64, 17, 0,
                     bytes([192, 0, 2, 1]), bytes([192, 0, 2, 2])) + udp
    eth = dst + src
    if vlan is not None:
        eth += struct.pack("!HH", 0x8100, vlan)
    return eth + b"\x08\x00" + ip


def gre(proto, payload, seq=None, key=None, csum=False, flags_extra=0):
    flags = flags_extra
    opt = b""
    if csum:
        flags |= 0x8000
    if key is not None:
        flags |= 0x2000
    if seq is not None:
        flags |= 0x1000
    hdr = struct.pack("!HH", flags, proto)
    if csum:
        opt += b"\0\0\0\0"
    if key is not None:
        opt += struct.pack("!I", key)
    if seq is not None:
        opt += struct.pack("!I", seq & 0xFFFFFFFF)
    pkt = bytearray(hdr + opt + payload)
    if csum:
        s = 0
        data = bytes(pkt) + (b"\0" if len(pkt) % 2 else b"")
        for i in range(0, len(data), 2):
            s += (data[i] << 8) | data[i + 1]
        while s >> 16:
            s = (s & 0xFFFF) + (s >> 16)
        struct.pack_into("!H", pkt, 4, (~s) & 0xFFFF)
    return bytes(pkt)


def erspan2(sid, index, fr, vlan=0, cos=0, en=0, t=0, ver=1):
    w0 = ver << 28 | vlan << 16 | cos << 13 | en << 11 | t << 10 | sid
    return struct.pack("!II", w0, index & 0xFFFFF) + fr


def erspan3(sid, ts, fr, d=0, gra=1, hwid=0, t=0, vlan=0, cos=0, bso=0, sgt=0,
            ft=0, sub=None, ver=2):
    w0 = ver << 28 | vlan << 16 | cos << 13 | bso << 11 | t << 10 | sid
    w2 = sgt << 16 | ft << 10 | hwid << 4 | d << 3 | gra << 1 | (1 if sub else 0)
    return struct.pack("!III", w0, ts & 0xFFFFFFFF, w2) + (sub or b"") + fr


def vxlan(vni, fr, flags=0x08, rsvd1=0, rsvd2=0):
    """A VXLAN UDP payload (RFC 7348): flags, 24 reserved bits, VNI, 8 reserved."""
    return struct.pack("!I", flags << 24 | rsvd1) + struct.pack("!I", vni << 8 | rsvd2) + fr


def platf(pid, w1_low, w2):
    return struct.pack("!II", pid << 26 | w1_low, w2)


def ipv4(payload, src="198.51.100.1", dst="198.51.100.2", proto=47, ihl=5, tot=None):
    opts = b"\x01" * ((ihl - 5) * 4)  # NOPs
    tot = 20 + len(opts) + len(payload) if tot is None else tot
    return struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, tot, 0, 0x4000, 64, proto, 0,
                       socket.inet_aton(src), socket.inet_aton(dst)) + opts + payload


def ts100ns(ns=None):
    return ((time.time_ns() if ns is None else ns) // 100) & 0xFFFFFFFF


# ---- the host-tier scenario -------------------------------------------------

def scenario_basic():
    """(family, gre_bytes, expectation) in sending order.  Expectation: None
    for a packet the collector must reject, else (ifname, dir, frame, origlen)
    where dir is 'in' (pcapng inbound: sent by the VM), 'out' or '-'."""
    out = []
    n = 0

    def nf(**kw):
        nonlocal n
        n += 1
        return frame(n, **kw)

    # ERSPAN III session 7, 100 ns: seq 0 1 2 (3 lost) 4 6 5 (reordered) 7 7 (dup) 8
    for seq in (0, 1, 2, 4, 6, 5, 7, 7, 8):
        f = nf(size=60 + seq * 10)
        d = seq & 1
        out.append((4, gre(ERSPAN3, erspan3(7, ts100ns(), f, d=d, gra=1, hwid=5), seq=seq),
                    ("vtap-s7", "out" if d else "in", f, len(f))))
    # ERSPAN II session 8, port index 33: seq 0..4
    for seq in range(5):
        f = nf()
        out.append((4, gre(ERSPAN2, erspan2(8, 33, f), seq=seq), ("vtap-s8-i33", "-", f, len(f))))
    # ERSPAN II session 8, another port (index 34), same sequence space: seq 5, 6
    for seq in (5, 6):
        f = nf()
        out.append((4, gre(ERSPAN2, erspan2(8, 34, f), seq=seq), ("vtap-s8-i34", "-", f, len(f))))
    # GRE-TEB with key 5 and sequence; with a checksum; without key nor sequence
    for seq in range(3):
        f = nf()
        out.append((4, gre(GRE_TEB, f, seq=seq, key=5, csum=(seq == 2)), ("vtap-k5", "-", f, len(f))))
    f = nf()
    out.append((4, gre(GRE_TEB, f), ("vtap-gre", "-", f, len(f))))
    # ERSPAN III with platform sub-header 7 (port index 44 + upper timestamp), 100 us
    ts = time.time_ns() // 100000
    f = nf(vlan=100)
    out.append((4, gre(ERSPAN3, erspan3(9, ts, f, d=1, gra=0, sub=platf(7, 44, ts >> 32)), seq=0),
                ("vtap-s9-i44", "out", f, len(f))))
    # Truncated by the sender (T bit): the inner IP header tells the length
    full = nf(size=1400)
    f = full[:200]
    out.append((4, gre(ERSPAN3, erspan3(10, ts100ns(), f, t=1), seq=0),
                ("vtap-s10", "in", f, len(full))))
    # Truncated, not IP: length unknown -> captured + 1
    f = b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x88\xb5" + bytes(100)
    out.append((4, gre(ERSPAN3, erspan3(10, ts100ns(), f, t=1), seq=1),
                ("vtap-s10", "in", f, len(f) + 1)))
    # Broken ones: rejected, counted, nothing written
    f = nf()
    out.append((4, b"\x10\x00", None))                                   # short GRE
    out.append((4, gre(0x0800, f[14:], seq=1), None))                    # IPv4 in GRE
    out.append((4, gre(ERSPAN3, erspan3(7, 0, f, ver=3), seq=99), None))  # version
    out.append((4, gre(ERSPAN2, erspan2(7, 1, f, ver=2), seq=99), None))  # version
    out.append((4, struct.pack("!HH", 0x0001, GRE_TEB) + f, None))        # GRE version 1
    out.append((4, gre(ERSPAN3, erspan3(7, 0, f[:10]), seq=99), None))    # inner short
    out.append((4, gre(ERSPAN2, f), None))                               # Type I
    out.append((4, bytearray(gre(GRE_TEB, f, key=5, csum=True))[:-1] + b"\xff", None))  # bad csum
    # IPv6: ERSPAN III session 11
    for seq in range(3):
        f = nf()
        out.append((6, gre(ERSPAN3, erspan3(11, ts100ns(), f, d=0), seq=seq),
                    ("vtap-s11", "in", f, len(f))))
    return out


SESSIONS_BASIC = {
    # (encap, id): packets, lost, reordered, duplicates
    ("erspan3", 7): (9, 1, 1, 1),
    ("erspan2", 8): (7, 0, 0, 0),
    ("gre", 5): (3, 0, 0, 0),
    ("gre", None): (1, 0, 0, 0),
    ("erspan3", 9): (1, 0, 0, 0),
    ("erspan3", 10): (2, 0, 0, 0),
    ("erspan3", 11): (3, 0, 0, 0),
}


def send(scenario, dst4, dst6, expect_path):
    pkts = {"basic": scenario_basic}[scenario]()
    s4 = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_GRE)
    s6 = None
    if dst6 != "-":
        s6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_GRE)
    exp = {"frames": [], "rejected": 0, "sessions": []}
    for fam, data, e in pkts:
        if fam == 6 and not s6:
            continue
        if fam == 4:
            s4.sendto(data, (dst4, 0))
        else:
            s6.sendto(data, (dst6, 0))
        if e is None:
            exp["rejected"] += 1
        else:
            exp["frames"].append([e[0], e[1], e[3], e[2].hex()])
        time.sleep(0.002)	# keep the order on the wire
    for (encap, sid), (p, lost, reo, dup) in SESSIONS_BASIC.items():
        if sid == 11 and not s6:
            continue
        exp["sessions"].append({"encap": encap, "id": sid, "packets": p, "lost": lost,
                                "reordered": reo, "duplicates": dup})
    with open(expect_path, "w") as fp:
        json.dump(exp, fp)


# ---- VMs that move, senders that start over ----------------------------------

MOVE_A, MOVE_B = "198.51.100.1", "198.51.100.3"
DAY = 86400 * 10 ** 9


def scenario_move():
    """(src, gre_bytes, (ifname, dir, frame, origlen, ts_ns or None)) in sending
    order: VM ports whose copies come from two senders (hypervisors), a
    sender that starts its sequence over, and the encapsulations that do not
    name the port (kept per sender)."""
    out = []
    n = 1000

    def nf(**kw):
        nonlocal n
        n += 1
        return frame(n, **kw)

    # ERSPAN III session 20, sub-header 7 (20-bit source index), 100 ns, sent
    # "3 days ago" (the 32 low bits alone would resolve to another time): 4
    # copies from A, then the VM moves: B's session starts at 0.
    idx20 = 0x12345
    t0 = time.time_ns() - 3 * DAY
    for i, (src, seq) in enumerate([(MOVE_A, 0), (MOVE_A, 1), (MOVE_A, 2), (MOVE_A, 3),
                                    (MOVE_B, 0), (MOVE_B, 1), (MOVE_B, 2), (MOVE_B, 3)]):
        f = nf()
        ts = (t0 + i * 1000000) // 100
        out.append((src, gre(ERSPAN3, erspan3(20, ts, f, d=i & 1, gra=1,
                                              sub=platf(7, 0x3f00000 | idx20, ts >> 32)), seq=seq),
                    ("vtap-s20-i%d" % idx20, "out" if i & 1 else "in", f, len(f), ts * 100)))
    # ERSPAN III session 21, sub-header 3 (14-bit port index), 100 us, 2 days ago.
    idx21 = 0x3ABC
    t1 = time.time_ns() - 2 * DAY
    for seq in range(3):
        f = nf()
        ts = (t1 + seq * 1000000) // 100000
        out.append((MOVE_A, gre(ERSPAN3, erspan3(21, ts, f, d=0, gra=0,
                                                 sub=platf(3, 0x3ffc000 | idx21, ts >> 32)), seq=seq),
                    ("vtap-s21-i%d" % idx21, "in", f, len(f), ts * 100000)))
    # ERSPAN II session 22, index 5: A, B, then A again (two moves).
    for src, seq in [(MOVE_A, 0), (MOVE_A, 1), (MOVE_A, 2), (MOVE_B, 0), (MOVE_B, 1), (MOVE_A, 3)]:
        f = nf()
        out.append((src, gre(ERSPAN2, erspan2(22, 5, f), seq=seq), ("vtap-s22-i5", "-", f, len(f), None)))
    # ERSPAN III session 23, sub-header 7, index 9: A sends 30 copies, then
    # starts over (module reloaded): 0..9 again, a reset, nothing lost.
    for k, seq in enumerate(list(range(30)) + list(range(10))):
        f = nf()
        ts = ts100ns()
        out.append((MOVE_A, gre(ERSPAN3, erspan3(23, ts, f, d=0, sub=platf(7, 9, ts >> 32)), seq=seq),
                    ("vtap-s23-i9", "in", f, len(f), None)))
    # No port index (ERSPAN III without sub-header, GRE-TEB): one interface
    # per sender, as before.
    for src, seq in [(MOVE_A, 0), (MOVE_B, 0), (MOVE_A, 1), (MOVE_B, 1)]:
        f = nf()
        out.append((src, gre(ERSPAN3, erspan3(24, ts100ns(), f, d=0), seq=seq), ("vtap-s24", "in", f, len(f), None)))
    for src, seq in [(MOVE_A, 0), (MOVE_B, 0), (MOVE_A, 1), (MOVE_B, 1)]:
        f = nf()
        out.append((src, gre(GRE_TEB, f, seq=seq, key=25), ("vtap-k25", "-", f, len(f), None)))
    return out


# (encap, id, source): packets, lost, duplicates, resets
STREAMS_MOVE = {
    ("erspan3", 20, MOVE_A): (4, 0, 0, 0), ("erspan3", 20, MOVE_B): (4, 0, 0, 0),
    ("erspan3", 21, MOVE_A): (3, 0, 0, 0),
    ("erspan2", 22, MOVE_A): (4, 0, 0, 0), ("erspan2", 22, MOVE_B): (2, 0, 0, 0),
    ("erspan3", 23, MOVE_A): (40, 0, 1, 1),
    ("erspan3", 24, MOVE_A): (2, 0, 0, 0), ("erspan3", 24, MOVE_B): (2, 0, 0, 0),
    ("gre", 25, MOVE_A): (2, 0, 0, 0), ("gre", 25, MOVE_B): (2, 0, 0, 0),
}
# name: packets, moves, senders (in order)
INTERFACES_MOVE = [
    ("vtap-s20-i74565", 8, 1, [MOVE_A, MOVE_B]),
    ("vtap-s21-i15036", 3, 0, [MOVE_A]),
    ("vtap-s22-i5", 6, 2, [MOVE_A, MOVE_B]),
    ("vtap-s23-i9", 40, 0, [MOVE_A]),
    ("vtap-s24", 2, 0, [MOVE_A]), ("vtap-s24", 2, 0, [MOVE_B]),
    ("vtap-k25", 2, 0, [MOVE_A]), ("vtap-k25", 2, 0, [MOVE_B]),
]


def send_move(dst4, expect_path):
    socks = {}
    exp = {"frames": [], "rejected": 0,
           "streams": [[e, i, src, *v] for (e, i, src), v in STREAMS_MOVE.items()],
           "interfaces": INTERFACES_MOVE}
    for src, data, e in scenario_move():
        if src not in socks:
            socks[src] = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_GRE)
            socks[src].bind((src, 0))
        socks[src].sendto(data, (dst4, 0))
        exp["frames"].append([e[0], e[1], e[3], e[2].hex(), e[4]])
        time.sleep(0.002)	# keep the order on the wire
    with open(expect_path, "w") as fp:
        json.dump(exp, fp)


# ---- reading captures ---------------------------------------------------------

def read_pcapng(data):
    """[(ifname, dir, origlen, bytes, ts_ns)] of a little-endian pcapng file."""
    out, ifs, off = [], [], 0
    while off + 12 <= len(data):
        btype, blen = struct.unpack_from("<II", data, off)
        body = data[off + 8:off + blen - 4]
        if btype == 0x0A0D0D0A:
            ifs = []
        elif btype == 1:
            name, opts = None, body[8:]
            tsresol = 6
            while len(opts) >= 4:
                code, olen = struct.unpack_from("<HH", opts)
                val = opts[4:4 + olen]
                if code == 0:
                    break
                if code == 2:
                    name = val.decode()
                if code == 9:
                    tsresol = val[0]
                opts = opts[4 + ((olen + 3) & ~3):]
            ifs.append((name, tsresol))
        elif btype == 6:
            ifid, hi, lo, cap, orig = struct.unpack_from("<IIIII", body)
            pkt = body[20:20 + cap]
            opts = body[20 + ((cap + 3) & ~3):]
            d = "-"
            while len(opts) >= 4:
                code, olen = struct.unpack_from("<HH", opts)
                if code == 0:
                    break
                if code == 2:
                    fl = struct.unpack_from("<I", opts, 4)[0] & 3
                    d = {1: "in", 2: "out"}.get(fl, "-")
                opts = opts[4 + ((olen + 3) & ~3):]
            name, res = ifs[ifid]
            ts = (hi << 32 | lo) * 10 ** (9 - res)
            out.append((name, d, orig, bytes(pkt), ts))
        off += blen
    return out


def read_pcap(data):
    magic = struct.unpack_from("<I", data)[0]
    nano = magic == 0xA1B23C4D
    off, out = 24, []
    while off + 16 <= len(data):
        sec, frac, cap, orig = struct.unpack_from("<IIII", data, off)
        pkt = data[off + 16:off + 16 + cap]
        out.append(("-", "-", orig, bytes(pkt), sec * 10 ** 9 + frac * (1 if nano else 1000)))
        off += 16 + cap
    return out


def read_capture(path):
    with open(path, "rb") as fp:
        data = fp.read()
    if data[:4] == b"\x0a\x0d\x0d\x0a":
        return read_pcapng(data)
    return read_pcap(data)


def frames(path):
    for name, d, orig, pkt, ts in read_capture(path):
        print(name, d, orig, ts, pkt.hex())


# ---- fuzzer seeds ---------------------------------------------------------------

def seeds(outdir):
    os.makedirs(outdir, exist_ok=True)
    n = 0

    def w(tag, data):
        nonlocal n
        n += 1
        with open(os.path.join(outdir, "%02d-%s" % (n, tag)), "wb") as fp:
            fp.write(data)

    f = frame(1)
    ts = 0x12345678
    w("erspan3", ipv4(gre(ERSPAN3, erspan3(7, ts, f, d=1, gra=1, hwid=3), seq=0)))
    w("erspan3-sub3", ipv4(gre(ERSPAN3, erspan3(7, ts, f, gra=0, sub=platf(3, 33, 1)), seq=1)))
    w("erspan3-sub5", ipv4(gre(ERSPAN3, erspan3(7, 5000, f, gra=2, sub=platf(5, 3 << 16 | 33, 1700000000)), seq=2)))
    w("erspan3-sub7", ipv4(gre(ERSPAN3, erspan3(7, ts, f, sub=platf(7, 0xFFFFF, 0x10)), seq=3)))
    w("erspan3-trunc", ipv4(gre(ERSPAN3, erspan3(7, ts, frame(2, size=1400)[:100], t=1), seq=4)))
    w("erspan3-vlan", ipv4(gre(ERSPAN3, erspan3(7, ts, frame(3, vlan=5), vlan=5, cos=3), seq=5)))
    w("erspan2", ipv4(gre(ERSPAN2, erspan2(8, 33, f, en=3, t=1), seq=0)))
    w("gre-teb-key", ipv4(gre(GRE_TEB, f, seq=7, key=5)))
    w("gre-teb-csum", ipv4(gre(GRE_TEB, f, key=5, csum=True)))
    w("gre-teb-plain", ipv4(gre(GRE_TEB, f)))
    w("ipv4-options", ipv4(gre(ERSPAN2, erspan2(8, 1, f), seq=1), ihl=8))
    w("ipv4-badlen", ipv4(gre(ERSPAN2, erspan2(8, 1, f), seq=1), tot=2000))
    w("erspan1", ipv4(gre(ERSPAN2, f)))
    w("gre-only", gre(ERSPAN3, erspan3(9, ts, f), seq=10))
    ip6 = gre(ERSPAN3, erspan3(9, ts, f), seq=11)
    w("ipv6", struct.pack("!IHBB16s16s", 6 << 28, len(ip6), 47, 64,
                          socket.inet_pton(socket.AF_INET6, "2001:db8::1"),
                          socket.inet_pton(socket.AF_INET6, "2001:db8::2")) + ip6)
    ext = struct.pack("!BB6s", 47, 0, bytes(6))
    w("ipv6-ext", struct.pack("!IHBB16s16s", 6 << 28, len(ext) + len(ip6), 60, 64,
                              bytes(16), bytes(16)) + ext + ip6)
    # VXLAN UDP payloads (vtap_decode_vxlan; the harness tries every decoder)
    w("vxlan", vxlan(42, f))
    w("vxlan-trunc", vxlan(0xFFFFFF, frame(4, size=1400)[:120]))
    w("vxlan-reserved", vxlan(7, frame(5, vlan=9), flags=0xFF, rsvd1=0xABCDEF, rsvd2=0x5A))
    w("vxlan-noi", vxlan(42, f, flags=0))
    print(n, "seeds in", outdir)


def main():
    if len(sys.argv) == 6 and sys.argv[1] == "send" and sys.argv[2] == "move":
        send_move(sys.argv[3], sys.argv[5])
    elif len(sys.argv) == 6 and sys.argv[1] == "send":
        send(*sys.argv[2:])
    elif len(sys.argv) == 3 and sys.argv[1] == "frames":
        frames(sys.argv[2])
    elif len(sys.argv) == 3 and sys.argv[1] == "seeds":
        seeds(sys.argv[2])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
