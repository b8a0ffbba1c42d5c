#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Checks of the packet-broker features (sampling, slicing, masking, rate,
GSO, path MTU) on a collector capture.  Used by selftests/guest/broker.sh;
each subcommand prints what it found and exits non-zero on a mismatch.

  count PCAP KEY_OR_ID                 copies of one stream
  snap PCAP ID SNAPLEN                 cut copies: len == snaplen, T set
                                       (ERSPAN; GRE and VXLAN have no T bit),
                                       the inner IP length still the original
  mask PCAP ID OFF LEN BYTE VMPCAP MAC copies masked; the rest byte-identical
                                       to the frames of MAC in VMPCAP (a
                                       capture where checksums are complete)
  gso PCAP KEY WIREPCAP MAC PORT [partial|cut]
                                       copies of a TCP flow == its segments on
                                       the wire (WIREPCAP), each once (the
                                       host may reorder them on the way to
                                       the wire); with partial, every
                                       copy's TCP checksum is the one left
                                       to the device (the pseudo-header
                                       sum), completed here;
                                       with cut, copies cut to the path MTU
                                       are prefixes whose checksum is that
  mtu PCAP ID MTU                      no outer packet over MTU, no fragment,
                                       DF set, oversized copies have T set
                                       (or, GRE and VXLAN, are cut)

KEY_OR_ID / ID: the GRE key or ERSPAN session id, or vni:N for the VXLAN VNI N
(UDP port 4789); a VXLAN copy's outer UDP checksum must be right (zero over
IPv4; complete over IPv6: the tests' underlay computes what is left to it).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vtapcap  # noqa: E402


def stream(s):
	"""A KEY_OR_ID argument: ("vni", N) for vni:N, else the number (a
	caller may pass the number itself)."""
	if isinstance(s, int):
		return s
	return ("vni", int(s[4:])) if s.startswith("vni:") else int(s)


def udp_csum_problem(c):
	"""What is wrong with a VXLAN copy's outer UDP checksum, if anything."""
	u = c.udp
	if c.family == 4:
		return f"UDP checksum {u['csum']:#06x} over IPv4, want 0" if u["csum"] else None
	if not u["csum"]:
		return "UDP checksum 0 over IPv6"
	return None if u["csum_ok"] else f"UDP checksum {u['csum']:#06x} over IPv6 is wrong"


def copies(pcap, ident):
	out = []
	ident = stream(ident)
	for i, p in enumerate(vtapcap.read_pcap(pcap)):
		c = vtapcap.decode(p, i + 1)
		if not c.is_copy or c.inner is None:
			continue
		if c.vxlan:
			cid = ("vni", c.vxlan["vni"])
		else:
			cid = c.erspan["sid"] if c.erspan else c.gre.get("key")
		if cid != ident:
			continue
		if c.vxlan and udp_csum_problem(c):
			fail(f"#{c.num}: {udp_csum_problem(c)}")
		out.append(c)
	return out


def cut(c):
	"""Is copy C cut?  ERSPAN says so (T bit); a GRE or VXLAN copy is cut
	if its inner IP packet is longer than what it carries."""
	if c.erspan:
		return bool(c.erspan.get("t"))
	f = c.inner
	if f[12:14] == b"\x08\x00" and len(f) >= 18:
		return 14 + int.from_bytes(f[16:18], "big") > len(f)
	if f[12:14] == b"\x86\xdd" and len(f) >= 20:
		return 54 + int.from_bytes(f[18:20], "big") > len(f)
	return False


def csum(data):
	"""The ones' complement sum of DATA, unfolded."""
	if len(data) % 2:
		data += b"\0"
	return sum(int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2))


def fold(s):
	while s >> 16:
		s = (s & 0xffff) + (s >> 16)
	return s


def fail(msg):
	print("FAIL:", msg)
	sys.exit(1)


def mac_bytes(s):
	return bytes(int(x, 16) for x in s.split(":"))


def vm_frames(pcap, mac, pred=lambda f: True):
	m = mac_bytes(mac)
	return [p.data for p in vtapcap.read_pcap(pcap) if p.data[6:12] == m and pred(p.data)]


def cmd_count(a):
	print(len(copies(a[0], a[1])))


