#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""vtapcap: decode and check vtap's mirror traffic (GRE-TEB, ERSPAN II/III, VXLAN).

Python 3 standard library only (no scapy): runs on the host and in the test
VM.  A library (imported by selftests/host/vtapcap_unit.py) and a command:

  vtapcap.py decode PCAP [--count N] [--vxlan-port P]...
      one line per packet: outer header, GRE, ERSPAN or UDP and VXLAN
      fields, inner frame; UDP to port 4789 (and each P) is VXLAN
  vtapcap.py check SPEC [--results FILE]
      compare the collector's capture with the VMs' own captures, as the SPEC
      file says (format below); prints "ok KEY" / "not ok KEY" lines with the
      reasons below them, and writes them to FILE for selftests/lib/mirror.sh
      `verdict KEY`; exit status 1 if any check failed
  vtapcap.py tshark PCAP [--results FILE] [--vxlan-port P]...
      decode a collector capture with tshark too and check that it sees every
      GRE/ERSPAN/VXLAN copy with the same fields as this decoder (key
      "tshark"; VXLAN: UDP ports, length and checksum, flags, VNI, reserved
      bits, the inner Ethernet header); fails if there is no ERSPAN or
      VXLAN copy at all
  vtapcap.py summary PCAP [--vm LABEL=MAC]... [--port ID=LABEL]... [--frames N]
          [--vxlan-port P]...
      what arrived, per session, port and direction, with the first frames
  vtapcap.py merge OUT PCAP...
      merge captures (same link type) in time order into one pcap

