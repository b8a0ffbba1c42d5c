#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""pktfuzz: random and mutated Ethernet frames, as a VM would send them,
through a tap (with a virtio_net_hdr) or a packet socket.  Standard library
only (no scapy).

  pktfuzz.py send --tap NAME [--master BR] --count N --seed S [OPTIONS]
  pktfuzz.py send --packet-socket DEV --count N --seed S [OPTIONS]
  pktfuzz.py create --tap NAME [--master BR]   a persistent tap, up (then send attaches to it)
  pktfuzz.py delete --tap NAME                 remove a persistent tap
  pktfuzz.py show --seed S --index I [--mode tap|packet] [--mtu M] [--dst-mac MAC...]
  pktfuzz.py replay (--tap NAME [--master BR] | --packet-socket DEV) [--vnet HEX] --frame HEX
  pktfuzz.py --list                            the shape names

send --tap: opens tap NAME in the current network namespace with
IFF_TAP|IFF_NO_PI|IFF_VNET_HDR (a new one, gone when pktfuzz exits, or the
persistent one `create` made), TUNSETOFFLOAD TUN_F_CSUM|TSO4|TSO6|TSO_ECN|UFO,
the fd O_NONBLOCK (so that tun builds small frames with build_skb and larger
ones paged), brings it up, puts it on bridge BR, and writes N frames, each
behind a 10-byte struct virtio_net_hdr (little endian).  send
--packet-socket: an AF_PACKET SOCK_RAW socket bound to DEV, the same frames
without the header, cut to DEV's MTU but for a few oversize ones.  Writes the
kernel rejects (tun: EINVAL for bad metadata...) are counted, never fatal.
Prints one summary line

  pktfuzz: N frames, N written, N rejected by tun (EINVAL: n, ...), shapes: a=n b=n ...

and one with the rates, the decorations and the virtio_net_hdr kinds.
Exit status 0 unless the setup failed (1) or the usage was wrong (2).

Every frame is a function of (seed, index, mode, MTU, destination MACs):
`show --seed S --index I` prints frame I (shape, header fields, hex) and
`send --first I --count 1` sends it again, alone.  --kmsg-every K writes a
"pktfuzz[TAG]: seed S frames I.." marker to /dev/kmsg before every Kth frame,
so that a kernel report in dmesg points at the frames that caused it;
--log FILE lists every frame (index, shape, length, header, result);
--exclude NAME leaves out the frames of a shape, decoration or header kind
(a known problem, while it is being fixed) without changing the others.

Addresses: documentation ranges only (192.0.2.0/24, 198.51.100.0/24,
203.0.113.0/24, 2001:db8::/32), never a VM's address as the source (--vm-ip);
locally administered MACs, never a topology MAC (02:00:00:00:xx:xx) as the
source, so that the bridge never learns a VM's MAC on the fuzzer's port.
Destinations: the --dst-mac MACs (the VMs, so that frames cross the bridge),
broadcast, multicast, random, and the fuzzer's own source MACs (learned on
its own port: the bridge drops them, vtap still sees them).
"""

import argparse
import array
import errno
import fcntl
import os
import random
import socket
import struct
import sys
import time

# ---- constants ----------------------------------------------------------------
ETH_P_IP = 0x0800
ETH_P_ARP = 0x0806
ETH_P_IPV6 = 0x86DD
ETH_P_8021Q = 0x8100
ETH_P_8021AD = 0x88A8
ETH_P_TEB = 0x6558
ETH_P_ERSPAN = 0x88BE
ETH_P_ERSPAN2 = 0x22EB

IPPROTO_HOPOPTS, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP = 0, 1, 6, 17
IPPROTO_ROUTING, IPPROTO_FRAGMENT, IPPROTO_GRE, IPPROTO_AH = 43, 44, 47, 51
IPPROTO_ICMPV6, IPPROTO_NONE, IPPROTO_DSTOPTS, IPPROTO_SCTP = 58, 59, 60, 132
IPPROTO_ESP = 50

TUNSETIFF = 0x400454CA
TUNSETPERSIST = 0x400454CB
TUNSETOFFLOAD = 0x400454D0
IFF_UP = 0x1
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
IFF_VNET_HDR = 0x4000
TUN_F_CSUM, TUN_F_TSO4, TUN_F_TSO6, TUN_F_TSO_ECN, TUN_F_UFO = 0x01, 0x02, 0x04, 0x08, 0x10
SIOCGIFFLAGS, SIOCSIFFLAGS, SIOCGIFMTU, SIOCGIFINDEX = 0x8913, 0x8914, 0x8921, 0x8933
SIOCBRADDIF = 0x89A2

VIRTIO_NET_HDR_F_NEEDS_CSUM = 1
VIRTIO_NET_HDR_F_DATA_VALID = 2
GSO_NONE, GSO_TCPV4, GSO_UDP, GSO_TCPV6, GSO_ECN = 0, 1, 3, 4, 0x80

# Base shapes: name, weight, description.
SHAPES = [
    ("random", 4, "random bytes after the MAC addresses"),
    ("runt", 1, "0 to 13 bytes: shorter than an Ethernet header"),
    ("ethertype", 4, "other EtherTypes (802.3 length, MPLS, PPPoE, LLDP, 0, 0xffff...) + random"),
    ("arp", 3, "ARP, valid and with bad lengths/opcodes"),
    ("l3-mismatch", 2, "EtherType IPv4 carrying IPv6 and the reverse"),
    ("ipv4", 10, "IPv4 + TCP/UDP/SCTP/ICMP/GRE/other"),
    ("ipv4-options", 4, "IPv4 with options (NOP, EOL, RR, TS, LSRR, RA, garbage)"),
    ("ipv4-bad-ihl", 3, "IPv4 with ihl < 5 or past the data"),
    ("ipv4-bad-len-short", 2, "IPv4 total length shorter than the header or the data"),
    ("ipv4-bad-len-long", 2, "IPv4 total length longer than the frame"),
    ("ipv4-frag-first", 2, "IPv4 first fragment (MF, offset 0)"),
    ("ipv4-frag-middle", 2, "IPv4 middle fragment (MF, offset > 0)"),
    ("ipv4-frag-last", 2, "IPv4 last fragment (offset > 0)"),
    ("ipv4-frag-overlap", 2, "IPv4 fragments of a few shared ids with overlapping offsets"),
    ("ipv6", 8, "IPv6 + TCP/UDP/SCTP/ICMPv6/GRE/other"),
    ("ipv6-ext", 8, "IPv6 with 0..12 extension headers (HBH, routing, dstopts, fragment, AH)"),
    ("ipv6-frag", 4, "IPv6 fragment header: first, middle, last, overlapping"),
    ("ipv6-bad-len", 2, "IPv6 payload length short, long or 0 (jumbo)"),
    ("gre-teb", 3, "GRE (TEB) carrying an Ethernet frame"),
    ("erspan2", 3, "GRE + ERSPAN II carrying an Ethernet frame"),
    ("erspan3", 3, "GRE + ERSPAN III (with and without platform sub-header) + Ethernet frame"),
    ("gre-other", 2, "GRE with other flags/versions/protocols"),
    ("gso-tcp4", 6, "TCP/IPv4 super-packet (tap: GSO TCPv4 metadata)"),
    ("gso-tcp6", 5, "TCP/IPv6 super-packet (tap: GSO TCPv6 metadata)"),
    ("gso-udp", 4, "UDP super-packet (tap: GSO UDP/UFO metadata)"),
]
DECORATIONS = [
    ("vlanN", "N (1..4) 802.1Q/802.1ad tags after the MAC addresses"),
    ("trunc", "cut at a layer boundary or anywhere"),
    ("mut", "1..8 mutations (bit flips, interesting values, inserts, deletes)"),
    ("jumbo", "longer than 9000 bytes (tap; up to 64 KiB)"),
    ("deep-csum", "(tap) GSO metadata with the checksum field past byte 1400 (the underlay's path MTU)"),
]
VNET_KINDS = [
    ("none", "all zero"),
    ("data-valid", "flags DATA_VALID"),
    ("csum-ok", "NEEDS_CSUM at the L4 checksum"),
    ("csum-bad", "NEEDS_CSUM with csum_start/csum_offset out of place or past the end"),
    ("gso", "GSO TCPv4/TCPv6/UDP (ECN bit sometimes), gso_size 1..9000, hdr_len right/0/large"),
    ("gso-deep-csum", "GSO TCP with NEEDS_CSUM deep in the super-packet (past the path MTU)"),
    ("gso-contra", "GSO metadata contradicting the frame (or invalid gso_type/size)"),
    ("vnet-random", "10 random bytes"),
]

TOPOLOGY_MAC_PREFIX = bytes([2, 0, 0, 0])   # selftests/lib/topology.sh's MACs

V4_NETS = [(192, 0, 2), (198, 51, 100), (203, 0, 113)]


# ---- checksums ----------------------------------------------------------------
def fold(s):
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def sum16(data):
    """Ones' complement sum of DATA as big-endian 16-bit words (unfolded ok)."""
    if len(data) & 1:
        data = bytes(data) + b"\0"
    a = array.array("H")
    a.frombytes(data)
    s = fold(sum(a))
    if sys.byteorder == "little":
        s = ((s & 0xFF) << 8) | (s >> 8)
    return s