def cmd_snap(a):
	cs, snap = copies(a[0], a[1]), int(a[2])
	if not cs:
		fail("no copies")
	ncut = whole = 0
	for c in cs:
		t = c.erspan.get("t") if c.erspan else None	# no T bit: GRE, VXLAN
		if len(c.inner) > snap:
			fail(f"#{c.num}: inner frame of {len(c.inner)} bytes > snaplen {snap}")
		iplen = int.from_bytes(c.inner[16:18], "big") if c.inner[12:14] == b"\x08\x00" else None
		orig = 14 + iplen if iplen is not None else None
		if orig is not None and orig > snap:
			if len(c.inner) != snap or t == 0:
				fail(f"#{c.num}: frame of {orig} bytes: copy {len(c.inner)} bytes, T={t}")
			ncut += 1
		else:
			if t:
				fail(f"#{c.num}: whole frame with T set")
			whole += 1
	tbit = " with T set" if cs[0].erspan else ""
	print(f"{len(cs)} copies: {ncut} cut to {snap}{tbit} (original length in the inner IP header), {whole} whole")
	if not ncut or not whole:
		fail("expected both cut and whole copies")


def cmd_mask(a):
	cs = copies(a[0], a[1])
	off, ln, byte = int(a[2]), int(a[3]), int(a[4])
	vm = vm_frames(a[5], a[6])
	if not cs or len(cs) != len(vm):
		fail(f"{len(cs)} copies for {len(vm)} frames the VM sent")
	# Matched by content, not by position: copies made in order can cross
	# on the underlay when the sender moves between CPUs (two backlogs).
	# Seen on the debug kernel: ERSPAN sequence 12 (IP id ec) arrived
	# before 10 and 11 (e5, e6); vm2 got e5 e6 ec.  The collector has
	# the sequence numbers to tell.
	want = {}
	for f in vm:
		if f[off:off + ln] == bytes([byte]) * len(f[off:off + ln]):
			fail("a VM-side frame looks masked too")
		w = f[:off] + bytes([byte]) * min(ln, max(0, len(f) - off)) + f[off + ln:]
		want[w] = want.get(w, 0) + 1
	for c in cs:
		if not want.get(c.inner):
			fail(f"#{c.num}: copy differs from every masked frame the VM sent")
		want[c.inner] -= 1
	print(f"{len(cs)} copies masked at [{off},{off + ln}) with {byte:#x}; the VM's frames untouched")