SPEC: one directive per line, "#" comments, KEY VALUE pairs after the type:
  collector PCAP              the capture at the collector's uplink
  window T0 T1                VM captures were running from T0 to T1 (epoch s)
  lag S                       how far a copy may lag its frame (default 0.5 s)
  stats FILE                  `vtapctl -j session show`, taken while the
                              sessions existed (for "complete" sessions)
  vm NAME mac MAC pcap PCAP   a VM and the capture on its own interface
  session NAME encap {gre|erspan2|erspan3} src ADDR dst ADDR
          [key K] [id N] [hwid H] [gra {100us|100ns}] [subheader {none|3|7}]
          [ttl N] [tos N] [seq0 N] [complete yes] [cos {N|any}]
          [drops COUNTER[,COUNTER]]
        the outer stream of one session; subheader: the ERSPAN III platform
        sub-header every copy must carry (O bit, Platf ID, the upper 32
        timestamp bits; the index is checked by the mirror), none: no
        sub-header (O = 0, the default); seq0: sequence number of the first
        copy (the collector saw the session start); complete: the capture saw
        its whole life, so its counters must equal what arrived; cos: the
        ERSPAN COS of untagged frames (default: 0 or the IP precedence);
        drops: drop counters that may be non-zero
  session NAME encap vxlan src ADDR dst ADDR [vni N] [id N] [dport P]
          [sport MIN-MAX] [ttl N] [tos N] [complete yes] [drops ...]
        a VXLAN session (RFC 7348), known by (src, dst, dport, vni); vni
        defaults to id (one of them is needed), dport to 4789, sport (the
        range of the UDP source port, the namespace's ip_local_port_range)
        to 32768-60999; seq0 is accepted and ignored (no sequence number)
  mirror NAME session S vm VM dir {in|out|both} [index N] [min N] [until T]
  mirror NAME plain PCAP vm VM dir {in|out|both} [min N]
        a stream of copies: one port of VM in a session (index = ERSPAN II
        index or ERSPAN III platform sub-header port index, i.e. the port
        id; a GRE or VXLAN session has one mirror and no index), or the
        inner frames a decapsulating device (gretap, erspan, vxlan)
        delivered (plain);
        min: frames the VM must have sent/received in each direction of the
        mirror; until: the mirror ended at T (the session was deleted), no
        copies of later frames

Checks (result keys): MIRROR.frames (every frame the VM sent/received in the
window arrived exactly once, byte-identical, in order, but for copies made
on two CPUs that crossed within CROSS_WINDOW, said as notes; nothing else),
MIRROR.headers (index, D bit), SESSION.headers (outer IP, GRE flags and key,
ERSPAN fields), SESSION.seq (every number from seq0 once; rising within each
port and direction), SESSION.counters (complete sessions: sent = copies
that arrived, bytes = their outer IP packets' or frames' length, no drops),
collector.unknown (GRE, or VXLAN, to the collector that belongs to no
session) and collector.nested (a copy of a GRE or VXLAN packet: vtap
mirrored its own output).

VXLAN sessions: SESSION.headers checks the outer IPv4 (DF, TTL, TOS,
header checksum) or IPv6 (hop limit, traffic class), the UDP destination
port, the UDP length, the UDP checksum (0 on IPv4; on IPv6 never 0 and
valid), the source port (within sport, and one per inner flow, the same
both ways: flow = IP addresses and L4 ports unordered, and protocol; ARP
and other non-IP frames, and copies cut before the ports, only the range),
the VXLAN flags (0x08), reserved bits (0) and VNI.  SESSION.seq and
MIRROR.headers pass with a note (nothing to check: no sequence number, no
port index or direction); order is MIRROR.frames's.  UDP between a VXLAN
session's addresses to another port, or with another VNI, is
collector.unknown.
"""

import argparse
import difflib
import ipaddress
import json
import os
import struct
import subprocess
import sys

# --- what vtap must put on the wire (one place) ----------------------------

# ERSPAN III D bit per VM-centric direction: "out" = sent by the VM = the
# port's ingress, "in" = delivered to the VM = the port's egress.
ERSPAN3_D = {"out": 0, "in": 1}
# ERSPAN III P bit for an Ethernet frame (FT 0), as Linux's erspan sends it.
ERSPAN3_P = 1
GRA = {"100us": (0, 100e-6), "100ns": (1, 100e-9)}
GRE_PROTO = {"gre": 0x6558, "erspan2": 0x88BE, "erspan3": 0x22EB}
ERSPAN_VER = {"erspan2": 1, "erspan3": 2}
TS_TOLERANCE = 1.0	# s between an ERSPAN III timestamp and the capture time
# Copies made on two CPUs are not ordered with each other: the underlay's
# backlog is per CPU, and a CPU whose softirq work went to ksoftirqd sends
# its copy later (the debug kernel under TCG: tens of ms).  A frame
# delivered to a VM can come from two CPUs (two senders, or a sender's
# process and its timers).  Such copies may cross: a copy may arrive out of
# the VM's order (and out of sequence-number order) by at most this much
# time, each crossing is said as a note; anything further apart fails.
CROSS_WINDOW = 0.2
DEFAULT_TTL = 64
DEFAULT_TOS = 0
DEFAULT_LAG = 0.5
# VXLAN (RFC 7348): UDP to port 4789 (or the session's dport), flags byte
# 0x08 (I: the VNI is valid), the source port a hash of the inner flow within
# the namespace's ip_local_port_range (Linux's default below).
VXLAN_PORT = 4789
VXLAN_FLAGS = 0x08
VXLAN_HLEN = 8
DEFAULT_SPORT = (32768, 60999)

LINKTYPE_ETHERNET = 1


class SpecError(Exception):
	pass


# --- pcap / pcapng ----------------------------------------------------------

class Packet:
	__slots__ = ("ts", "data", "wirelen", "linktype")

	def __init__(self, ts, data, wirelen=None, linktype=LINKTYPE_ETHERNET):
		self.ts = ts
		self.data = data
		self.wirelen = len(data) if wirelen is None else wirelen
		self.linktype = linktype


def read_pcap(path):
	"""All packets of a pcap (us or ns, either byte order) or pcapng file."""
	with open(path, "rb") as f:
		buf = f.read()
	if len(buf) < 4:
		if not buf:
			return []	# a capture that never started
		raise ValueError("%s: truncated file" % path)
	magic = buf[:4]
	if magic == b"\x0a\x0d\x0d\x0a":
		return _read_pcapng(path, buf)
	for endian in "<>":
		m = struct.unpack(endian + "I", magic)[0]
		if m in (0xA1B2C3D4, 0xA1B23C4D):
			nano = m == 0xA1B23C4D
			break
	else:
		raise ValueError("%s: not a pcap or pcapng file" % path)
	if len(buf) < 24:
		raise ValueError("%s: truncated pcap header" % path)
	linktype = struct.unpack(endian + "I", buf[20:24])[0] & 0x0FFFFFFF
	div = 1e9 if nano else 1e6
	out, off = [], 24
	while off + 16 <= len(buf):
		sec, frac, incl, orig = struct.unpack(endian + "IIII", buf[off:off + 16])
		off += 16
		if off + incl > len(buf):
			break		# the writer was stopped mid-packet
		out.append(Packet(sec + frac / div, buf[off:off + incl], orig, linktype))
		off += incl
	return out


def _read_pcapng(path, buf):
	out, off, endian, ifaces = [], 0, "<", []
	while off + 12 <= len(buf):
		btype = struct.unpack(endian + "I", buf[off:off + 4])[0]
		if btype == 0x0A0D0D0A:
			bom = buf[off + 8:off + 12]
			endian = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">"
			ifaces = []
		blen = struct.unpack(endian + "I", buf[off + 4:off + 8])[0]
		if blen < 12 or off + blen > len(buf):
			break
		body = buf[off + 8:off + blen - 4]
		if btype == 1:		# interface description
			lt = struct.unpack(endian + "H", body[:2])[0]
			tsres = 1e-6
			o = 8
			while o + 4 <= len(body):
				code, olen = struct.unpack(endian + "HH", body[o:o + 4])
				if code == 0:
					break
				if code == 9 and olen >= 1:
					v = body[o + 4]
					tsres = 2.0 ** -(v & 0x7F) if v & 0x80 else 10.0 ** -v
				o += 4 + (olen + 3) // 4 * 4
			ifaces.append((lt, tsres))
		elif btype == 6:	# enhanced packet
			ifid, hi, lo, incl, orig = struct.unpack(endian + "IIIII", body[:20])
			lt, res = ifaces[ifid] if ifid < len(ifaces) else (LINKTYPE_ETHERNET, 1e-6)
			out.append(Packet(((hi << 32) | lo) * res, body[20:20 + incl], orig, lt))
		elif btype == 3:	# simple packet
			orig = struct.unpack(endian + "I", body[:4])[0]
			lt = ifaces[0][0] if ifaces else LINKTYPE_ETHERNET
			out.append(Packet(0.0, body[4:4 + orig], orig, lt))
		off += blen
	return out


def write_pcap(path, packets, linktype=LINKTYPE_ETHERNET):
	"""Write packets (objects with .ts and .data) as a nanosecond pcap."""
	with open(path, "wb") as f:
		f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 262144, linktype))
		for p in packets:
			ns = int(round(p.ts * 1e9))
			f.write(struct.pack("<IIII", ns // 10**9, ns % 10**9, len(p.data),
					    getattr(p, "wirelen", len(p.data))))
			f.write(p.data)


# --- decoding -----------------------------------------------------------------

def mac_str(b):
	return ":".join("%02x" % x for x in b)


def ipv4_checksum(hdr):
	if len(hdr) % 2:
		hdr += b"\0"
	s = sum(struct.unpack("!%dH" % (len(hdr) // 2), hdr))
	while s >> 16:
		s = (s & 0xFFFF) + (s >> 16)
	return (~s) & 0xFFFF


class Copy:
	"""One packet at the collector, decoded as far as it goes."""

	def __init__(self, pkt, num):
		self.num = num			# 1-based, as in Wireshark
		self.ts = pkt.ts
		self.wirelen = pkt.wirelen
		self.framelen = len(pkt.data)
		self.family = None		# 4 or 6
		self.src = self.dst = None	# ipaddress objects
		self.ttl = self.tos = None
		self.iplen = None		# outer IP packet length
		self.df = None
		self.gre = None			# dict: flags, proto, key, seq, csum
		self.udp = None			# dict: sport, dport, len, csum, csum_ok
		self.vxlan = None		# dict: flags, res1, vni, res2
		self.erspan = None		# dict of ERSPAN fields
		self.inner = None		# the mirrored frame (bytes)
		self.problems = []		# malformed outer headers

	@property
	def is_copy(self):
		"""GRE (GRE-TEB, ERSPAN) or VXLAN: what a session sends."""
		return bool(self.gre or self.vxlan)

	def stream(self):
		"""(family, src, dst, proto, key-or-session-id) of a GRE copy,
		("vxlan", family, src, dst, dport, vni) of a VXLAN one: the
		session it is on."""
		if self.vxlan:
			return ("vxlan", self.family, self.src, self.dst, self.udp["dport"],
				self.vxlan["vni"])
		if not self.gre:
			return None
		ident = self.erspan["sid"] if self.erspan else self.gre["key"]
		return (self.family, self.src, self.dst, self.gre["proto"], ident)


def decode(pkt, num=0, vxlan_ports=None):
	"""Decode a collector packet; returns a Copy (its .gre is None if the
	packet is not GRE over IPv4/IPv6, its .vxlan None if it is not UDP to
	one of vxlan_ports, default {4789}: then .udp has the UDP header)."""
	c = Copy(pkt, num)
	if vxlan_ports is None:
		vxlan_ports = (VXLAN_PORT,)
	d = bytes(pkt.data)
	if pkt.linktype != LINKTYPE_ETHERNET or len(d) < 14:
		return c
	off, etype = 12, struct.unpack("!H", d[12:14])[0]
	while etype in (0x8100, 0x88A8) and len(d) >= off + 6:
		off += 4
		etype = struct.unpack("!H", d[off:off + 2])[0]
	off += 2
	if etype == 0x0800 and len(d) >= off + 20:
		ihl = (d[off] & 0x0F) * 4
		ver = d[off] >> 4
		tot = struct.unpack("!H", d[off + 2:off + 4])[0]
		if ver != 4 or ihl < 20 or len(d) < off + ihl:
			return c
		frag = struct.unpack("!H", d[off + 6:off + 8])[0]
		c.family, c.tos, c.ttl, c.iplen = 4, d[off + 1], d[off + 8], tot
		c.df = bool(frag & 0x4000)
		c.src = ipaddress.ip_address(d[off + 12:off + 16])
		c.dst = ipaddress.ip_address(d[off + 16:off + 20])
		nh = d[off + 9]
		if nh not in (47, 17):
			return c
		if ipv4_checksum(d[off:off + ihl]) != 0:
			c.problems.append("bad outer IPv4 header checksum")
		if frag & 0x3FFF:
			c.problems.append("outer IPv4 packet is a fragment")
		end = min(len(d), off + tot)
		if off + tot > len(d):
			c.problems.append("captured %d bytes of a %d-byte IPv4 packet"
					  % (len(d) - off, tot))
		pl = d[off + ihl:end]
		whole = off + tot <= len(d)
	elif etype == 0x86DD and len(d) >= off + 40:
		if d[off] >> 4 != 6:
			return c
		vtc = struct.unpack("!I", d[off:off + 4])[0]
		plen, nh = struct.unpack("!HB", d[off + 4:off + 7])
		c.family, c.tos, c.ttl, c.iplen = 6, (vtc >> 20) & 0xFF, d[off + 7], 40 + plen
		c.src = ipaddress.ip_address(d[off + 8:off + 24])
		c.dst = ipaddress.ip_address(d[off + 24:off + 40])
		end = min(len(d), off + 40 + plen)
		o = off + 40
		while nh in (0, 43, 60, 44, 51) and o + 8 <= end:
			if nh == 44:
				c.problems.append("outer IPv6 packet is a fragment")
				hl = 8
			elif nh == 51:
				hl = (d[o + 1] + 2) * 4
			else:
				hl = (d[o + 1] + 1) * 8
			nh = d[o]
			o += hl
		if nh not in (47, 17):
			return c
		pl = d[o:end]
		whole = off + 40 + plen <= len(d)
	else:
		return c
	if nh == 17:
		_decode_udp(c, pl, whole, vxlan_ports)
		return c
	if len(pl) < 4:
		c.problems.append("GRE header cut short")
		return c
	flags, proto = struct.unpack("!HH", pl[:4])
	g = {"flags": flags, "proto": proto, "C": bool(flags & 0x8000),
	     "R": bool(flags & 0x4000), "K": bool(flags & 0x2000),
	     "S": bool(flags & 0x1000), "ver": flags & 7, "key": None, "seq": None}
	o = 4
	if g["C"] or g["R"]:
		o += 4
	if g["K"]:
		if len(pl) < o + 4:
			c.problems.append("GRE key cut short")
			return c
		g["key"] = struct.unpack("!I", pl[o:o + 4])[0]
		o += 4
	if g["S"]:
		if len(pl) < o + 4:
			c.problems.append("GRE sequence number cut short")
			return c
		g["seq"] = struct.unpack("!I", pl[o:o + 4])[0]
		o += 4
	c.gre = g
	if proto == 0x88BE and g["S"]:	# ERSPAN type II (type I has no sequence)
		if len(pl) < o + 8:
			c.problems.append("ERSPAN II header cut short")
			return c
		w0, w1 = struct.unpack("!II", pl[o:o + 8])
		c.erspan = _base(w0, "en")
		c.erspan.update({"reserved": w1 >> 20, "index": w1 & 0xFFFFF})
		o += 8
	elif proto == 0x22EB:
		if len(pl) < o + 12:
			c.problems.append("ERSPAN III header cut short")
			return c
		w0, w1, w2 = struct.unpack("!III", pl[o:o + 12])
		e = _base(w0, "bso")
		e.update({"timestamp": w1, "sgt": w2 >> 16, "p": (w2 >> 15) & 1,
			  "ft": (w2 >> 10) & 0x1F, "hwid": (w2 >> 4) & 0x3F,
			  "d": (w2 >> 3) & 1, "gra": (w2 >> 1) & 3, "o": w2 & 1})
		o += 12
		if e["o"]:
			if len(pl) < o + 8:
				c.problems.append("ERSPAN III platform sub-header cut short")
				return c
			w3, w4 = struct.unpack("!II", pl[o:o + 8])
			e["platf_id"] = w3 >> 26
			if e["platf_id"] == 3:		# port index, 14 bits
				e["index"] = w3 & 0x3FFF
				e["timestamp_hi"] = w4
			elif e["platf_id"] == 7:	# source index, 20 bits
				e["index"] = w3 & 0xFFFFF
				e["timestamp_hi"] = w4
			o += 8
		c.erspan = e
	elif proto != 0x6558:
		return c
	c.inner = bytes(pl[o:])
	return c


def _decode_udp(c, pl, whole, vxlan_ports):
	"""UDP (c.udp), and VXLAN (c.vxlan, c.inner) if it goes to one of
	vxlan_ports.  whole: the capture has the whole IP packet."""
	if len(pl) < 8:
		return
	sport, dport, ulen, ck = struct.unpack("!HHHH", pl[:8])
	u = {"sport": sport, "dport": dport, "len": ulen, "csum": ck, "csum_ok": None,
	     "iplen": len(pl), "whole": whole, "payload": bytes(pl[8:])}
	if whole and ck and ulen == len(pl):
		if c.family == 6:
			pseudo = c.src.packed + c.dst.packed + struct.pack("!IxxxB", ulen, 17)
		else:
			pseudo = c.src.packed + c.dst.packed + struct.pack("!xBH", 17, ulen)
		u["csum_ok"] = ipv4_checksum(pseudo + bytes(pl)) == 0
	c.udp = u
	if dport in vxlan_ports:
		decode_vxlan(c)


def decode_vxlan(c):
	"""Decode c's UDP payload as VXLAN (whatever its port)."""
	u = c.udp
	if _udp_len_bad(u):
		c.problems.append("UDP length %d, the IP payload has %d bytes" % (u["len"], u["iplen"]))
	pl = u["payload"]
	if len(pl) < VXLAN_HLEN:
		c.problems.append("VXLAN header cut short")
		return
	w0, w1 = struct.unpack("!II", pl[:8])
	c.vxlan = {"flags": w0 >> 24, "res1": w0 & 0xFFFFFF, "vni": w1 >> 8, "res2": w1 & 0xFF}
	c.inner = pl[VXLAN_HLEN:]


def _udp_len_bad(u):
	"""The UDP length field disagrees with the IP payload length."""
	return u["len"] != u["iplen"] if u["whole"] else u["len"] < u["iplen"]


def _base(w0, enname):
	return {"ver": w0 >> 28, "vlan": (w0 >> 16) & 0xFFF, "cos": (w0 >> 13) & 7,
		enname: (w0 >> 11) & 3, "t": (w0 >> 10) & 1, "sid": w0 & 0x3FF}


def _kind(f):
	"""ARP, ICMP, ICMP6, TCP, UDP... of an Ethernet frame, for summaries."""
	et = f[12:14] if len(f) >= 14 else b""
	if et == b"\x08\x06":
		return "ARP"
	p = _inner_proto(f)
	return {1: "ICMP", 58: "ICMP6", 6: "TCP", 17: "UDP", 47: "GRE"}.get(
		p, "other" if p is None else "IP proto %d" % p)


def _inner_proto(f):
	"""IP protocol / IPv6 next header of an untagged frame, else None."""
	if len(f) >= 34 and f[12:14] == b"\x08\x00":
		return f[23]
	if len(f) >= 54 and f[12:14] == b"\x86\xdd":
		return f[20]
	return None


def _inner_ip(f):
	"""(family, IP header offset) of an Ethernet frame, past VLAN tags,
	or None if it is not IPv4/IPv6."""
	off = 12
	while len(f) >= off + 2 and f[off:off + 2] in (b"\x81\x00", b"\x88\xa8"):
		off += 4
	et = f[off:off + 2]
	off += 2
	if et == b"\x08\x00" and len(f) >= off + 20 and f[off] >> 4 == 4:
		return 4, off
	if et == b"\x86\xdd" and len(f) >= off + 40 and f[off] >> 4 == 6:
		return 6, off
	return None


def inner_flow(f):
	"""The flow of a mirrored frame, as VXLAN's source port hashes it:
	(frozenset of the IP addresses, protocol, frozenset of the L4 ports),
	the same both ways; the ports only for TCP, UDP, SCTP and UDP-Lite and
	not for fragments.  None if the frame is not IP or is cut before what
	the flow needs (a snaplen)."""
	ip = _inner_ip(f)
	if ip is None:
		return None
	fam, off = ip
	if fam == 4:
		ihl = (f[off] & 15) * 4
		addrs = frozenset((f[off + 12:off + 16], f[off + 16:off + 20]))
		proto = f[off + 9]
		frag = struct.unpack("!H", f[off + 6:off + 8])[0] & 0x3FFF
		l4 = off + ihl
	else:
		addrs = frozenset((f[off + 8:off + 24], f[off + 24:off + 40]))
		proto, l4, frag = f[off + 6], off + 40, False
		while proto in (0, 43, 60, 44):
			if len(f) < l4 + 8:
				return None
			if proto == 44:
				frag = True
				proto, l4 = f[l4], l4 + 8
			else:
				proto, l4 = f[l4], l4 + (f[l4 + 1] + 1) * 8
	if proto not in (6, 17, 132, 136) or frag:
		return (addrs, proto, None)
	if len(f) < l4 + 4:
		return None
	return (addrs, proto, frozenset((f[l4:l4 + 2], f[l4 + 2:l4 + 4])))


def _inner_udp_dport(f):
	"""The UDP destination port of an IP frame (no extension headers), or None."""
	ip = _inner_ip(f)
	if ip is None:
		return None
	fam, off = ip
	if fam == 4 and f[off + 9] == 17:
		l4 = off + (f[off] & 15) * 4
	elif fam == 6 and f[off + 6] == 17:
		l4 = off + 40
	else:
		return None
	return struct.unpack("!H", f[l4 + 2:l4 + 4])[0] if len(f) >= l4 + 4 else None


def frame_summary(f):
	"""A one-line description of an Ethernet frame, for humans."""
	if len(f) < 14:
		return "runt frame (%d bytes)" % len(f)
	s = "%s > %s" % (mac_str(f[6:12]), mac_str(f[0:6]))
	off, et = 14, struct.unpack("!H", f[12:14])[0]
	if et == 0x8100 and len(f) >= 18:
		s += " vlan %d" % (struct.unpack("!H", f[14:16])[0] & 0xFFF)
		et = struct.unpack("!H", f[16:18])[0]
		off = 18
	body = ""
	try:
		if et == 0x0806 and len(f) >= off + 28:
			op = struct.unpack("!H", f[off + 6:off + 8])[0]
			spa = ipaddress.ip_address(f[off + 14:off + 18])
			tpa = ipaddress.ip_address(f[off + 24:off + 28])
			body = ("ARP who-has %s tell %s" % (tpa, spa) if op == 1
				else "ARP %s is-at %s" % (spa, mac_str(f[off + 8:off + 14])))
		elif et == 0x0800 and len(f) >= off + 20:
			ihl = (f[off] & 15) * 4
			proto = f[off + 9]
			src = ipaddress.ip_address(f[off + 12:off + 16])
			dst = ipaddress.ip_address(f[off + 16:off + 20])
			body = "IP %s > %s %s" % (src, dst, _l4(proto, f[off + ihl:], 4))
		elif et == 0x86DD and len(f) >= off + 40:
			src = ipaddress.ip_address(f[off + 8:off + 24])
			dst = ipaddress.ip_address(f[off + 24:off + 40])
			nh, o = f[off + 6], off + 40
			while nh in (0, 43, 60) and len(f) >= o + 8:	# hop-by-hop (MLD), ...
				nh, o = f[o], o + (f[o + 1] + 1) * 8
			body = "IP6 %s > %s %s" % (src, dst, _l4(nh, f[o:], 6))
		else:
			body = "ethertype 0x%04x" % et
	except (ValueError, struct.error):
		body = "ethertype 0x%04x (malformed)" % et
	return "%s, %s, %d bytes" % (s, body, len(f))


def _l4(proto, p, fam):
	if proto == 1 and len(p) >= 8:
		ty = {0: "echo reply", 8: "echo request"}.get(p[0], "type %d" % p[0])
		return "ICMP %s id %d seq %d" % ((ty,) + struct.unpack("!HH", p[4:8]))
	if proto == 58 and len(p) >= 4:
		ty = {128: "echo request", 129: "echo reply", 133: "router solicitation",
		      135: "neighbor solicitation", 136: "neighbor advertisement",
		      143: "MLDv2 report"}.get(p[0], "type %d" % p[0])
		if p[0] in (128, 129) and len(p) >= 8:
			return "ICMP6 %s id %d seq %d" % ((ty,) + struct.unpack("!HH", p[4:8]))
		return "ICMP6 " + ty
	if proto in (6, 17) and len(p) >= 4:
		sp, dp = struct.unpack("!HH", p[:4])
		return "%s %d > %d" % ("TCP" if proto == 6 else "UDP", sp, dp)
	if proto == 47:
		return "GRE"
	return "proto %d" % proto


def copy_summary(c):
	if c.vxlan:
		v, u = c.vxlan, c.udp
		s = "#%d %s > %s UDP %d > %d VXLAN vni %d flags 0x%02x" % (
			c.num, c.src, c.dst, u["sport"], u["dport"], v["vni"], v["flags"])
		if v["res1"] or v["res2"]:
			s += " reserved 0x%06x/0x%02x" % (v["res1"], v["res2"])
		if c.inner is not None:
			s += " | " + frame_summary(c.inner)
		return s
	if not c.gre:
		return "#%d not GRE" % c.num
	g = c.gre
	s = "#%d %s > %s GRE proto 0x%04x" % (c.num, c.src, c.dst, g["proto"])
	if g["K"]:
		s += " key %d" % g["key"]
	if g["S"]:
		s += " seq %d" % g["seq"]
	e = c.erspan
	if e and e["ver"] == 1:
		s += " ERSPAN-II id %d index %d vlan %d cos %d en %d t %d" % (
			e["sid"], e["index"], e["vlan"], e["cos"], e["en"], e["t"])
	elif e:
		s += " ERSPAN-III id %d hwid %d d %d gra %d ts %d bso %d t %d p %d ft %d" % (
			e["sid"], e["hwid"], e["d"], e["gra"], e["timestamp"], e["bso"],
			e["t"], e["p"], e["ft"])
		if "index" in e:
			s += " index %d" % e["index"]
	if c.inner is not None:
		s += " | " + frame_summary(c.inner)
	return s


# --- the spec -----------------------------------------------------------------

def _kv(words, lineno):
	if len(words) % 2:
		raise SpecError("line %d: KEY VALUE pairs expected after '%s'" % (lineno, words[0]))
	return dict(zip(words[::2], words[1::2]))


def parse_spec(path):
	spec = {"collector": None, "window": None, "lag": DEFAULT_LAG, "stats": None,
		"vms": {}, "sessions": {}, "mirrors": {}}
	base = os.path.dirname(os.path.abspath(path))
	with open(path) as f:
		for lineno, line in enumerate(f, 1):
			w = line.split("#", 1)[0].split()
			if not w:
				continue
			kind = w[0]
			try:
				if kind == "collector":
					spec["collector"] = os.path.join(base, w[1])
				elif kind == "window":
					spec["window"] = (float(w[1]), float(w[2]))
				elif kind == "lag":
					spec["lag"] = float(w[1])
				elif kind == "stats":
					spec["stats"] = os.path.join(base, w[1])
				elif kind == "vm":
					a = _kv(w[2:], lineno)
					spec["vms"][w[1]] = {"mac": bytes.fromhex(a["mac"].replace(":", "")),
							     "pcap": os.path.join(base, a["pcap"])}
				elif kind == "session":
					a = _kv(w[2:], lineno)
					s = {"name": w[1], "encap": a["encap"],
					     "src": ipaddress.ip_address(a["src"]),
					     "dst": ipaddress.ip_address(a["dst"]),
					     "key": int(a["key"]) if "key" in a else None,
					     "id": int(a["id"]) if "id" in a else None,
					     "hwid": int(a.get("hwid", 0)),
					     "gra": a.get("gra", "100us"),
					     "subheader": {"none": 0, "3": 3, "7": 7}.get(
						     a.get("subheader", "none"), -1),
					     "ttl": int(a.get("ttl", DEFAULT_TTL)),
					     "tos": int(a.get("tos", DEFAULT_TOS)),
					     "seq0": int(a["seq0"]) if "seq0" in a else None,
					     "cos": a.get("cos"),
					     "drops": set(a.get("drops", "").split(",")) - {""},
					     "complete": a.get("complete") == "yes", "mirrors": []}
					if s["encap"] not in GRE_PROTO and s["encap"] != "vxlan":
						raise SpecError("line %d: unknown encap %s" % (lineno, s["encap"]))
					if s["encap"] == "vxlan":
						_vxlan_spec(s, a, lineno)
					elif s["encap"] != "gre" and s["id"] is None:
						raise SpecError("line %d: an ERSPAN session needs id" % lineno)
					if s["gra"] not in GRA:
						raise SpecError("line %d: gra is 100us or 100ns" % lineno)
					if s["subheader"] < 0:
						raise SpecError("line %d: subheader is none, 3 or 7" % lineno)
					if s["subheader"] and s["encap"] != "erspan3":
						raise SpecError("line %d: subheader is for erspan3" % lineno)
					if s["src"].version != s["dst"].version:
						raise SpecError("line %d: src and dst of different families" % lineno)
					spec["sessions"][w[1]] = s
				elif kind == "mirror":
					a = _kv(w[2:], lineno)
					m = {"name": w[1], "session": a.get("session"),
					     "plain": os.path.join(base, a["plain"]) if "plain" in a else None,
					     "vm": a["vm"], "dir": a["dir"],
					     "index": int(a["index"]) if "index" in a else None,
					     "min": int(a.get("min", 1)),
					     "until": float(a["until"]) if "until" in a else None}
					if (m["session"] is None) == (m["plain"] is None):
						raise SpecError("line %d: a mirror has a session or a plain pcap" % lineno)
					if m["dir"] not in ("in", "out", "both"):
						raise SpecError("line %d: dir is in, out or both" % lineno)
					spec["mirrors"][w[1]] = m
				else:
					raise SpecError("line %d: unknown directive '%s'" % (lineno, kind))
			except (KeyError, IndexError, ValueError) as e:
				raise SpecError("line %d: %s: %s" % (lineno, line.strip(), e))
	for m in spec["mirrors"].values():
		if m["vm"] not in spec["vms"]:
			raise SpecError("mirror %s: unknown vm %s" % (m["name"], m["vm"]))
		if m["session"]:
			if m["session"] not in spec["sessions"]:
				raise SpecError("mirror %s: unknown session %s" % (m["name"], m["session"]))
			spec["sessions"][m["session"]]["mirrors"].append(m)
	for s in spec["sessions"].values():
		if len(s["mirrors"]) > 1 and s["encap"] == "gre":
			raise SpecError("session %s: GRE copies carry no port: one mirror per GRE session"
					% s["name"])
		if len(s["mirrors"]) > 1 and s["encap"] == "vxlan":
			raise SpecError("session %s: VXLAN copies carry no port: one mirror per "
					"VXLAN session" % s["name"])
		if s["encap"] == "vxlan" and any(m["index"] is not None for m in s["mirrors"]):
			raise SpecError("session %s: VXLAN copies carry no port index" % s["name"])
		if len(s["mirrors"]) > 1 and any(m["index"] is None for m in s["mirrors"]):
			raise SpecError("session %s: several mirrors need an index each" % s["name"])
	return spec


def _vxlan_spec(s, a, lineno):
	"""The VXLAN keys of a session line: vni (default: id), dport, sport
	MIN-MAX.  seq0 is accepted (mirror.sh writes it for every session) and
	means nothing: VXLAN has no sequence number."""
	if s["key"] is not None:
		raise SpecError("line %d: a VXLAN session has no GRE key (vni N)" % lineno)
	vni = a.get("vni", a.get("id"))
	if vni is None:
		raise SpecError("line %d: a VXLAN session needs vni or id" % lineno)
	s["vni"] = int(vni)
	s["dport"] = int(a.get("dport", VXLAN_PORT))
	lo, _, hi = a.get("sport", "%d-%d" % DEFAULT_SPORT).partition("-")
	s["sport"] = (int(lo), int(hi or lo))
	if not 0 <= s["vni"] < 1 << 24:
		raise SpecError("line %d: vni %d is not 24 bits" % (lineno, s["vni"]))
	if not 0 < s["dport"] < 65536:
		raise SpecError("line %d: dport %d" % (lineno, s["dport"]))
	if not 0 < s["sport"][0] <= s["sport"][1] < 65536:
		raise SpecError("line %d: sport %d-%d" % ((lineno,) + s["sport"]))


# --- checks -------------------------------------------------------------------

class Results:
	def __init__(self):
		self.items = []		# (key, ok, [details])

	def add(self, key, problems, notes=()):
		"""A check's result: it failed if there are problems.  notes:
		lines said either way (e.g. why a check does not apply)."""
		self.items.append((key, not problems, list(problems) + list(notes)))

	def failed(self):
		return [k for k, ok, _ in self.items if not ok]

	def text(self):
		out = []
		for key, ok, det in self.items:
			out.append("%s %s" % ("ok" if ok else "not ok", key))
			out.extend("\t" + d for d in det[:40])
			if len(det) > 40:
				out.append("\t... and %d more" % (len(det) - 40))
		return "\n".join(out) + "\n"


def direction_of(frame, mac):
	"""VM-centric direction of a frame seen on the VM's NIC: "out" if the VM
	sent it (its source MAC is the VM's), else "in"."""
	return "out" if frame[6:12] == mac else "in"


def uncross(vm_frames, copies):
	"""Put crossed copies back in the VM's order.  Each copy is paired with
	the VM frame of the same bytes (the first unpaired one, in the VM's
	order); the paired copies are sorted by their frame's position, the
	others keep theirs.  Returns (copies, moved): moved lists the copies put
	elsewhere, or None when one took the place of a copy that arrived, or
	whose frame the VM saw, more than CROSS_WINDOW apart from its own (not a
	crossing)."""
	pos = {}
	for k, (_, f) in enumerate(vm_frames):
		pos.setdefault(f, []).append(k)
	used = {f: 0 for f in pos}
	keyed = []
	for j, c in enumerate(copies):
		k = None
		if c[1] in pos and used[c[1]] < len(pos[c[1]]):
			k = pos[c[1]][used[c[1]]]
			used[c[1]] += 1
		keyed.append((k, j))
	slots = [(j, k) for k, j in keyed if k is not None]
	order = sorted((k, j) for k, j in keyed if k is not None)
	new, moved = list(copies), []
	for (slot, ks), (k, j) in zip(slots, order):
		if j == slot:
			continue
		# Both the copies' arrivals and the VM's frames close in time.
		if abs(copies[j][0] - copies[slot][0]) > CROSS_WINDOW or \
		   abs(vm_frames[k][0] - vm_frames[ks][0]) > CROSS_WINDOW:
			return None
		new[slot] = copies[j]
		moved.append(copies[j])
	return new, moved


def match_stream(vm_frames, copies, window, lag, what, hard_end=False, notes=None):
	"""Check that the copies are the VM's frames, each once, in order.

	vm_frames: [(ts, bytes)] from the VM's capture (all inside the window
	during which that capture ran); copies: [(ts, bytes, label)] in arrival
	order.  The copies must contain the VM's frames as one contiguous run;
	copies before or after the run are allowed only near the window's edges
	(frames from before/after the VM's capture ran; with hard_end, nothing
	may come later than lag after the window).  Returns problems."""
	n, probs = len(vm_frames), []
	want = [f for _, f in vm_frames]
	got = [c[1] for c in copies]
	w0, w1 = window if window else (None, None)

	def late_ok(c):
		return c[0] > w1 - lag and (not hard_end or c[0] < w1 + lag)

	def edge_ok(pre, post):
		if w0 is None:
			return not pre and not post
		return all(c[0] < w0 + lag for c in pre) and all(late_ok(c) for c in post)

	starts = [i for i in range(len(got) - n + 1) if got[i:i + n] == want]
	for i in starts:
		if edge_ok(copies[:i], copies[i + n:]):
			return []
	if notes is not None:
		un = uncross(vm_frames, copies)
		if un and un[1] and not match_stream(vm_frames, un[0], window, lag, what, hard_end):
			notes.append("%s: %d copies crossed another within %.0f ms (made on two CPUs), "
				     "in the VM's order otherwise: %s" % (
					     what, len(un[1]), CROSS_WINDOW * 1000,
					     "; ".join(c[2] for c in un[1][:4])))
			return []
	if starts:
		i = starts[0]
		for c in copies[:i]:
			if w0 is None or c[0] >= w0 + lag:
				probs.append("%s: a copy the VM's capture does not explain, before the "
					     "run: %s" % (what, c[2]))
		for c in copies[i + n:]:
			if w1 is None or not late_ok(c):
				probs.append("%s: a copy the VM's capture does not explain, after the "
					     "run: %s" % (what, c[2]))
		return probs
	# Explain the difference.
	sm = difflib.SequenceMatcher(None, want, got, autojunk=False)
	probs.append("%s: %d frames at the VM, %d copies; they differ:" % (what, n, len(got)))
	for op, a0, a1, b0, b1 in sm.get_opcodes():
		if op == "equal":
			continue
		paired = min(a1 - a0, b1 - b0) if op == "replace" else 0
		for k in range(paired):
			probs.append("  VM frame %d differs from copy %s: %s" % (
				a0 + k + 1, copies[b0 + k][2], _first_diff(want[a0 + k], got[b0 + k])))
		for k in range(a0 + paired, a1):
			if w0 is None or w0 + lag <= vm_frames[k][0] <= w1 - lag:
				probs.append("  no copy of VM frame %d (t=%.6f): %s" % (
					k + 1, vm_frames[k][0], frame_summary(want[k])))
		for j in range(b0 + paired, b1):
			dup = " (a duplicate)" if got[j] in want else ""
			probs.append("  unexpected copy%s: %s" % (dup, copies[j][2]))
	return probs


def _first_diff(a, b):
	for i in range(min(len(a), len(b))):
		if a[i] != b[i]:
			return "first difference at byte %d: VM has 0x%02x, copy has 0x%02x (%s)" % (
				i, a[i], b[i], frame_summary(a))
	return "lengths %d (VM) and %d (copy): %s" % (len(a), len(b), frame_summary(a))


def check_session_headers(s, copies):
	"""Outer IP, GRE and ERSPAN fields of every copy of a session."""
	probs = []
	enc = s["encap"]
	for c in copies:
		p = []
		p.extend(c.problems)
		if c.ttl != s["ttl"]:
			p.append("ttl/hop limit %d, want %d" % (c.ttl, s["ttl"]))
		if c.tos != s["tos"]:
			p.append("tos/traffic class %d, want %d" % (c.tos, s["tos"]))
		g = c.gre
		if g["C"] or g["R"] or g["ver"] or g["flags"] & 0x0FF8:
			p.append("GRE flags 0x%04x: only K and S may be set" % g["flags"])
		if not g["S"]:
			p.append("no GRE sequence number")
		if enc == "gre":
			if s["key"] is not None and (not g["K"] or g["key"] != s["key"]):
				p.append("GRE key %s, want %d" % (g["key"] if g["K"] else "absent", s["key"]))
			if s["key"] is None and g["K"]:
				p.append("GRE key %d present, the session has none" % g["key"])
		else:
			e = c.erspan
			if g["K"]:
				p.append("a GRE key on ERSPAN (want K=0)")
			if e is None:
				p.append("no ERSPAN header")
			else:
				if e["ver"] != ERSPAN_VER[enc]:
					p.append("ERSPAN version %d, want %d" % (e["ver"], ERSPAN_VER[enc]))
				if e["sid"] != s["id"]:
					p.append("session id %d, want %d" % (e["sid"], s["id"]))
				if e["t"]:
					p.append("T bit set (truncated) on a %d-byte frame" % len(c.inner or b""))
				p.extend(_check_vlan(e, c.inner or b"", enc, s["cos"]))
				if enc == "erspan2" and e["reserved"]:
					p.append("reserved bits 0x%x set" % e["reserved"])
				if enc == "erspan3":
					p.extend(_check_erspan3(s, e, c))
		if p:
			probs.append("%s: %s" % (copy_summary(c), "; ".join(p)))
	return probs


def check_vxlan_headers(s, copies):
	"""Outer IP, UDP and VXLAN header of every copy of a VXLAN session; the
	source port within the range and one per inner flow, both ways."""
	probs = []
	lo, hi = s["sport"]
	flows = {}		# inner flow: (source port, the first copy with it)
	for c in copies:
		p = list(c.problems)
		u, v = c.udp, c.vxlan
		if c.ttl != s["ttl"]:
			p.append("ttl/hop limit %d, want %d" % (c.ttl, s["ttl"]))
		if c.tos != s["tos"]:
			p.append("tos/traffic class %d, want %d" % (c.tos, s["tos"]))
		if c.family == 4 and not c.df:
			p.append("DF not set")
		if u["dport"] != s["dport"]:
			p.append("UDP destination port %d, want %d" % (u["dport"], s["dport"]))
		if not lo <= u["sport"] <= hi:
			p.append("UDP source port %d outside %d-%d" % (u["sport"], lo, hi))
		if c.family == 4 and u["csum"]:
			p.append("UDP checksum 0x%04x on IPv4, want 0" % u["csum"])
		elif c.family == 6 and not u["csum"]:
			p.append("UDP checksum 0 on IPv6 (RFC 8200: never 0)")
		elif c.family == 6 and u["csum_ok"] is False:
			p.append("UDP checksum 0x%04x is wrong" % u["csum"])
		elif c.family == 6 and u["csum_ok"] is None:
			p.append("UDP checksum 0x%04x not verifiable: the capture lacks part of "
				 "the packet" % u["csum"])
		if v["flags"] != VXLAN_FLAGS:
			p.append("VXLAN flags 0x%02x, want 0x%02x (I)" % (v["flags"], VXLAN_FLAGS))
		if v["res1"] or v["res2"]:
			p.append("VXLAN reserved bits set: 0x%06x, 0x%02x" % (v["res1"], v["res2"]))
		if v["vni"] != s["vni"]:
			p.append("vni %d, want %d" % (v["vni"], s["vni"]))
		fl = inner_flow(c.inner or b"")
		if fl is not None:
			if fl not in flows:
				flows[fl] = (u["sport"], c)
			elif flows[fl][0] != u["sport"]:
				first = flows[fl][1]
				same = first.inner[6:12] == c.inner[6:12]
				p.append("UDP source port %d, but copy #%d of the same flow (%s) had %d"
					 % (u["sport"], first.num, "same direction" if same
					    else "the other direction", flows[fl][0]))
		if p:
			probs.append("%s: %s" % (copy_summary(c), "; ".join(p)))
	return probs


def _ip_precedence(frame):
	"""The IP precedence (top 3 bits of the TOS / traffic class) of an
	untagged Ethernet frame, or 0."""
	if len(frame) >= 16 and frame[12:14] == b"\x08\x00":
		return frame[15] >> 5
	if len(frame) >= 16 and frame[12:14] == b"\x86\xdd":
		return (frame[14] & 0x0F) >> 1
	return 0


def _check_vlan(e, inner, enc, cos):
	"""VLAN, COS, En against the frame's own tag.  An untagged frame's COS
	is 0 (no tag, no priority) or its IP precedence (Linux's erspan); the
	spec's "cos N" or "cos any" overrides that."""
	p = []
	tagged = len(inner) >= 18 and inner[12:14] in (b"\x81\x00", b"\x88\xa8")
	if tagged:
		tci = struct.unpack("!H", inner[14:16])[0]
		if e["vlan"] != tci & 0xFFF:
			p.append("vlan %d, the frame's tag has %d" % (e["vlan"], tci & 0xFFF))
		if enc == "erspan2" and e["en"] != 3:
			p.append("En %d for a frame that keeps its tag, want 3" % e["en"])
	else:
		if e["vlan"]:
			p.append("vlan %d on an untagged frame" % e["vlan"])
		if cos is None:
			if e["cos"] not in (0, _ip_precedence(inner)):
				p.append("cos %d on an untagged frame with IP precedence %d"
					 % (e["cos"], _ip_precedence(inner)))
		elif cos != "any" and e["cos"] != int(cos):
			p.append("cos %d, want %s" % (e["cos"], cos))
		if enc == "erspan2" and e["en"] != 0:
			p.append("En %d on an untagged frame, want 0" % e["en"])
	return p


def _check_erspan3(s, e, c):
	p = []
	want_gra, unit = GRA[s["gra"]]
	if e["hwid"] != s["hwid"]:
		p.append("hwid %d, want %d" % (e["hwid"], s["hwid"]))
	if e["gra"] != want_gra:
		p.append("gra %d, want %d (%s)" % (e["gra"], want_gra, s["gra"]))
	if e["ft"] != 0:
		p.append("frame type %d, want 0 (Ethernet)" % e["ft"])
	if e["p"] != ERSPAN3_P:
		p.append("P bit %d, want %d (Ethernet PDU)" % (e["p"], ERSPAN3_P))
	if e["sgt"]:
		p.append("SGT %d, want 0" % e["sgt"])
	n = len(c.inner or b"")
	linux_bso = 1 if n < 60 else 2 if n > 1514 else 0
	if e["bso"] not in (0, linux_bso):
		p.append("BSO %d for a %d-byte frame" % (e["bso"], n))
	if not s["subheader"] and e["o"]:
		p.append("O bit set (platform sub-header id %s), the session sends none"
			 % e.get("platf_id"))
	elif s["subheader"] and not e["o"]:
		p.append("no platform sub-header (O bit 0), want Platf ID %d" % s["subheader"])
	elif s["subheader"] and e.get("platf_id") != s["subheader"]:
		p.append("platform sub-header id %s, want %d" % (e.get("platf_id"), s["subheader"]))
	# The timestamp is wall-clock time in units of gra, cut to 32 bits;
	# with a sub-header 3 or 7, the upper 32 bits are there.
	now = int(round(c.ts / unit)) & 0xFFFFFFFF
	diff = (e["timestamp"] - now + 2**31) % 2**32 - 2**31
	if abs(diff * unit) > TS_TOLERANCE:
		p.append("timestamp %d is %.3f s away from the capture time at %s granularity"
			 % (e["timestamp"], diff * unit, s["gra"]))
	if e.get("timestamp_hi") is not None:
		full = (e["timestamp_hi"] << 32 | e["timestamp"]) * unit
		if abs(full - c.ts) > TS_TOLERANCE:
			p.append("64-bit timestamp (upper %d from the sub-header) is %.3f s away "
				 "from the capture time" % (e["timestamp_hi"], full - c.ts))
	return p


def check_seq(s, copies, streams, notes=None):
	"""Sequence numbers: taken together, the session's copies carry seq0,
	seq0 + 1, ... each exactly once (no copy lost, none sent twice); within
	each stream of one port and direction they rise in arrival order, but for
	copies that crossed within CROSS_WINDOW (notes).  Copies of different
	streams may arrive out of sequence order: they are made on different
	CPUs and the underlay does not serialise them."""
	probs = []
	seqs = [c.gre["seq"] for c in copies if c.gre["S"]]
	if not seqs:
		return ["no copies with a sequence number"] if copies else []
	first = s["seq0"] if s["seq0"] is not None else min(seqs)
	rel = sorted((x - first) & 0xFFFFFFFF for x in seqs)
	if rel != list(range(len(rel))):
		if rel[0] != 0:
			probs.append("lowest sequence number %d, want %d" % ((rel[0] + first) & 0xFFFFFFFF,
									   first))
		dups = sorted({(x + first) & 0xFFFFFFFF for x, y in zip(rel, rel[1:]) if x == y})
		if dups:
			probs.append("sequence numbers sent twice: %s" % dups[:10])
		have = set(rel)
		if rel[-1] >= 2 * len(rel) + 1000:
			probs.append("sequence numbers from %d to %d for %d copies" % (
				first, (rel[-1] + first) & 0xFFFFFFFF, len(rel)))
		else:
			gaps = [(x + first) & 0xFFFFFFFF for x in range(rel[-1]) if x not in have]
			if gaps:
				probs.append("%d sequence numbers missing (copies lost?): %s" % (
					len(gaps), gaps[:10]))
	for what, st in streams:
		for i, b in enumerate(st):
			# The latest-numbered copy before b that b should have preceded.
			late = [a for a in st[:i]
				if not 0 < (b.gre["seq"] - a.gre["seq"]) & 0xFFFFFFFF < 2**31]
			if not late:
				continue
			far = [a for a in late if abs(b.ts - a.ts) > CROSS_WINDOW]
			a = (far or late)[0]
			msg = "%s: sequence %d arrived %.1f ms after %d: %s" % (
				what, b.gre["seq"], (b.ts - a.ts) * 1000, a.gre["seq"], copy_summary(b))
			if far:
				probs.append(msg)
			elif notes is not None:
				notes.append(msg + " (crossed, within %.0f ms)" % (CROSS_WINDOW * 1000))
	return probs


def check_counters(s, copies, stats):
	ent = [x for x in stats if x.get("name") == s["name"]]
	if not ent:
		return ["session %s is not in the saved counters" % s["name"]]
	st = ent[0].get("stats", {})
	probs = []
	if st.get("sent") != len(copies):
		probs.append("counted %s sent, %d arrived" % (st.get("sent"), len(copies)))
	l3 = sum(c.iplen for c in copies)
	l2 = sum(c.wirelen for c in copies)
	if st.get("bytes") not in (l3, l2):
		probs.append("counted %s bytes; the copies are %d bytes of IP packets, %d of frames"
			     % (st.get("bytes"), l3, l2))
	for k, v in sorted(st.items()):
		if (k.startswith("drop_") or k == "truncated") and v and k not in s["drops"]:
			probs.append("%s %d" % (k, v))
	return probs


def run_checks(spec):
	res = Results()
	vx = [s for s in spec["sessions"].values() if s["encap"] == "vxlan"]
	ports = {VXLAN_PORT} | {s["dport"] for s in vx}
	col = [decode(p, i + 1, ports) for i, p in enumerate(read_pcap(spec["collector"]))] \
		if spec["collector"] else []
	# UDP between a VXLAN session's addresses to another port is vtap's
	# too (a wrong destination port): decode it as VXLAN, to report it.
	vx_pairs = {(s["src"], s["dst"]) for s in vx}
	for c in col:
		if c.udp and not c.vxlan and (c.src, c.dst) in vx_pairs:
			decode_vxlan(c)
	vmframes = {}
	for name, vm in spec["vms"].items():
		frames = [(p.ts, bytes(p.data)) for p in read_pcap(vm["pcap"])]
		vmframes[name] = frames
	stats = None
	if spec["stats"]:
		with open(spec["stats"]) as f:
			stats = json.load(f)

	# Copies per session.
	by_stream = {}
	for s in spec["sessions"].values():
		if s["encap"] == "vxlan":
			by_stream[("vxlan", s["src"].version, s["src"], s["dst"], s["dport"],
				   s["vni"])] = s
			continue
		ident = s["id"] if s["encap"] != "gre" else s["key"]
		by_stream[(s["src"].version, s["src"], s["dst"], GRE_PROTO[s["encap"]], ident)] = s
	per_session = {n: [] for n in spec["sessions"]}
	unknown = []
	for c in col:
		if not c.is_copy:
			continue
		s = by_stream.get(c.stream())
		if s is None:
			# A stream with the right addresses but a wrong key, id,
			# VNI or port is vtap's too: that is what the check is for.
			if any(c.dst == x["dst"] for x in spec["sessions"].values()):
				unknown.append("%s to a collector that belongs to no session: %s"
					       % ("VXLAN" if c.vxlan else "GRE", copy_summary(c)))
			continue
		per_session[s["name"]].append(c)
	res.add("collector.unknown", unknown)
	# vtap never mirrors its own output: no copy carries a GRE packet, or a
	# VXLAN one (UDP to a VXLAN port).
	res.add("collector.nested",
		["a copy of a GRE packet: " + copy_summary(c) for c in col
		 if c.inner and _inner_proto(c.inner) == 47] +
		["a copy of a VXLAN packet: " + copy_summary(c) for c in col
		 if c.inner and c.is_copy and _inner_udp_dport(c.inner) in ports])

	lag, window = spec["lag"], spec["window"]
	for sname, s in spec["sessions"].items():
		copies = per_session[sname]
		if s["encap"] == "vxlan":
			probs = check_vxlan_headers(s, copies)
		else:
			probs = check_session_headers(s, copies)
		# Which mirror does each copy belong to?  By index when the
		# copies carry one and the session has several ports.
		by_index = {m["index"]: m for m in s["mirrors"]}
		for c in copies:
			idx = c.erspan.get("index") if c.erspan else None
			if not s["mirrors"]:
				probs.append("%s: a copy, but no port is mirrored to this session"
					     % copy_summary(c))
				continue
			if len(s["mirrors"]) == 1 and (idx is None or s["mirrors"][0]["index"] is None):
				m = s["mirrors"][0]
			else:
				m = by_index.get(idx)
				if m is None:
					probs.append("%s: index %s, which no port of this session has"
						     % (copy_summary(c), idx))
					continue
			m.setdefault("copies", []).append(c)
		res.add(sname + ".headers", probs)
		streams = []
		for m in s["mirrors"]:
			mac = spec["vms"][m["vm"]]["mac"]
			for d in ("out", "in"):
				st = [c for c in m.get("copies", []) if c.inner is not None
				      and direction_of(c.inner, mac) == d]
				streams.append(("%s dir %s" % (m["name"], d), st))
		if s["encap"] == "vxlan":
			res.add(sname + ".seq", [], ["not applicable: VXLAN carries no sequence "
						     "number (order: the mirrors' .frames checks)"])
		else:
			notes = []
			res.add(sname + ".seq", check_seq(s, copies, streams, notes), notes)
		if s["complete"] and stats is not None:
			res.add(sname + ".counters", check_counters(s, copies, stats))

	for mname, m in spec["mirrors"].items():
		vm = spec["vms"][m["vm"]]
		frames = vmframes[m["vm"]]
		if m["plain"]:
			plain = read_pcap(m["plain"])
			copies = [(p.ts, bytes(p.data), "#%d %s" % (i + 1, frame_summary(p.data)),
				   None) for i, p in enumerate(plain)]
		else:
			copies = [(c.ts, c.inner, copy_summary(c), c) for c in m.get("copies", [])]
		probs, hdr, fnotes = [], [], []
		dirs = ["out", "in"] if m["dir"] == "both" else [m["dir"]]
		for d in ("out", "in"):
			want = [f for f in frames if direction_of(f[1], vm["mac"]) == d
				and (m["until"] is None or f[0] <= m["until"])]
			got = [c for c in copies if direction_of(c[1], vm["mac"]) == d]
			if d not in dirs:
				for c in got:
					probs.append("a copy of a frame the VM %s, but the flow is dir %s: %s"
						     % ("sent" if d == "out" else "received", m["dir"], c[2]))
				continue
			if len(want) < m["min"]:
				probs.append("only %d frames %s at the VM, want at least %d (no traffic?)"
					     % (len(want), "sent" if d == "out" else "received", m["min"]))
			win = window
			if m["until"] is not None and window:
				win = (window[0], m["until"])
			probs.extend(match_stream(want, [c[:3] for c in got], win, lag,
						  "dir " + d, hard_end=m["until"] is not None,
						  notes=fnotes))
			for c in got:
				cp = c[3]
				if cp is None or not cp.erspan:
					continue
				e = cp.erspan
				if m["index"] is not None and e.get("index", m["index"]) != m["index"]:
					hdr.append("%s: index %s, want %d" % (c[2], e.get("index"), m["index"]))
				if e["ver"] == 2 and e["d"] != ERSPAN3_D[d]:
					hdr.append("%s: D bit %d on a frame the VM %s, want %d" % (
						c[2], e["d"], "sent" if d == "out" else "received", ERSPAN3_D[d]))
		res.add(mname + ".frames", probs, fnotes)
		if m["session"]:
			vx = spec["sessions"][m["session"]]["encap"] == "vxlan"
			res.add(mname + ".headers", hdr, ["not applicable: VXLAN copies carry no port "
							  "index or direction"] if vx else [])
	return res


# --- tshark cross-check -------------------------------------------------------

TSHARK_FIELDS = ["frame.number", "gre.proto", "gre.key", "gre.sequence_number",
		 "erspan.version", "erspan.spanid", "erspan.index", "erspan.hw",
		 "erspan.direction", "erspan.gra", "erspan.truncated", "erspan.timestamp",
		 "erspan.p", "erspan.ft", "erspan.bso", "erspan.encap", "erspan.vlan",
		 "erspan.cos", "erspan.o", "erspan.platid", "erspan.pid3.port_index",
		 "erspan.pid3.timestamp", "erspan.pid7.source_index", "erspan.pid7.timestamp",
		 "udp.srcport", "udp.dstport", "udp.length", "udp.checksum", "udp.checksum.status",
		 "vxlan.flags", "vxlan.gbp", "vxlan.vni", "vxlan.reserved8",
		 "eth.dst", "eth.src", "eth.type"]
# Fields whose every occurrence is kept (outer and inner Ethernet header).
TSHARK_ALL = ("eth.dst", "eth.src", "eth.type")
# udp.checksum.status: Wireshark's checksum status values.
TSHARK_CSUM = {0: "bad", 1: "good", 2: "unverified", 3: "not present", 4: "illegal"}


def tshark_fields(pcap, tshark="tshark", vxlan_ports=None):
	"""tshark's view of every packet: {frame number: {field: first value}},
	and for TSHARK_ALL the list of every value (the outer frame's, then the
	inner one's).  UDP to vxlan_ports (besides 4789) decodes as VXLAN; UDP
	checksums are verified."""
	cmd = [tshark, "-n", "-r", pcap, "-o", "udp.check_checksum:TRUE", "-T", "fields",
	       "-E", "occurrence=a", "-E", "aggregator=|"]
	for port in sorted(set(vxlan_ports or ()) - {VXLAN_PORT}):
		cmd += ["-d", "udp.port==%d,vxlan" % port]
	for f in TSHARK_FIELDS:
		cmd += ["-e", f]
	out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE,
			     stderr=subprocess.PIPE, universal_newlines=True).stdout
	rows = {}
	for line in out.splitlines():
		v = line.split("\t")
		rows[int(v[0])] = {f: (x.split("|") if f in TSHARK_ALL else x.split("|")[0])
				   for f, x in zip(TSHARK_FIELDS[1:], v[1:]) if x != ""}
	return rows