def csum(data, initial=0):
    return ~fold(sum16(data) + initial) & 0xFFFF


def pseudo(ver, src, dst, proto, length):
    if ver == 4:
        return sum16(src + dst + struct.pack("!BBH", 0, proto, length & 0xFFFF))
    return sum16(src + dst + struct.pack("!IxxxB", length, proto))


_CRC32C = []


def crc32c(data):
    if not _CRC32C:
        for i in range(256):
            c = i
            for _ in range(8):
                c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
            _CRC32C.append(c)
    c = 0xFFFFFFFF
    t = _CRC32C
    for b in data:
        c = t[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


# ---- the generator ------------------------------------------------------------
class Frame:
    __slots__ = ("index", "shape", "tags", "data", "vnet", "vnet_kind", "meta")

    def __init__(self, index):
        self.index = index
        self.shape = ""
        self.tags = []
        self.data = b""
        self.vnet = None
        self.vnet_kind = None
        self.meta = {}

    def name(self):
        return "+".join([self.shape] + self.tags)


def mac(s):
    b = bytes(int(x, 16) for x in s.split(":"))
    if len(b) != 6:
        raise ValueError(s)
    return b


def mac_str(b):
    return ":".join(f"{x:02x}" for x in b)


def weighted(rng, choices):
    """choices: [(value, weight), ...]"""
    total = sum(w for _, w in choices)
    r = rng.random() * total
    for v, w in choices:
        r -= w
        if r < 0:
            return v
    return choices[-1][0]


class Gen:
    def __init__(self, seed, mode="tap", dst_macs=(), vm_ips=(), mtu=1500, max_segs=64):
        self.seed = seed
        self.mode = mode
        self.mtu = mtu
        self.max_segs = max(1, max_segs)
        self.dst_macs = [mac(m) for m in dst_macs]
        self.vm_ips = set()
        for a in vm_ips:
            fam = socket.AF_INET6 if ":" in a else socket.AF_INET
            self.vm_ips.add(socket.inet_pton(fam, a))
        prng = random.Random(f"pktfuzz/{seed}/{mode}/macs")
        self.src_pool = []
        while len(self.src_pool) < 16:
            b = bytearray(prng.randbytes(6))
            b[0] = (b[0] & 0xFC) | 0x02          # locally administered unicast
            b = bytes(b)
            if b[:4] != TOPOLOGY_MAC_PREFIX and b not in self.dst_macs:
                self.src_pool.append(b)

    # -- addresses ----------------------------------------------------------
    def ip4(self, rng, src=False):
        if not src and self.vm_ips and rng.random() < 0.4:
            v4 = [a for a in self.vm_ips if len(a) == 4]
            if v4:
                return rng.choice(sorted(v4))
        while True:
            net = rng.choice(V4_NETS)
            host = rng.choice([1, 2, 3, 255, 0, rng.randrange(256)])
            a = bytes(net) + bytes([host])
            if not src or a not in self.vm_ips:
                return a

    def ip6(self, rng, src=False):
        if not src and self.vm_ips and rng.random() < 0.4:
            v6 = [a for a in self.vm_ips if len(a) == 16]
            if v6:
                return rng.choice(sorted(v6))
        while True:
            sub = rng.choice([1, 1, 0x100, 0, rng.randrange(65536)])
            host = rng.choice([1, 2, 3, rng.randrange(1 << 16), rng.getrandbits(64)])
            a = bytes.fromhex("20010db8") + struct.pack("!HHQ", sub, 0, host)
            if not src or a not in self.vm_ips:
                return a

    def dst_mac(self, rng):
        pick = rng.random()
        if self.dst_macs and pick < 0.40:
            return rng.choice(self.dst_macs)
        if pick < 0.52:
            return b"\xff" * 6
        if pick < 0.72 and self.mode == "tap":
            return rng.choice(self.src_pool)
        if pick < 0.80:
            return rng.choice([bytes.fromhex("333300000001"), bytes.fromhex("3333ff000001"),
                               bytes.fromhex("3333ff") + rng.randbytes(3)])
        b = bytearray(rng.randbytes(6))
        b[0] |= 0x02
        if rng.random() < 0.7:
            b[0] &= 0xFE
        return bytes(b)

    def src_mac(self, rng):
        if rng.random() < 0.03:   # invalid sources: the bridge drops them, vtap sees them
            return rng.choice([b"\0" * 6, b"\xff" * 6, bytes.fromhex("330000000001")])
        return rng.choice(self.src_pool)

    # -- sizes --------------------------------------------------------------
    def payload_len(self, rng, room=None):
        r = rng.random()
        if r < 0.45:
            n = rng.randrange(0, 65)
        elif r < 0.70:
            n = rng.randrange(64, 601)
        elif r < 0.87:
            n = rng.randrange(600, 1461)
        elif r < 0.97:
            n = rng.randrange(1460, 9001)
        else:
            n = rng.randrange(9000, 65400)
        if room is not None:
            n = min(n, max(room, 0))
        return n

    def room(self, hdrs):
        """Largest payload after HDRS bytes of headers (after Ethernet)."""
        if self.mode == "packet":
            return self.mtu - hdrs
        return 65535 - hdrs

    # -- L4 -----------------------------------------------------------------
    def port(self, rng):
        return rng.choice([53, 53, 80, 443, 22, 0, 1023, 1024, 5001, 65535, rng.randrange(65536)])

    def tcp(self, rng, ver, src, dst, payload, csum_mode="ok", flags=None, doff_ok=True):
        r = rng.random()
        if r < 0.5:
            opts = b""
        elif r < 0.7:
            opts = struct.pack("!BBH", 2, 4, rng.choice([536, 1460, 0, 65535]))
        elif r < 0.85:
            opts = (struct.pack("!BBH", 2, 4, 1460) + b"\x04\x02" + b"\x08\x0a" +
                    rng.randbytes(8) + b"\x01\x03\x03" + bytes([rng.randrange(16)]))
        else:
            opts = rng.randbytes(rng.randrange(0, 41))
        opts += b"\0" * (-len(opts) % 4)
        opts = opts[:40]
        doff = (20 + len(opts)) // 4
        if not doff_ok:
            doff = rng.randrange(16)
        if flags is None:
            flags = rng.choice([0x02, 0x12, 0x10, 0x18, 0x04, 0x11, 0x14, 0x00, 0x3F, 0xC2,
                                rng.randrange(256)])
        hdr = bytearray(struct.pack("!HHIIBBHHH", self.port(rng), self.port(rng),
                                    rng.getrandbits(32), rng.getrandbits(32), doff << 4 | rng.choice([0, 0, 1]),
                                    flags, rng.randrange(65536), 0, rng.choice([0, 0, rng.randrange(65536)])))
        seg = bytearray(hdr + opts + payload)
        self._l4_csum(rng, seg, 16, ver, src, dst, IPPROTO_TCP, csum_mode)
        return bytes(seg), 20 + len(opts)

    def _l4_csum(self, rng, seg, off, ver, src, dst, proto, mode):
        if len(seg) < off + 2:
            return
        seg[off:off + 2] = b"\0\0"
        if mode == "ok":
            c = csum(seg, pseudo(ver, src, dst, proto, len(seg)))
            if proto == IPPROTO_UDP and c == 0:
                c = 0xFFFF
        elif mode == "partial":     # what a stack leaves for CHECKSUM_PARTIAL
            c = fold(pseudo(ver, src, dst, proto, len(seg)))
        elif mode == "zero":
            c = 0
        else:
            c = rng.randrange(65536)
        seg[off:off + 2] = struct.pack("!H", c)

    def udp(self, rng, ver, src, dst, payload, csum_mode="ok", len_mode="ok"):
        n = 8 + len(payload)
        if len_mode == "ok":
            ulen = n if n <= 0xFFFF else 0
        else:
            ulen = rng.choice([0, 7, 8, n - 1, n + 1, 0xFFFF, rng.randrange(65536)]) & 0xFFFF
        seg = bytearray(struct.pack("!HHHH", self.port(rng), self.port(rng), ulen, 0) + payload)
        if csum_mode == "ok" and len_mode != "ok":
            csum_mode = "bad"
        self._l4_csum(rng, seg, 6, ver, src, dst, IPPROTO_UDP, csum_mode)
        return bytes(seg), 8

    def sctp(self, rng, payload):
        chunks = b""
        for _ in range(rng.randrange(0, 4)):
            ctype = rng.choice([0, 1, 2, 3, 4, 6, 7, 10, 11, 14, rng.randrange(256)])
            value = rng.randbytes(rng.choice([0, 4, 16, rng.randrange(64)]))
            clen = 4 + len(value)
            if rng.random() < 0.2:
                clen = rng.choice([0, 1, 3, 4, clen + 4, 0xFFFF])
            chunks += struct.pack("!BBH", ctype, rng.randrange(256), clen) + value
            chunks += b"\0" * (-len(chunks) % 4)
        seg = bytearray(struct.pack("!HHII", self.port(rng), self.port(rng), rng.getrandbits(32), 0)
                        + chunks + payload)
        if len(seg) <= 2048 and rng.random() < 0.7:
            seg[8:12] = struct.pack("<I", crc32c(bytes(seg)))
        else:
            seg[8:12] = rng.randbytes(4)
        return bytes(seg), 12

    def icmp4(self, rng, payload, depth):
        t = rng.choice([0, 8, 8, 3, 4, 5, 11, 12, 13, 14, 17, rng.randrange(256)])
        code = rng.choice([0, 0, 1, 3, 4, rng.randrange(256)])
        if t in (3, 4, 5, 11, 12) and depth < 2:
            inner = self.ipv4_pkt(rng, depth + 1, small=True)[0]
            rest = self.ip4(rng) if t == 5 else struct.pack("!HH", 0, rng.choice([0, 576, 1280, 1500, 68]))
            body = rest + inner[:rng.choice([28, 28, len(inner), rng.randrange(len(inner) + 1)])]
        else:
            body = struct.pack("!HH", rng.randrange(65536), rng.randrange(65536)) + payload
        seg = bytearray(struct.pack("!BBH", t, code, 0) + body)
        if rng.random() < 0.85:
            seg[2:4] = struct.pack("!H", csum(seg))
        return bytes(seg), 8

    def icmp6(self, rng, src, dst, payload, depth):
        t = rng.choice([128, 128, 129, 1, 2, 3, 4, 130, 131, 132, 133, 134, 135, 136, 137, 143,
                        rng.randrange(256)])
        code = rng.choice([0, 0, 1, rng.randrange(256)])
        if t in (1, 2, 3, 4) and depth < 2:
            inner = self.ipv6_pkt(rng, depth + 1, small=True)[0]
            body = struct.pack("!I", rng.choice([0, 1280, 1500, 68, rng.getrandbits(32)])) + inner[:rng.choice([48, len(inner)])]
        elif t in (135, 136, 137):
            body = struct.pack("!I", rng.getrandbits(32)) + self.ip6(rng)
            if t == 137:
                body += self.ip6(rng)
            for _ in range(rng.randrange(3)):
                olen = rng.choice([0, 1, 2, rng.randrange(8)])
                body += bytes([rng.choice([1, 2, 3, 4, 5, rng.randrange(256)]), olen]) + rng.randbytes(max(olen * 8 - 2, 0))
        else:
            body = struct.pack("!HH", rng.randrange(65536), rng.randrange(65536)) + payload
        seg = bytearray(struct.pack("!BBH", t, code, 0) + body)
        if rng.random() < 0.85:
            seg[2:4] = struct.pack("!H", csum(seg, pseudo(6, src, dst, IPPROTO_ICMPV6, len(seg))))
        return bytes(seg), 8

    def gre(self, rng, depth, kind=None):
        """GRE header + what it carries; kind: gre-teb, erspan2, erspan3, gre-other."""
        kind = kind or rng.choice(["gre-teb", "erspan2", "erspan3", "gre-other"])
        ver = 0
        c = k = s = False
        if kind == "gre-teb":
            proto = ETH_P_TEB
            k = rng.random() < 0.5
            s = rng.random() < 0.5
            c = rng.random() < 0.2
        elif kind == "erspan2":
            proto, s = ETH_P_ERSPAN, True
        elif kind == "erspan3":
            proto, s = ETH_P_ERSPAN2, True
        else:
            proto = rng.choice([ETH_P_IP, ETH_P_IPV6, ETH_P_TEB, ETH_P_ERSPAN, ETH_P_ERSPAN2, 0x880B,
                                0x8847, rng.randrange(65536)])
            c, k, s = (rng.random() < 0.5 for _ in range(3))
            ver = rng.choice([0, 0, 1, rng.randrange(8)])
        flags = (0x8000 if c else 0) | (0x2000 if k else 0) | (0x1000 if s else 0) | ver
        if kind == "gre-other" and rng.random() < 0.3:
            flags |= rng.randrange(65536) & 0x4FF8     # routing/strict/recursion/reserved bits
        opt = b""
        if c:
            opt += b"\0\0\0\0"
        if k:
            opt += struct.pack("!I", rng.getrandbits(32))
        if s:
            opt += struct.pack("!I", rng.getrandbits(32))
        hdr = struct.pack("!HH", flags, proto) + opt
        if proto == ETH_P_ERSPAN:
            hdr += struct.pack("!II", 1 << 28 | rng.randrange(4096) << 16 | rng.randrange(8) << 13 |
                               rng.randrange(4) << 11 | rng.randrange(2) << 10 | rng.randrange(1024),
                               rng.randrange(1 << 20))
        elif proto == ETH_P_ERSPAN2:
            o = rng.random() < 0.3
            hdr += struct.pack("!III", rng.choice([2, 2, 1, 3]) << 28 | rng.randrange(4096) << 16 |
                               rng.randrange(1 << 13) << 10 | rng.randrange(1024), rng.getrandbits(32),
                               rng.randrange(1 << 16) << 16 | 1 << 15 | rng.randrange(1 << 15) & ~1 | o)
            if o:
                hdr += struct.pack("!II", rng.randrange(8) << 26 | rng.randrange(1 << 20), rng.getrandbits(32))
        if proto in (ETH_P_TEB, ETH_P_ERSPAN, ETH_P_ERSPAN2) and depth < 2:
            inner = self.inner_frame(rng, depth + 1)
        elif proto == ETH_P_IP and depth < 2:
            inner = self.ipv4_pkt(rng, depth + 1, small=True)[0]
        elif proto == ETH_P_IPV6 and depth < 2:
            inner = self.ipv6_pkt(rng, depth + 1, small=True)[0]
        else:
            inner = rng.randbytes(rng.randrange(64))
        if c:   # GRE checksum over the header and what follows
            b = bytearray(hdr + inner)
            b[4:6] = struct.pack("!H", csum(b))
            return bytes(b), len(hdr)
        return hdr + inner, len(hdr)

    def l4(self, rng, ver, src, dst, depth, proto=None, room=1400, payload=None):
        """(proto, segment, l4 header length)"""
        if proto is None:
            proto = weighted(rng, [(IPPROTO_TCP, 30), (IPPROTO_UDP, 25),
                                   (IPPROTO_ICMP if ver == 4 else IPPROTO_ICMPV6, 15),
                                   (IPPROTO_SCTP, 10), (IPPROTO_GRE, 8 if depth < 2 else 0),
                                   (rng.choice([IPPROTO_ESP, IPPROTO_AH, IPPROTO_NONE, 255,
                                                IPPROTO_ICMPV6 if ver == 4 else IPPROTO_ICMP,
                                                rng.randrange(256)]), 12)])
        if payload is None:
            payload = rng.randbytes(self.payload_len(rng, room - 40))
        mode = weighted(rng, [("ok", 80), ("bad", 12), ("zero", 8)])
        if proto == IPPROTO_TCP:
            seg, hl = self.tcp(rng, ver, src, dst, payload, mode, doff_ok=rng.random() < 0.93)
        elif proto == IPPROTO_UDP:
            seg, hl = self.udp(rng, ver, src, dst, payload, mode,
                               "ok" if rng.random() < 0.9 else "bad")
        elif proto == IPPROTO_SCTP:
            seg, hl = self.sctp(rng, payload)
        elif proto == IPPROTO_ICMP:
            seg, hl = self.icmp4(rng, payload, depth)
        elif proto == IPPROTO_ICMPV6:
            seg, hl = self.icmp6(rng, src, dst, payload, depth)
        elif proto == IPPROTO_GRE:
            seg, hl = self.gre(rng, depth)
        else:
            seg, hl = payload, 0
        return proto, seg, hl

    # -- L3 -----------------------------------------------------------------
    def ipv4_hdr(self, rng, src, dst, proto, plen, *, options=b"", ihl=None, tot_len=None,
                 frag=None, ident=None, csum_ok=True):
        options += b"\0" * (-len(options) % 4)
        hl = 20 + len(options)
        if ihl is None:
            ihl = hl // 4
        if tot_len is None:
            tot_len = min(hl + plen, 0xFFFF)
        if frag is None:
            frag = rng.choice([0x4000, 0x4000, 0, 0x8000 | 0x4000]) if rng.random() < 0.97 else rng.randrange(65536)
        if ident is None:
            ident = rng.randrange(65536)
        ttl = rng.choice([64, 64, 1, 0, 255])
        tos = rng.choice([0, 0, 0x10, 0x03, 0xFC, rng.randrange(256)])
        h = bytearray(struct.pack("!BBHHHBBH4s4s", 4 << 4 | (ihl & 0xF), tos, tot_len & 0xFFFF, ident,
                                  frag & 0xFFFF, ttl, proto, 0, src, dst) + options)
        if csum_ok or rng.random() < 0.5:
            h[10:12] = struct.pack("!H", csum(h[:max(20, min(ihl * 4, len(h)))]))
        else:
            h[10:12] = rng.randbytes(2)
        return bytes(h)

    def ipv4_options(self, rng):
        opts = b""
        for _ in range(rng.randrange(1, 5)):
            kind = rng.choice(["nop", "eol", "rr", "ts", "lsrr", "ssrr", "ra", "sec", "garbage",
                               "badlen"])
            if kind == "nop":
                opts += b"\x01"
            elif kind == "eol":
                opts += b"\x00"
            elif kind == "rr":
                n = rng.randrange(1, 4)
                opts += bytes([7, 3 + 4 * n, rng.choice([4, 8, 4 + 4 * n])]) + b"".join(self.ip4(rng) for _ in range(n))
            elif kind == "ts":
                n = rng.randrange(1, 3)
                opts += bytes([68, 4 + 8 * n, rng.choice([5, 13]), rng.choice([0, 1, 3])]) + rng.randbytes(8 * n)
            elif kind in ("lsrr", "ssrr"):
                n = rng.randrange(1, 3)
                opts += bytes([131 if kind == "lsrr" else 137, 3 + 4 * n, 4]) + b"".join(self.ip4(rng) for _ in range(n))
            elif kind == "ra":
                opts += b"\x94\x04\x00\x00"
            elif kind == "sec":
                opts += bytes([130, 11]) + rng.randbytes(9)
            elif kind == "badlen":
                opts += bytes([rng.choice([7, 68, 131, 148, rng.randrange(256)]), rng.choice([0, 1, 2, 39, 40, 255])])
            else:
                opts += rng.randbytes(rng.randrange(1, 12))
        return opts[:40]

    def ipv4_pkt(self, rng, depth, small=False, shape="ipv4"):
        """(packet, meta) for an IPv4 packet of SHAPE."""
        src, dst = self.ip4(rng, src=True), self.ip4(rng)
        options = b""
        if shape == "ipv4-options" or (shape == "ipv4" and rng.random() < 0.05):
            options = self.ipv4_options(rng)
        hl = 20 + len(options) + (-len(options) % 4)
        room = 200 if small else self.room(hl)
        proto, seg, l4hl = self.l4(rng, 4, src, dst, depth, room=room)
        kw = {}
        if shape == "ipv4-bad-ihl":
            kw["ihl"] = rng.choice([0, 1, 4, 15, 6 + len(options) // 4, rng.randrange(16)])
        elif shape == "ipv4-bad-len-short":
            kw["tot_len"] = rng.choice([0, 1, 19, hl - 1, hl, hl + max(len(seg) // 2, 1), hl + len(seg) - 1])
        elif shape == "ipv4-bad-len-long":
            kw["tot_len"] = rng.choice([hl + len(seg) + 1, hl + len(seg) + 100, 0xFFFF, 1500, 1501])
        elif shape.startswith("ipv4-frag"):
            which = shape[len("ipv4-frag-"):]
            if which == "overlap":
                kw["ident"] = 0x7A00 + rng.randrange(4)
                off = rng.randrange(0, 16)
                kw["frag"] = (0x2000 if rng.random() < 0.7 else 0) | off
                seg = seg[:rng.choice([8, 16, 64, 128, len(seg)])]
                src, dst = bytes([192, 0, 2, 77]), rng.choice([bytes([192, 0, 2, 1]), bytes([192, 0, 2, 2])])
            elif which == "first":
                kw["frag"] = 0x2000
            elif which == "middle":
                kw["frag"] = 0x2000 | rng.randrange(1, 8192)
            else:
                kw["frag"] = rng.randrange(1, 8192) | rng.choice([0, 0x4000])
            if which != "overlap" and len(seg) > 8 and rng.random() < 0.7:
                seg = seg[:len(seg) - len(seg) % 8]
            if which in ("middle", "last", "overlap") and (kw["frag"] & 0x1FFF):
                l4hl = 0      # no L4 header in a later fragment
        h = self.ipv4_hdr(rng, src, dst, proto, len(seg), options=options,
                          csum_ok=rng.random() < 0.9, **kw)
        meta = {"ver": 4, "l3len": len(h), "proto": proto, "l4hl": l4hl, "src": src, "dst": dst}
        return h + seg, meta

    EXT = [IPPROTO_HOPOPTS, IPPROTO_ROUTING, IPPROTO_DSTOPTS, IPPROTO_FRAGMENT, IPPROTO_AH]

    def ipv6_ext(self, rng, nh_type, nexthdr, frag=None):
        if nh_type in (IPPROTO_HOPOPTS, IPPROTO_DSTOPTS):
            hlen = rng.choice([0, 0, 1, 2, rng.randrange(8), 255 if rng.random() < 0.05 else 0])
            body = b""
            while len(body) < hlen * 8 + 6:
                o = rng.choice(["pad1", "padn", "ra", "jumbo", "tlv", "bad"])
                if o == "pad1":
                    body += b"\0"
                elif o == "padn":
                    n = rng.randrange(0, 6)
                    body += bytes([1, n]) + b"\0" * n
                elif o == "ra":
                    body += b"\x05\x02\x00\x00"
                elif o == "jumbo":
                    body += b"\xc2\x04" + struct.pack("!I", rng.choice([0, 65536, 70000, rng.getrandbits(32)]))
                elif o == "tlv":
                    n = rng.randrange(0, 8)
                    body += bytes([rng.randrange(256), n]) + rng.randbytes(n)
                else:
                    body += bytes([rng.randrange(256), rng.choice([255, 200, 40])])
            body = body[:hlen * 8 + 6]
            return bytes([nexthdr, hlen]) + body
        if nh_type == IPPROTO_ROUTING:
            rtype = rng.choice([0, 2, 3, 4, rng.randrange(256)])
            n = rng.randrange(0, 4)
            hlen = 2 * n if rng.random() < 0.9 else rng.randrange(256)
            body = bytes([rtype, rng.randrange(n + 1) if rng.random() < 0.8 else rng.randrange(256)]) + b"\0" * 4
            body += b"".join(self.ip6(rng) for _ in range(n))
            body = (body + b"\0" * (hlen * 8 + 6))[:hlen * 8 + 6]
            return bytes([nexthdr, hlen]) + body
        if nh_type == IPPROTO_FRAGMENT:
            if frag is None:
                frag = rng.choice([0, 1, rng.randrange(1, 8192) << 3 | rng.randrange(2)])
            return struct.pack("!BBHI", nexthdr, 0, frag & 0xFFFF, rng.choice([0x7A01, rng.getrandbits(32)]))
        # AH: payload length in 4-byte units minus 2
        plen = rng.choice([1, 4, 4, 0, rng.randrange(256)])
        body = struct.pack("!HII", 0, rng.getrandbits(32), rng.getrandbits(32)) + rng.randbytes(max(0, (plen + 2) * 4 - 12))
        return bytes([nexthdr, plen]) + body[:(plen + 2) * 4 - 2]

    def ipv6_pkt(self, rng, depth, small=False, shape="ipv6"):
        src, dst = self.ip6(rng, src=True), self.ip6(rng)
        chain = []
        if shape == "ipv6-ext":
            n = weighted(rng, [(0, 2), (1, 4), (2, 4), (3, 3), (4, 2), (6, 2), (8, 2), (9, 2), (10, 1), (12, 1)])
            chain = [rng.choice(self.EXT) for _ in range(n)]
            if rng.random() < 0.5 and chain:
                chain[0] = IPPROTO_HOPOPTS
        elif shape == "ipv6-frag":
            chain = [IPPROTO_FRAGMENT]
            if rng.random() < 0.3:
                chain.insert(0, rng.choice([IPPROTO_HOPOPTS, IPPROTO_DSTOPTS, IPPROTO_ROUTING]))
        elif rng.random() < 0.05:
            chain = [rng.choice(self.EXT)]
        l4proto = None
        frag = None
        if shape == "ipv6-frag":
            which = rng.choice(["first", "middle", "last", "overlap"])
            frag = {"first": 1, "middle": rng.randrange(1, 8192) << 3 | 1,
                    "last": rng.randrange(1, 8192) << 3, "overlap": rng.randrange(0, 16) << 3 | rng.choice([0, 1, 1])}[which]
            if which == "overlap":
                src = bytes.fromhex("20010db8000100000000000000000077")
        room = 200 if small else self.room(40 + 16 * len(chain))
        proto, seg, l4hl = self.l4(rng, 6, src, dst, depth, proto=l4proto, room=room)
        if frag is not None and frag & 0xFFF8:
            l4hl = 0
        # Build the chain back to front.
        body = seg
        nh = proto
        for t in reversed(chain):
            body = self.ipv6_ext(rng, t, nh, frag if t == IPPROTO_FRAGMENT else None) + body
            nh = t
        plen = len(body)
        if shape == "ipv6-bad-len":
            plen = rng.choice([0, 0, 1, plen - 1, plen + 1, plen + 100, 0xFFFF])
        elif plen > 0xFFFF:
            plen = 0
        hdr = struct.pack("!IHBB16s16s", 6 << 28 | rng.randrange(256) << 20 | rng.randrange(1 << 20),
                          plen & 0xFFFF, nh, rng.choice([64, 64, 255, 1, 0]), src, dst)
        meta = {"ver": 6, "l3len": 40 + len(body) - len(seg), "proto": proto, "l4hl": l4hl,
                "src": src, "dst": dst}
        return hdr + body, meta

    # -- L2 -----------------------------------------------------------------
    def vlan_tags(self, rng, n):
        tags = b""
        for i in range(n):
            tpid = ETH_P_8021AD if (i == 0 and n > 1 and rng.random() < 0.6) or rng.random() < 0.15 else ETH_P_8021Q
            vid = rng.choice([0, 1, 100, 100, 200, 4095, rng.randrange(4096)])
            tags += struct.pack("!HH", tpid, rng.randrange(8) << 13 | rng.randrange(2) << 12 | vid)
        return tags

    def inner_frame(self, rng, depth):
        """A small Ethernet frame inside GRE/ERSPAN."""
        f = Frame(-1)
        self.build(rng, f, depth, small=True)
        return f.data

    def build(self, rng, f, depth=0, small=False, shape=None):
        """Fill f.data/f.shape/f.meta with a frame (no vnet header)."""
        if shape is None:
            shape = weighted(rng, [(s, w) for s, w, _ in SHAPES if not (depth and s.startswith("gso"))])
        f.shape = shape
        dst, src = self.dst_mac(rng), self.src_mac(rng)
        if depth:
            dst, src = rng.randbytes(6), rng.randbytes(6)
        ntags = weighted(rng, [(0, 55), (1, 25), (2, 12), (3, 5), (4, 3)])
        if shape in ("runt",):
            ntags = 0
        tags = self.vlan_tags(rng, ntags)
        if ntags:
            f.tags.append(f"vlan{ntags}")
        l2 = dst + src + tags
        meta = {"l3off": 14 + 4 * ntags}
        if shape == "runt":
            data = (l2 + rng.randbytes(8))[:rng.randrange(14)]
            f.data = data
            f.meta = meta
            return
        if shape == "random":
            n = self.payload_len(rng, None if self.mode == "tap" else self.mtu)
            data = dst + src + rng.randbytes(n + 2)
            meta["l3off"] = 14
            if ntags:
                f.tags.pop()
        elif shape == "ethertype":
            et = rng.choice([0x0000, 0x0001, 0x05DC, 0x05FF, 0x0600, 0x8847, 0x8848, 0x8863, 0x8864,
                             0x88CC, 0x88E5, 0x8906, 0x22F0, 0x9000, 0x88F7, ETH_P_TEB, ETH_P_ERSPAN,
                             0xFFFF, rng.randrange(65536)])
            body = rng.randbytes(self.payload_len(rng, 200 if small else self.room(0)))
            if et <= 0x05FF and rng.random() < 0.5:   # 802.3 + LLC/SNAP
                body = b"\xaa\xaa\x03\x00\x00\x00" + rng.choice([b"\x08\x00", b"\x86\xdd", b"\x81\x00"]) + body
            data = l2 + struct.pack("!H", et) + body
        elif shape == "arp":
            op = rng.choice([1, 2, 1, 2, 3, 4, 8, 9, rng.randrange(65536)])
            hlen, plen = (6, 4) if rng.random() < 0.8 else (rng.randrange(256), rng.randrange(256))
            body = struct.pack("!HHBBH", rng.choice([1, 1, 6, rng.randrange(65536)]),
                               rng.choice([ETH_P_IP, ETH_P_IP, ETH_P_IPV6, rng.randrange(65536)]), hlen, plen, op)
            body += src + self.ip4(rng, src=True) + rng.choice([b"\0" * 6, dst]) + self.ip4(rng)
            if hlen != 6 or plen != 4:
                body += rng.randbytes(rng.randrange(64))
            data = l2 + struct.pack("!H", ETH_P_ARP) + body
        elif shape == "l3-mismatch":
            if rng.random() < 0.5:
                pkt, m = self.ipv6_pkt(rng, depth, small)
                et = ETH_P_IP
            else:
                pkt, m = self.ipv4_pkt(rng, depth, small)
                et = ETH_P_IPV6
            data = l2 + struct.pack("!H", et) + pkt
        elif shape.startswith("ipv4"):
            pkt, m = self.ipv4_pkt(rng, depth, small, shape)
            meta.update(m)
            data = l2 + struct.pack("!H", ETH_P_IP) + pkt
        elif shape.startswith("ipv6"):
            pkt, m = self.ipv6_pkt(rng, depth, small, shape)
            meta.update(m)
            data = l2 + struct.pack("!H", ETH_P_IPV6) + pkt
        elif shape in ("gre-teb", "erspan2", "erspan3", "gre-other"):
            seg, ghl = self.gre(rng, depth, shape)
            if rng.random() < 0.5:
                src4 = self.ip4(rng, src=True)
                # the collector as the destination: vtap's loop guard
                dst4 = rng.choice([bytes([198, 51, 100, 2]), self.ip4(rng)])
                pkt = self.ipv4_hdr(rng, src4, dst4, IPPROTO_GRE, len(seg)) + seg
                et = ETH_P_IP
                meta.update({"ver": 4, "l3len": 20, "proto": IPPROTO_GRE, "l4hl": ghl})
            else:
                src6 = self.ip6(rng, src=True)
                dst6 = rng.choice([bytes.fromhex("20010db8010000000000000000000002"), self.ip6(rng)])
                pkt = struct.pack("!IHBB16s16s", 6 << 28, len(seg) & 0xFFFF, IPPROTO_GRE, 64, src6, dst6) + seg
                et = ETH_P_IPV6
                meta.update({"ver": 6, "l3len": 40, "proto": IPPROTO_GRE, "l4hl": ghl})
            data = l2 + struct.pack("!H", et) + pkt
        elif shape.startswith("gso"):
            data = self.build_gso(rng, f, l2, meta, shape)
        else:
            raise AssertionError(shape)
        f.data = data
        f.meta = meta

    def build_gso(self, rng, f, l2, meta, shape):
        """A TCP or UDP super-packet: the payload a multiple of a gso_size (+ rest)."""
        gso_size = rng.choice([1, 2, 7, 8, 9, 64, 536, 1000, 1220, 1400, 1448, 1460, 1500, 4000,
                               8960, 8999, 9000, rng.randrange(1, 9001)])
        ver = 6 if shape == "gso-tcp6" else 4 if shape == "gso-tcp4" else rng.choice([4, 6])
        tcp = shape != "gso-udp"
        seg_size = max(gso_size, 8) if tcp else gso_size    # the kernel's TCP minimum
        hdrs = (20 if ver == 4 else 40) + (32 if tcp else 8)
        maxpay = self.room(hdrs)
        nsegs = weighted(rng, [(2, 30), (3, 20), (rng.randrange(4, 17), 25), (rng.randrange(17, 65), 15),
                               (rng.randrange(1, self.max_segs + 1), 10)])
        nsegs = max(1, min(nsegs, self.max_segs, maxpay // seg_size if seg_size else 1))
        plen = nsegs * seg_size - rng.choice([0, 0, 0, rng.randrange(seg_size)])
        if tcp and rng.random() < 0.5:
            plen += 12     # the timestamp option's share of an MSS-sized segment
        plen = max(0, min(plen, maxpay))
        payload = rng.randbytes(plen)
        src, dst = (self.ip4(rng, src=True), self.ip4(rng)) if ver == 4 else (self.ip6(rng, src=True), self.ip6(rng))
        cmode = "partial" if rng.random() < 0.8 else weighted(rng, [("ok", 1), ("bad", 1)])
        if tcp:
            seg, l4hl = self.tcp(rng, ver, src, dst, payload, cmode,
                                 flags=rng.choice([0x18, 0x18, 0x10, 0x98, 0x58, 0x19, 0x02, 0x38, 0xFF]))
            proto = IPPROTO_TCP
        else:
            seg, l4hl = self.udp(rng, ver, src, dst, payload, cmode)
            proto = IPPROTO_UDP
        if ver == 4:
            pkt = self.ipv4_hdr(rng, src, dst, proto, len(seg), frag=rng.choice([0x4000, 0x4000, 0, 0x2000])) + seg
            et, l3len = ETH_P_IP, 20
        else:
            pkt = struct.pack("!IHBB16s16s", 6 << 28, len(seg) & 0xFFFF, proto, 64, src, dst) + seg
            et, l3len = ETH_P_IPV6, 40
        meta.update({"ver": ver, "l3len": l3len, "proto": proto, "l4hl": l4hl, "gso_size": gso_size,
                     "src": src, "dst": dst})
        return l2 + struct.pack("!H", et) + pkt

    # -- decorations ------------------------------------------------------------
    def truncate(self, rng, f):
        d, m = f.data, f.meta
        cuts = [14, m["l3off"] - 2 if m["l3off"] > 14 else 13]
        l3 = m["l3off"]
        if "l3len" in m:
            cuts += [l3 + 1, l3 + 19, l3 + rng.randrange(1, m["l3len"] + 1), l3 + m["l3len"]]
            l4 = l3 + m["l3len"]
            if m.get("l4hl"):
                cuts += [l4 + 1, l4 + 3, l4 + 4, l4 + 7, l4 + m["l4hl"] - 1, l4 + m["l4hl"]]
        cuts.append(rng.randrange(len(d) + 1))
        cut = rng.choice([c for c in cuts if 0 <= c < len(d)] or [len(d)])
        if cut < len(d):
            f.data = d[:cut]
            f.tags.append("trunc")

    INTERESTING16 = [0, 1, 0x7F, 0x80, 0xFF, 0x100, 0x5DC, 0x600, 0x7FFF, 0x8000, 0xFFFF,
                     ETH_P_IP, ETH_P_IPV6, ETH_P_8021Q, ETH_P_8021AD]

    def mutate(self, rng, f):
        d = bytearray(f.data)
        if not d:
            return
        for _ in range(rng.randrange(1, 9)):
            if not d:
                break
            hot = min(len(d), 128)
            pos = rng.randrange(hot) if rng.random() < 0.7 else rng.randrange(len(d))
            op = rng.randrange(7)
            if op == 0:
                d[pos] ^= 1 << rng.randrange(8)
            elif op == 1:
                d[pos] = rng.randrange(256)
            elif op == 2:
                d[pos] = rng.choice([0, 1, 0x7F, 0x80, 0xFF, 0x40, 0x45, 0x60, 0x0F])
            elif op == 3 and pos + 2 <= len(d):
                d[pos:pos + 2] = struct.pack("!H", rng.choice(self.INTERESTING16 + [len(d), len(d) - pos]) & 0xFFFF)
            elif op == 4:
                d[pos:pos] = rng.randbytes(rng.randrange(1, 9))
            elif op == 5:
                del d[pos:pos + rng.randrange(1, 9)]
            else:
                n = rng.randrange(1, 17)
                d[pos:pos] = d[pos:pos + n]
        if len(d) >= 12:
            d[6:12] = f.data[6:12]      # never a VM's (or any topology) MAC as the source
        f.data = bytes(d)
        f.tags.append("mut")

    # -- virtio_net_hdr ---------------------------------------------------------
    def vnet(self, rng, f):
        m = f.meta
        n = len(f.data)
        l4off = m["l3off"] + m["l3len"] if "l3len" in m else None
        proto = m.get("proto")
        csum_off = {IPPROTO_TCP: 16, IPPROTO_UDP: 6, IPPROTO_ICMP: 2, IPPROTO_ICMPV6: 2,
                    IPPROTO_SCTP: 8, IPPROTO_GRE: 4}.get(proto)
        if f.shape.startswith("gso") and "gso_size" in m:
            kind = weighted(rng, [("gso", 76), ("gso-deep-csum", 10), ("gso-contra", 6), ("none", 4),
                                  ("csum-ok", 4)])
            if kind == "gso-deep-csum" and (proto != IPPROTO_TCP or n < l4off + 60):
                kind = "gso"
        else:
            kind = weighted(rng, [("none", 40), ("data-valid", 4), ("csum-ok", 22), ("csum-bad", 14),
                                  ("gso-contra", 12), ("vnet-random", 3)])
        if kind == "csum-ok" and (l4off is None or csum_off is None or l4off + csum_off + 2 > n):
            kind = "csum-bad"
        flags = gso_type = hdr_len = gso_size = cstart = coff = 0
        if kind == "data-valid":
            flags = VIRTIO_NET_HDR_F_DATA_VALID
        elif kind == "csum-ok":
            flags, cstart, coff = VIRTIO_NET_HDR_F_NEEDS_CSUM, l4off, csum_off
            hdr_len = rng.choice([0, 0, min(n, l4off + (m.get("l4hl") or 8))])
            self._partial(f, l4off, csum_off)
        elif kind == "csum-bad":
            flags = VIRTIO_NET_HDR_F_NEEDS_CSUM
            if rng.random() < 0.7 and n >= 16:
                # accepted by tun, but at the wrong place: in the Ethernet or
                # IP header, odd, deep in the payload, at the very end (tun
                # wants the checksum field past the Ethernet header)
                start = rng.choice([0, 6, 12, m["l3off"], m["l3off"] + 1, m["l3off"] + 10,
                                    n - 2, rng.randrange(n - 1)])
                start = min(start, n - 2)
                coff = rng.randrange(0, n - start - 1)
                if rng.random() < 0.7:
                    coff = min(coff, rng.choice([0, 1, 2, 6, 10, 16]))
                if start + coff + 2 < 14:
                    coff = 12 - start
                cstart = start
                hdr_len = rng.choice([0, 0, n, rng.randrange(14, n + 1)])
            else:
                cstart, coff = rng.choice([(n, 0), (n - 1, 0), (n + 100, 6), (l4off or 14, 0xFFFF),
                                           (l4off or 14, n), (0xFFFF, 0xFFFF), (0, 0), (6, 2),
                                           (rng.randrange(65536), rng.randrange(65536))])
                hdr_len = rng.choice([0, n, rng.randrange(65536)])
        elif kind in ("gso", "gso-deep-csum"):
            ver = m["ver"]
            gso_type = GSO_UDP if proto == IPPROTO_UDP else GSO_TCPV4 if ver == 4 else GSO_TCPV6
            if rng.random() < 0.25:
                gso_type |= GSO_ECN
            gso_size = m["gso_size"]
            right = l4off + (m.get("l4hl") or 8)
            hdr_len = weighted(rng, [(right, 50), (0, 25), (n + rng.randrange(1, 100), 5),
                                     (rng.randrange(n + 1), 15), (14, 5)])
            if kind == "gso-deep-csum":
                # NEEDS_CSUM far into the super-packet (tun makes that much
                # linear): past the path MTU, past a snaplen
                flags, coff = VIRTIO_NET_HDR_F_NEEDS_CSUM, 16
                cstart = rng.randrange(l4off, n - 18)
                if rng.random() < 0.5:
                    cstart = rng.randrange(max(l4off, min(1400, n - 19)), n - 18)
            elif rng.random() < 0.85:
                flags, cstart, coff = VIRTIO_NET_HDR_F_NEEDS_CSUM, l4off, csum_off
                if rng.random() < 0.1:
                    coff = rng.choice([0, 2, 6, 16, 18])
        elif kind == "gso-contra":
            gso_size = rng.choice([1, 8, 9, 536, 1448, 9000, rng.randrange(1, 9001)])
            if rng.random() < 0.65 and n >= 40:
                # plausible enough for tun: the wrong family or protocol,
                # NEEDS_CSUM somewhere in the frame, any frame
                gso_type = rng.choice([GSO_TCPV4, GSO_TCPV6, GSO_UDP]) | rng.choice([0, 0, GSO_ECN])
                flags = VIRTIO_NET_HDR_F_NEEDS_CSUM
                coff = 16 if gso_type & 0x7F != GSO_UDP else rng.choice([6, 16, 0])
                top = n - 22
                cstart = rng.choice([l4off or 34, m["l3off"], 14, top, rng.randrange(14, top + 1)])
                cstart = max(14, min(cstart, top))
                hdr_len = rng.choice([0, 0, n, rng.randrange(cstart + coff + 2, n + 1)])
            else:
                gso_type = rng.choice([GSO_TCPV4, GSO_TCPV6, GSO_UDP, GSO_TCPV4 | GSO_ECN, 2, 5, 0x7F, 0xFF])
                gso_size = rng.choice([gso_size, 0, 0xFFFF])
                hdr_len = rng.choice([0, 14, n, rng.randrange(n + 1), rng.randrange(65536)])
                if rng.random() < 0.4:
                    flags = VIRTIO_NET_HDR_F_NEEDS_CSUM
                    cstart = rng.choice([l4off or 34, m["l3off"], 0, 14, n - 2, rng.randrange(n + 1)])
                    coff = rng.choice([16, 6, 0, 2, rng.randrange(64)])
        elif kind == "vnet-random":
            hdr = rng.randbytes(10)
            flags, gso_type, hdr_len, gso_size, cstart, coff = struct.unpack("<BBHHHH", hdr)
        if kind in ("gso-contra", "vnet-random") and gso_type & 0x7F in (GSO_TCPV4, GSO_UDP, GSO_TCPV6):
            # At most 4 * max_segs segments: a 64 KiB frame with gso_size 8
            # would be 8000 copies per session and port, minutes under TCG.
            unit = gso_size if gso_type & 0x7F == GSO_UDP else max(gso_size, 8)
            if unit and (n - 14) // unit > 4 * self.max_segs:
                gso_size = (n - 14) // (4 * self.max_segs) + 1
        f.vnet_kind = kind
        f.vnet = struct.pack("<BBHHHH", flags & 0xFF, gso_type & 0xFF, hdr_len & 0xFFFF,
                             gso_size & 0xFFFF, cstart & 0xFFFF, coff & 0xFFFF)

    def _partial(self, f, l4off, coff):
        """Put the pseudo-header sum where a stack leaves it for CHECKSUM_PARTIAL."""
        m = f.meta
        if "src" not in m or m["proto"] not in (IPPROTO_TCP, IPPROTO_UDP):
            return
        d = bytearray(f.data)
        if len(d) < l4off + coff + 2:
            return
        seglen = len(d) - l4off
        d[l4off + coff:l4off + coff + 2] = struct.pack("!H", fold(pseudo(m["ver"], m["src"], m["dst"],
                                                                         m["proto"], seglen)))
        f.data = bytes(d)

    # -- one frame ------------------------------------------------------------------
    def frame(self, index):
        rng = random.Random(f"pktfuzz/{self.seed}/{index}/{self.mode}")
        f = Frame(index)
        self.build(rng, f)
        gso = f.shape.startswith("gso")
        if f.shape not in ("runt",) and not gso and rng.random() < 0.15:
            self.truncate(rng, f)
        if f.shape not in ("runt",) and rng.random() < (0.08 if gso else 0.2):
            self.mutate(rng, f)
        if self.mode == "packet":
            cap = self.mtu + 14 + (4 if len(f.data) >= 16 and f.data[12:14] in (b"\x81\x00", b"\x88\xa8") else 0)
            if len(f.data) > cap and rng.random() < 0.95:
                f.data = f.data[:cap]
                if "trunc" not in f.tags:
                    f.tags.append("trunc")
        else:
            self.vnet(rng, f)
            fl, gt, _, _, cs, co = struct.unpack("<BBHHHH", f.vnet)
            if gt and fl & VIRTIO_NET_HDR_F_NEEDS_CSUM and cs + co + 2 > 1400:
                f.tags.append("deep-csum")
        if len(f.data) > 9014:
            f.tags.append("jumbo")
        return f


# ---- devices ------------------------------------------------------------------
def ifreq(name, fmt="", *vals):
    b = name.encode()
    if len(b) >= 16:
        raise ValueError(f"interface name too long: {name}")
    return struct.pack("16s" + fmt, b, *vals).ljust(40, b"\0")


def if_up(name):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        r = fcntl.ioctl(s, SIOCGIFFLAGS, ifreq(name))
        flags = struct.unpack_from("H", r, 16)[0]
        fcntl.ioctl(s, SIOCSIFFLAGS, ifreq(name, "H", flags | IFF_UP))
    finally:
        s.close()


def if_mtu(name):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        r = fcntl.ioctl(s, SIOCGIFMTU, ifreq(name))
        return struct.unpack_from("i", r, 16)[0]
    finally:
        s.close()


def br_add(bridge, name):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        fcntl.ioctl(s, SIOCBRADDIF, ifreq(bridge, "i", socket.if_nametoindex(name)))
    except OSError as e:
        if e.errno != errno.EBUSY:     # already a port of it
            raise
    finally:
        s.close()


def tap_open(name, persist=None):
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        fcntl.ioctl(fd, TUNSETIFF, ifreq(name, "H", IFF_TAP | IFF_NO_PI | IFF_VNET_HDR))
        if persist is not None:
            fcntl.ioctl(fd, TUNSETPERSIST, persist)
        else:
            fcntl.ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN | TUN_F_UFO)
    except OSError:
        os.close(fd)
        raise
    return fd


# ---- commands -----------------------------------------------------------------
def errname(e):
    return errno.errorcode.get(e, str(e))


def gen_from_args(a, mode, mtu):
    return Gen(a.seed, mode, a.dst_mac or (), a.vm_ip or (), mtu, a.max_segs)


def cmd_send(a):
    if bool(a.tap) == bool(a.packet_socket):
        print("pktfuzz: send needs --tap NAME or --packet-socket DEV", file=sys.stderr)
        return 2
    mode = "tap" if a.tap else "packet"
    tag = a.tag or a.tap or a.packet_socket
    try:
        if a.tap:
            fd = tap_open(a.tap)
            if_up(a.tap)
            if a.master:
                br_add(a.master, a.tap)
            mtu = a.mtu or if_mtu(a.tap)

            def write(f):
                return os.write(fd, f.vnet + f.data) - 10
        else:
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
            s.bind((a.packet_socket, 0))
            mtu = a.mtu or if_mtu(a.packet_socket)

            def write(f):
                return s.send(f.data)
    except OSError as e:
        print(f"pktfuzz: setting up {a.tap or a.packet_socket}: {e}", file=sys.stderr)
        return 1
    gen = gen_from_args(a, mode, mtu)
    kmsg = None
    if a.kmsg_every:
        try:
            kmsg = os.open("/dev/kmsg", os.O_WRONLY)
        except OSError as e:
            print(f"pktfuzz: /dev/kmsg: {e} (no markers)", file=sys.stderr)
    log = open(a.log, "w") if a.log else None
    if a.delay:
        time.sleep(a.delay)
    written = 0
    short = 0
    rejected = {}
    shapes = {}
    tags = {}
    vkinds = {}
    nbytes = 0
    t0 = time.monotonic()
    exclude = set(a.exclude or ())
    excluded = 0
    for i in range(a.first, a.first + a.count):
        f = gen.frame(i)
        if exclude and (f.shape in exclude or f.vnet_kind in exclude or
                        exclude.intersection(f.tags) or
                        ("vlan" in exclude and any(t.startswith("vlan") for t in f.tags))):
            excluded += 1
            if log:
                log.write(f"{i} {f.name()} {len(f.data)} {f.vnet.hex() if f.vnet else '-'} excluded\n")
            continue
        shapes[f.shape] = shapes.get(f.shape, 0) + 1
        for t in f.tags:
            t = "vlan" if t.startswith("vlan") else t
            tags[t] = tags.get(t, 0) + 1
        if f.vnet_kind:
            vkinds[f.vnet_kind] = vkinds.get(f.vnet_kind, 0) + 1
        if kmsg is not None and (i - a.first) % a.kmsg_every == 0:
            try:
                os.write(kmsg, f"<6>pktfuzz[{tag}]: seed {a.seed} frames {i}..\n".encode())
            except OSError:
                pass
        if a.pps:
            wait = t0 + (i - a.first) / a.pps - time.monotonic()
            if wait > 0:
                time.sleep(wait)
        res = "ok"
        try:
            n = write(f)
            if n != len(f.data):
                short += 1
                res = f"short {n}"
            else:
                written += 1
                nbytes += n
        except OSError as e:
            rejected[errname(e.errno)] = rejected.get(errname(e.errno), 0) + 1
            res = errname(e.errno)
        if log:
            log.write(f"{i} {f.name()} {len(f.data)} {f.vnet.hex() if f.vnet else '-'} {res}\n")
    secs = time.monotonic() - t0
    if log:
        log.close()
    nrej = sum(rejected.values())
    who = "tun" if mode == "tap" else "the packet socket"
    rej = ", ".join(f"{k}: {v}" for k, v in sorted(rejected.items(), key=lambda kv: -kv[1]))
    sh = " ".join(f"{k}={v}" for k, v in sorted(shapes.items(), key=lambda kv: -kv[1]))
    print(f"pktfuzz: {a.count} frames, {written} written, {nrej} rejected by {who}"
          f"{' (' + rej + ')' if rej else ''}{f', {short} short writes' if short else ''}"
          f"{f', {excluded} excluded' if excluded else ''}, shapes: {sh}")
    rate = a.count / secs if secs > 0 else 0
    dec = " ".join(f"{k}={v}" for k, v in sorted(tags.items()))
    vk = " ".join(f"{k}={v}" for k, v in sorted(vkinds.items(), key=lambda kv: -kv[1]))
    print(f"pktfuzz: [{tag}] seed {a.seed}, frames {a.first}..{a.first + a.count - 1}, {secs:.1f} s, "
          f"{rate:.0f} frames/s, {nbytes} bytes written, decorations: {dec}"
          f"{', virtio_net_hdr: ' + vk if vk else ''}")
    sys.stdout.flush()
    if a.hold:
        time.sleep(a.hold)
    return 0


def cmd_replay(a):
    if bool(a.tap) == bool(a.packet_socket):
        print("pktfuzz: replay needs --tap NAME or --packet-socket DEV", file=sys.stderr)
        return 2
    data = bytes.fromhex(a.frame)
    vnet = bytes.fromhex(a.vnet) if a.vnet else bytes(10)
    if a.tap and len(vnet) != 10:
        print("pktfuzz: --vnet must be 10 bytes (20 hex digits)", file=sys.stderr)
        return 2
    try:
        if a.tap:
            fd = tap_open(a.tap)
            if_up(a.tap)
            if a.master:
                br_add(a.master, a.tap)
            n = os.write(fd, vnet + data) - 10
        else:
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
            s.bind((a.packet_socket, 0))
            n = s.send(data)
    except OSError as e:
        print(f"pktfuzz: replay: {errname(e.errno) if e.errno else e}")
        return 0
    print(f"pktfuzz: replay: {n} of {len(data)} bytes written")
    if a.hold:
        time.sleep(a.hold)
    return 0


def cmd_create(a):
    try:
        fd = tap_open(a.tap, persist=1)
        os.close(fd)
        if_up(a.tap)
        if a.master:
            br_add(a.master, a.tap)
    except OSError as e:
        print(f"pktfuzz: creating tap {a.tap}: {e}", file=sys.stderr)
        return 1
    return 0


def cmd_delete(a):
    try:
        fd = tap_open(a.tap, persist=0)
        os.close(fd)
    except OSError as e:
        print(f"pktfuzz: deleting tap {a.tap}: {e}", file=sys.stderr)
        return 1
    return 0


def cmd_show(a):
    gen = gen_from_args(a, a.mode, a.mtu or 1500)
    for i in range(a.index, a.index + a.count):
        f = gen.frame(i)
        print(f"frame {i} (seed {a.seed}, mode {a.mode}): {f.name()}, {len(f.data)} bytes")
        if f.vnet:
            fl, gt, hl, gs, cs, co = struct.unpack("<BBHHHH", f.vnet)
            print(f"  virtio_net_hdr ({f.vnet_kind}): flags 0x{fl:02x} gso_type 0x{gt:02x} hdr_len {hl} "
                  f"gso_size {gs} csum_start {cs} csum_offset {co}  [{f.vnet.hex()}]")
        print(f"  frame: {f.data.hex()}")
    return 0


def print_list():
    print("shapes:")
    for s, w, d in SHAPES:
        print(f"  {s:20} {d}")
    print("decorations (any shape):")
    for s, d in DECORATIONS:
        print(f"  {s:20} {d}")
    print("virtio_net_hdr kinds (tap):")
    for s, d in VNET_KINDS:
        print(f"  {s:20} {d}")
    return 0


def main(argv):
    if "--list" in argv[1:2] or argv[1:2] == ["list"]:
        return print_list()
    p = argparse.ArgumentParser(prog="pktfuzz.py", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--list", action="store_true", help="print the shape names")
    sub = p.add_subparsers(dest="cmd")

    def gen_opts(sp):
        sp.add_argument("--seed", type=int, default=1)
        sp.add_argument("--dst-mac", action="append", metavar="MAC",
                        help="destination MAC to favour (the VMs'), repeatable")
        sp.add_argument("--vm-ip", action="append", metavar="ADDR",
                        help="a VM's address: a destination, never a source; repeatable")
        sp.add_argument("--mtu", type=int, default=0, help="frame size cap (packet mode); default: the device's")
        sp.add_argument("--max-segs", type=int, default=64,
                        help="most segments a GSO super-packet stands for (default 64; 4 times "
                             "that for contradicting metadata)")

    s = sub.add_parser("send", help="send frames")
    s.add_argument("--tap", metavar="NAME")
    s.add_argument("--master", metavar="BR")
    s.add_argument("--packet-socket", metavar="DEV")
    s.add_argument("--count", type=int, required=True)
    s.add_argument("--first", type=int, default=0, help="index of the first frame (default 0)")
    s.add_argument("--pps", type=float, default=0, help="frames per second (default: as fast as possible)")
    s.add_argument("--delay", type=float, default=0, help="seconds to wait after setup, before the first frame")
    s.add_argument("--hold", type=float, default=0, help="seconds to keep the device open after the last frame")
    s.add_argument("--kmsg-every", type=int, default=0, metavar="K", help="a /dev/kmsg marker every K frames")
    s.add_argument("--log", metavar="FILE", help="one line per frame")
    s.add_argument("--tag", help="name in the markers and summary (default: the device)")
    s.add_argument("--exclude", action="append", metavar="NAME",
                   help="do not send frames of this shape, decoration or virtio_net_hdr kind "
                        "(a known problem); repeatable")
    gen_opts(s)
    r = sub.add_parser("replay", help="send one frame given in hex (a reproducer)")
    r.add_argument("--tap", metavar="NAME")
    r.add_argument("--master", metavar="BR")
    r.add_argument("--packet-socket", metavar="DEV")
    r.add_argument("--vnet", metavar="HEX", help="the virtio_net_hdr, 20 hex digits (tap; default zeros)")
    r.add_argument("--frame", metavar="HEX", required=True)
    r.add_argument("--hold", type=float, default=0, help="seconds to keep the device open afterwards")
    c = sub.add_parser("create", help="create a persistent tap (vnet header), up, on --master")
    c.add_argument("--tap", required=True)
    c.add_argument("--master")
    d = sub.add_parser("delete", help="delete a persistent tap")
    d.add_argument("--tap", required=True)
    sh = sub.add_parser("show", help="print frames as send would make them")
    sh.add_argument("--index", type=int, required=True)
    sh.add_argument("--count", type=int, default=1)
    sh.add_argument("--mode", choices=["tap", "packet"], default="tap")
    gen_opts(sh)
    a = p.parse_args(argv[1:])
    if a.list:
        return print_list()
    if a.cmd == "send":
        if a.count < 0 or (a.kmsg_every and a.kmsg_every < 0):
            p.error("bad count")
        return cmd_send(a)
    if a.cmd == "replay":
        return cmd_replay(a)
    if a.cmd == "create":
        return cmd_create(a)
    if a.cmd == "delete":
        return cmd_delete(a)
    if a.cmd == "show":
        return cmd_show(a)
    p.print_help()
    return 2


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except BrokenPipeError:     # show ... | head
        sys.exit(0)