def cmd_gso(a):
	cs = copies(a[0], a[1])
	port = int(a[4])

	def tcp_to_port(f):
		return f[12:14] == b"\x08\x00" and f[23] == 6 and \
			int.from_bytes(f[14 + (f[14] & 15) * 4 + 2:][:2], "big") == port

	def tcp_seq(f):
		t = 14 + (f[14] & 15) * 4
		return int.from_bytes(f[t + 4:t + 8], "big")

	def complete(f):
		"""The TCP checksum of an IPv4 frame whose checksum was left to
		the device (CHECKSUM_PARTIAL: the field holds the pseudo-header
		sum), completed as the device would; None if the field is not
		that."""
		ihl = (f[14] & 15) * 4
		t = 14 + ihl
		tot = int.from_bytes(f[16:18], "big")
		seg = bytearray(f[t:14 + tot])
		pseudo = f[26:30] + f[30:34] + bytes([0, 6]) + len(seg).to_bytes(2, "big")
		if seg[16:18] != fold(csum(pseudo)).to_bytes(2, "big"):
			# Complete already (the VM's stack did it: a RST), or wrong.
			return f if fold(csum(pseudo + bytes(seg))) == 0xffff else None
		seg[16:18] = (~fold(csum(bytes(seg))) & 0xffff).to_bytes(2, "big")
		return f[:t] + bytes(seg) + f[14 + tot:]

	wire = vm_frames(a[2], a[3], tcp_to_port)
	# In the order vtap made them (GRE sequence), not the order they arrived:
	# copies made on two CPUs may cross on the underlay (seen on the debug
	# kernel: sequence 33 arrived before 30-32).
	# VXLAN has no sequence: its copies stay in arrival order.
	cs.sort(key=lambda c: c.gre["seq"] if c.gre and c.gre.get("seq") is not None else -1)
	got = [c.inner for c in cs if tcp_to_port(c.inner)]
	if len(a) > 5 and a[5] == "partial":
		done = [complete(f) for f in got]
		if None in done:
			i = done.index(None)
			fail(f"copy {i} (seq {tcp_seq(got[i])}): its TCP checksum is neither complete "
			     "nor the one left to the device")
		left = sum(1 for f, d in zip(got, done) if f != d)
		big = sum(1 for f, d in zip(got, done) if f == d and len(f) > 1000)
		print(f"{left} of {len(done)} copies left their TCP checksum to the underlay device")
		if big or not left:
			fail(f"{big} full-sized copies had their checksum computed by vtap")
		got = done
	# The copies are the segments of everything the VM sent; the wire
	# capture (downstream) misses what was lost on the way, which TCP then
	# sent again.  So: every wire segment is a copy, byte for byte, and
	# every copy the wire lacks is a segment sent again later.
	cut_mode = len(a) > 5 and a[5] == "cut"
	ncut = 0

	def same(c, w):
		"""Is copy C the wire segment W?  In cut mode a copy shorter
		than its frame is W's prefix but for the TCP checksum, which
		must be the one the VM's stack left to its NIC (not computed)."""
		if c == w or not cut_mode or len(c) >= len(w):
			return c == w
		t = 14 + (w[14] & 15) * 4
		seg = len(w) - t
		pseudo = w[26:34] + bytes([0, 6]) + seg.to_bytes(2, "big")
		return (len(c) >= t + 18 and c[t + 16:t + 18] == fold(csum(pseudo)).to_bytes(2, "big")
			and c[:t + 16] + w[t + 16:t + 18] + c[t + 18:] == w[:len(c)])

	# The wire is downstream of where vtap copies: the host may reorder
	# the segments on their way (seen on the debug kernel, two CPUs:
	# 57377, 61721, 63169, 58825, 60273 at tap2 while vnet1 got them in
	# order).  So each wire segment takes the first copy still unmatched
	# that is the same, wherever it is; the copies are in vtap's order.
	used = [False] * len(got)
	out_of_order = 0
	last = -1
	for w in wire:
		k = next((i for i in range(len(got)) if not used[i] and same(got[i], w)), None)
		if k is None:
			fail(f"a wire segment ({len(w)} bytes, seq {tcp_seq(w)}) matches no copy")
		used[k] = True
		if cut_mode and got[k] != w:
			ncut += 1
		out_of_order += k < last
		last = max(last, k)
	missing = [c for c, u in zip(got, used) if not u]
	if out_of_order:
		print(f"{out_of_order} wire segments arrived out of the order vtap copied them in")
	resent = {tcp_seq(w) for w in wire}
	for m in missing:
		if tcp_seq(m) not in resent:
			fail(f"copy of seq {tcp_seq(m)} ({len(m)} bytes) is not on the wire, not even sent again")
	big = sum(1 for w in wire if len(w) > 1000)
	if cut_mode:
		print(f"{ncut} copies cut, each a prefix of its segment with the TCP checksum "
		      "as the VM left it to its NIC")
		if not ncut:
			fail("no copy was cut")
	print(f"{len(wire)} wire segments all byte-identical copies; {len(missing)} more "
	      f"copies of segments lost downstream and sent again; {big} full-sized")
	if not big:
		fail("no full-sized segment: was there GSO at all?")


def cmd_mtu(a):
	cs, mtu = copies(a[0], a[1]), int(a[2])
	ncut = 0
	for c in cs:
		if c.iplen > mtu:
			fail(f"#{c.num}: outer packet of {c.iplen} bytes > MTU {mtu}")
		if not c.df:
			fail(f"#{c.num}: DF not set")
		if cut(c):
			ncut += 1
			if c.iplen < mtu - 8:
				fail(f"#{c.num}: cut copy of {c.iplen} bytes, not filling MTU {mtu}")
	print(f"{len(cs)} copies, {ncut} cut to fit the path MTU {mtu}, none over it, DF on all")
	if not ncut:
		fail("no copy needed cutting")


def cmd_frags(a):
	n = 0
	for p in vtapcap.read_pcap(a[0]):
		d = p.data
		if d[12:14] == b"\x08\x00" and int.from_bytes(d[20:22], "big") & 0x3fff:
			n += 1
	print(f"{n} IPv4 fragments")
	if n:
		fail("mirror traffic was fragmented")


if __name__ == "__main__":
	cmds = {"count": cmd_count, "snap": cmd_snap, "mask": cmd_mask, "gso": cmd_gso,
		"mtu": cmd_mtu, "frags": cmd_frags}
	if len(sys.argv) < 2 or sys.argv[1] not in cmds:
		print(__doc__)
		sys.exit(2)
	cmds[sys.argv[1]](sys.argv[2:])