def _num(x):
	return int(x, 0) if x.lower().startswith("0x") else int(x)


def tshark_compare(copies, rows):
	"""Problems where tshark and this decoder disagree on a GRE or VXLAN copy."""
	probs = []
	for c in copies:
		if c.vxlan:
			bad = _tshark_vxlan(c, rows.get(c.num, {}))
			if bad:
				probs.append("%s: %s" % (copy_summary(c), "; ".join(bad)))
			continue
		if not c.gre:
			continue
		t = rows.get(c.num, {})
		want = {"gre.proto": c.gre["proto"], "gre.sequence_number": c.gre["seq"]}
		if c.gre["K"]:
			want["gre.key"] = c.gre["key"]
		e = c.erspan
		if e:
			want.update({"erspan.version": e["ver"], "erspan.spanid": e["sid"],
				     "erspan.truncated": e["t"], "erspan.vlan": e["vlan"],
				     "erspan.cos": e["cos"]})
			if e["ver"] == 1:
				want.update({"erspan.index": e["index"], "erspan.encap": e["en"]})
			else:
				want.update({"erspan.hw": e["hwid"], "erspan.direction": e["d"],
					     "erspan.gra": e["gra"], "erspan.timestamp": e["timestamp"],
					     "erspan.p": e["p"], "erspan.ft": e["ft"],
					     "erspan.bso": e["bso"], "erspan.o": e["o"]})
				if e["o"]:
					want["erspan.platid"] = e["platf_id"]
				if e.get("platf_id") in (3, 7):
					pid = "erspan.pid%d." % e["platf_id"]
					want[pid + ("port_index" if e["platf_id"] == 3 else "source_index")] = \
						e["index"]
					want[pid + "timestamp"] = e["timestamp_hi"]
		bad = []
		for f, v in want.items():
			if v is None:
				continue
			got = t.get(f)
			try:
				ok = got is not None and _num(got) == v
			except ValueError:
				ok = False
			if not ok:
				bad.append("%s: tshark %s, decoder %s" % (f, got, v))
		if bad:
			probs.append("%s: %s" % (copy_summary(c), "; ".join(bad)))
	return probs


def _tshark_vxlan(c, t):
	"""Where tshark's fields t disagree with the decoder on VXLAN copy c:
	UDP ports, length and checksum (valid or not), VXLAN flags, reserved
	bits and VNI, the inner frame's Ethernet header."""
	u, v = c.udp, c.vxlan
	want = {"udp.srcport": u["sport"], "udp.dstport": u["dport"], "udp.length": u["len"],
		"udp.checksum": u["csum"], "vxlan.flags": v["flags"] << 8 | v["res1"] >> 16,
		"vxlan.gbp": v["res1"] & 0xFFFF, "vxlan.vni": v["vni"], "vxlan.reserved8": v["res2"]}
	bad = []
	for f, x in want.items():
		got = t.get(f)
		try:
			ok = got is not None and _num(got) == x
		except ValueError:
			ok = False
		if not ok:
			bad.append("%s: tshark %s, decoder %s" % (f, got, x))
	st = t.get("udp.checksum.status")
	mine = "not present" if not u["csum"] else {True: "good", False: "bad"}.get(u["csum_ok"])
	if mine is not None and TSHARK_CSUM.get(_num(st) if st else None) != mine:
		bad.append("UDP checksum: tshark %s, decoder %s" % (
			TSHARK_CSUM.get(_num(st) if st else None, st), mine))
	f = c.inner or b""
	if len(f) >= 14:
		inner = (mac_str(f[0:6]), mac_str(f[6:12]), "0x%04x" % struct.unpack("!H", f[12:14]))
		got = tuple(t[k][1].lower() if len(t.get(k, ())) > 1 else None for k in TSHARK_ALL)
		if got != inner:
			bad.append("inner Ethernet header: tshark %s, decoder %s" % (
				" ".join(str(x) for x in got), " ".join(inner)))
	return bad


# --- summary (make demo) --------------------------------------------------------

ENCAP_NAME = {0x6558: "GRE", 0x88BE: "ERSPAN II", 0x22EB: "ERSPAN III"}


def summary(pcap, vms, ports, nframes, out=sys.stdout, vxlan_ports=None):
	"""What arrived, per session, then per port and direction: packets,
	bytes, the first frames.  vms: {label: MAC} with one label per port
	(e.g. "vnet1 (vm1)"); ports: {port id: label}.  ERSPAN II names the port
	(index), the MACs the direction; ERSPAN III the direction (D bit), the
	MACs the port; GRE and VXLAN neither.  A VXLAN session's line counts its
	source ports (one per inner flow) instead of sequence numbers."""
	macs = {bytes.fromhex(m.replace(":", "")): n for n, m in vms.items()}
	sessions, order = {}, []
	for i, p in enumerate(read_pcap(pcap)):
		c = decode(p, i + 1, vxlan_ports)
		if not c.is_copy or c.inner is None:
			continue
		key = c.stream()
		if key not in sessions:
			sessions[key] = {"first": c, "seqs": [], "groups": {}, "gorder": [],
					 "sports": set()}
			order.append(key)
		ss = sessions[key]
		if c.vxlan:
			ss["sports"].add(c.udp["sport"])
		else:
			ss["seqs"].append(c.gre["seq"])
		e = c.erspan
		if e and "index" in e:		# ERSPAN II, or III with a port sub-header
			port = ports.get(e["index"], "port id %d" % e["index"])
			mac = bytes.fromhex(vms.get(port, "").replace(":", ""))
		else:
			port = mac = None
		if e and e["ver"] == 2:		# the D bit says, and the MACs name the port
			d = "in" if e["d"] == ERSPAN3_D["in"] else "out"
			if port is None:
				port = macs.get(c.inner[6:12] if d == "out" else c.inner[0:6], "?")
		elif port is not None:
			d = "out" if c.inner[6:12] == mac else "in"
		else:				# GRE: neither port nor direction on the wire
			port, d = "(any port)", "-"
		g = ss["groups"].setdefault((port, d), {"packets": 0, "bytes": 0, "first": [],
							 "kinds": {}})
		kind = _kind(c.inner)
		g["kinds"][kind] = g["kinds"].get(kind, 0) + 1
		if g["packets"] == 0:
			ss["gorder"].append((port, d))
		g["packets"] += 1
		g["bytes"] += len(c.inner)
		if len(g["first"]) < nframes and c.vxlan:
			g["first"].append("#%-5d sport %-5d %s" % (c.num, c.udp["sport"],
								frame_summary(c.inner)))
		elif len(g["first"]) < nframes:
			g["first"].append("#%-5d seq %-5s %s" % (c.num, c.gre["seq"],
							      frame_summary(c.inner)))
	if not order:
		print("  (no mirror copies in %s)" % pcap, file=out)
	for key in order:
		ss = sessions[key]
		c = ss["first"]
		e = c.erspan
		if c.vxlan:
			n = sum(g["packets"] for g in ss["groups"].values())
			print("VXLAN vni %d, %s > %s, UDP port %d: %d copies, %d source ports" % (
				key[5], c.src, c.dst, key[4], n, len(ss["sports"])), file=out)
			_summary_groups(ss, out)
			continue
		name = ENCAP_NAME.get(c.gre["proto"], "GRE 0x%04x" % c.gre["proto"])
		desc = "%s %s %d, %s > %s" % (name, "session" if e else "key", key[4], c.src, c.dst)
		if e and e["ver"] == 2:
			desc += ", hwid %d, gra %s" % (e["hwid"], {0: "100us", 1: "100ns"}.get(e["gra"], e["gra"]))
		seqs = ss["seqs"]
		lo = min(seqs)
		missing = max(seqs) - lo + 1 - len(set(seqs))
		print("%s: %d copies, sequence %d..%d, %s" % (
			desc, len(seqs), lo, max(seqs),
			"none missing" if not missing else "%d missing" % missing), file=out)
		_summary_groups(ss, out)
	return sessions


def _summary_groups(ss, out):
	for port, d in sorted(ss["gorder"]):
		g = ss["groups"][(port, d)]
		what = {"out": "out (sent by the VM)", "in": "in  (delivered to it)"}.get(d, "")
		print("  %-14s %-22s %5d packets %8d bytes  (%s)" % (
			port, what, g["packets"], g["bytes"],
			", ".join("%s %d" % kv for kv in sorted(g["kinds"].items()))), file=out)
		for line in g["first"]:
			print("      " + line, file=out)


# --- command line ---------------------------------------------------------------

def main(argv=None):
	ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
	sub = ap.add_subparsers(dest="cmd", required=True)
	vxhelp = "UDP port to decode as VXLAN (repeat; default 4789)"
	p = sub.add_parser("decode")
	p.add_argument("pcap")
	p.add_argument("--count", type=int, default=0)
	p.add_argument("--vxlan-port", type=int, action="append", help=vxhelp)
	p = sub.add_parser("check")
	p.add_argument("spec")
	p.add_argument("--results")
	p = sub.add_parser("tshark")
	p.add_argument("pcap")
	p.add_argument("--results")
	p.add_argument("--vxlan-port", type=int, action="append", help=vxhelp)
	p = sub.add_parser("summary")
	p.add_argument("pcap")
	p.add_argument("--vm", action="append", default=[], help="LABEL=MAC")
	p.add_argument("--port", action="append", default=[], help="ID=LABEL")
	p.add_argument("--frames", type=int, default=3)
	p.add_argument("--vxlan-port", type=int, action="append", help=vxhelp)
	p = sub.add_parser("merge")
	p.add_argument("out")
	p.add_argument("pcaps", nargs="+")
	a = ap.parse_args(argv)
	if getattr(a, "vxlan_port", None):
		a.vxlan_port = [VXLAN_PORT] + a.vxlan_port

	if a.cmd == "decode":
		for i, pk in enumerate(read_pcap(a.pcap)):
			if a.count and i >= a.count:
				break
			c = decode(pk, i + 1, a.vxlan_port)
			print("%.6f %s" % (pk.ts, copy_summary(c) if c.is_copy else
					    "#%d %s" % (i + 1, frame_summary(pk.data))))
		return 0
	if a.cmd == "merge":
		pk = []
		for f in a.pcaps:
			pk.extend(read_pcap(f))
		pk.sort(key=lambda x: x.ts)
		write_pcap(a.out, pk)
		return 0
	if a.cmd == "summary":
		vms = dict(x.rsplit("=", 1) for x in a.vm)
		ports = {int(k): v for k, v in (x.split("=", 1) for x in a.port)}
		summary(a.pcap, vms, ports, a.frames, vxlan_ports=a.vxlan_port)
		return 0
	if a.cmd == "check":
		try:
			spec = parse_spec(a.spec)
		except SpecError as e:
			print("vtapcap: %s: %s" % (a.spec, e), file=sys.stderr)
			return 2
		res = run_checks(spec)
	else:
		res = Results()
		copies = [decode(p, i + 1, a.vxlan_port) for i, p in enumerate(read_pcap(a.pcap))]
		try:
			rows = tshark_fields(a.pcap, vxlan_ports=a.vxlan_port)
		except (OSError, subprocess.CalledProcessError) as e:
			res.add("tshark", ["tshark failed: %s" % e])
		else:
			probs = tshark_compare(copies, rows)
			if not any(c.erspan or c.vxlan for c in copies):
				probs.append("no ERSPAN or VXLAN copies in %s" % a.pcap)
			res.add("tshark", probs)
	text = res.text()
	sys.stdout.write(text)
	if a.results:
		with open(a.results, "a") as f:
			f.write(text)
	return 1 if res.failed() else 0


if __name__ == "__main__":
	try:
		sys.exit(main())
	except BrokenPipeError:		# | head
		sys.exit(0)
