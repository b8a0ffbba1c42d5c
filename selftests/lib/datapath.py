#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Frames and checks for selftests/guest/datapath.sh: what a VM (or anyone)
can send that must not disturb the VM or hurt the host, and whether the
copies of it are right.  Standard library only.

  tap-create NAME                 a persistent tap with IFF_VNET_HDR and
                                  checksum/TSO offloads (a vhost-net vNIC)
  gso-send NAME SMAC DMAC OUT.pcap
                                  write GSO frames with a virtio_net_hdr
                                  (linear: small enough for tun's build_skb,
                                  or hdr_len covering the frame) to tap NAME;
                                  OUT.pcap gets the frames as written
  gso-check SENT VM COL SEGKEY SLICEKEY
                                  each frame reached the VM once, unchanged;
                                  session SEGKEY's copies are exactly the
                                  segments the wire would carry, SLICEKEY's
                                  one prefix of each frame
  csum-send NAME SMAC DMAC OUT.pcap
                                  write TCP and UDP frames (IPv4, IPv6), not
                                  GSO, to tap NAME: checksums left to the
                                  device (virtio_net_hdr NEEDS_CSUM), complete,
                                  and wrong; OUT.pcap gets them as written
  csum-check SENT COL KEY         session KEY has one copy of each frame, in
                                  order, with the checksum the wire carries:
                                  completed where it was left to the device,
                                  else as written
  csum-valid COL KEY              every copy of TCP or UDP has a right
                                  checksum; prints the copies of UDP to
                                  port 9 and of TCP
  sctp-init DST                   an SCTP INIT to DST (the kernel's SCTP)
  sctp-check COL KEY VM MAC       copies of SCTP carry the right CRC32c and
                                  equal the frames from MAC the receiving VM
                                  got
  shapes DEV SMAC DMAC            frames whose shape hides what rules need,
                                  and controls, out of DEV (AF_PACKET)
  gre-send DST N                  N GRE-TEB packets to DST (raw socket)
  pktout DEV N DMAC               N frames out of DEV through AF_PACKET
  flood DEV N DMAC KIND DST       N frames (KIND udp, or gre: GRE-TEB to DST)
                                  out of DEV as fast as it goes; prints pps
  tcp-send DST PORT BYTES MSS     one TCP connection with that MSS; prints
                                  the seconds it took (until the sink closed)
  sink PORT FILE                  accept TCP connections (IPv4 and IPv6),
                                  read each to its end, then close; FILE
                                  is created once it listens
  nl-del NAME                     SESSION_DEL over raw netlink (no flow
                                  cleanup, as another tool would)
  nl-new N PREFIX REMOTE4         N gre sessions PREFIX0.. (raw netlink)
  nl-del-many N PREFIX            delete them
  esp-check COL N                 at least N ESP packets over IPv4 and over
                                  IPv6 in COL, and no GRE in clear
  copies COL KEY                  count copies with that key or session id
  inner-gre COL KEY               copies whose inner frame is itself GRE
"""
import fcntl
import json
import os
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vtapcap  # noqa: E402
from broker_check import copies as copies_of  # noqa: E402

TUNSETIFF = 0x400454ca
TUNSETPERSIST = 0x400454cb
TUNSETOFFLOAD = 0x400454d0
IFF_TAP, IFF_NO_PI, IFF_VNET_HDR = 0x0002, 0x1000, 0x4000
TUN_F_CSUM, TUN_F_TSO4, TUN_F_TSO6 = 0x01, 0x02, 0x04
VIRTIO_NET_HDR_F_NEEDS_CSUM = 1
GSO_TCPV4, GSO_TCPV6 = 1, 4


def fail(msg):
	print("FAIL:", msg)
	sys.exit(1)


def mac(s):
	return bytes(int(x, 16) for x in s.split(":"))


def csum(data):
	if len(data) % 2:
		data += b"\0"
	s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
	while s >> 16:
		s = (s & 0xffff) + (s >> 16)
	return s


def fold(s):
	return (~s) & 0xffff


_CRC32C = []


def crc32c(data):
	if not _CRC32C:
		for i in range(256):
			c = i
			for _ in range(8):
				c = (c >> 1) ^ 0x82f63b78 if c & 1 else c >> 1
			_CRC32C.append(c)
	c = 0xffffffff
	for b in data:
		c = _CRC32C[(c ^ b) & 0xff] ^ (c >> 8)
	return c ^ 0xffffffff


def open_tap(name, persist=False):
	fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
	fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(),
					       IFF_TAP | IFF_NO_PI | IFF_VNET_HDR))
	fcntl.ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6)
	if persist:
		fcntl.ioctl(fd, TUNSETPERSIST, 1)
	return fd


# ---- TCP frames with GSO metadata --------------------------------------------

def ip4_hdr(src, dst, plen, ident, proto=6, flags=0x4000):
	h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + plen, ident, flags, 64, proto, 0,
			socket.inet_aton(src), socket.inet_aton(dst))
	return h[:10] + struct.pack("!H", fold(csum(h))) + h[12:]


def ip6_hdr(src, dst, plen, proto=6):
	return struct.pack("!IHBB16s16s", 6 << 28, plen, proto, 64,
			   socket.inet_pton(socket.AF_INET6, src),
			   socket.inet_pton(socket.AF_INET6, dst))


def pseudo(fam, src, dst, length, proto=6):
	if fam == 4:
		return socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, proto, length)
	return (socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst) +
		struct.pack("!IxxxB", length, proto))


def tcp_hdr(sport, dport, seq, flags, check=0):
	return struct.pack("!HHIIBBHHH", sport, dport, seq, 1, 5 << 4, flags, 65535, check, 0)


ADDRS = {4: ("192.0.2.3", "192.0.2.1"), 6: ("2001:db8:1::3", "2001:db8:1::1")}


def tcp_frame(fam, smac, dmac, seq, payload, flags, ident=1, check=None):
	"""An Ethernet frame with one TCP segment; check=None: complete
	checksum, else the given value (the pseudo-header sum of a frame
	whose checksum the device completes)."""
	src, dst = ADDRS[fam]
	tcp = tcp_hdr(40000, 5201, seq, flags)
	if check is None:
		check = fold(csum(pseudo(fam, src, dst, len(tcp) + len(payload)) + tcp + payload))
	tcp = tcp[:16] + struct.pack("!H", check) + tcp[18:]
	if fam == 4:
		return dmac + smac + b"\x08\x00" + ip4_hdr(src, dst, len(tcp) + len(payload), ident) + tcp + payload
	return dmac + smac + b"\x86\xdd" + ip6_hdr(src, dst, len(tcp) + len(payload)) + tcp + payload


def gso_frames(smac, dmac):
	"""(frame, virtio_net_hdr, fam, gso_size) for each GSO frame to send."""
	out = []
	seq = 1000
	for fam in (4, 6):
		l3 = 20 if fam == 4 else 40
		for n, (plen, gso) in enumerate(((3000, 1000), (2500, 1200), (600, 1000), (3300, 1448))):
			payload = bytes((i * 7 + n) & 0xff for i in range(plen))
			src, dst = ADDRS[fam]
			hdrs = 14 + l3 + 20
			partial = csum(pseudo(fam, src, dst, 20 + plen))
			frame = tcp_frame(fam, smac, dmac, seq, payload, 0x18, ident=100 + n,
					  check=partial & 0xffff)
			# n odd: hdr_len covers the whole frame (tun makes it linear)
			hdr_len = len(frame) if n % 2 else hdrs
			vh = struct.pack("<BBHHHH", VIRTIO_NET_HDR_F_NEEDS_CSUM,
					 GSO_TCPV4 if fam == 4 else GSO_TCPV6, hdr_len, gso,
					 14 + l3, 16)
			out.append((frame, vh, fam, gso))
			seq += plen
	return out


def segments(frame, fam, gso):
	"""The segments the wire would carry for a GSO frame (as the kernel's
	tcp_gso_segment makes them: IPv4 ids counting up, PSH/FIN on the last
	only, complete checksums)."""
	l3 = 20 if fam == 4 else 40
	eth, ip, tcp = frame[:14], frame[14:14 + l3], frame[14 + l3:14 + l3 + 20]
	payload = frame[14 + l3 + 20:]
	seq = struct.unpack("!I", tcp[4:8])[0]
	flags = tcp[13]
	ident = struct.unpack("!H", ip[4:6])[0] if fam == 4 else 0
	src, dst = ADDRS[fam]
	segs = []
	chunks = [payload[i:i + gso] for i in range(0, len(payload), gso)] or [b""]
	for i, chunk in enumerate(chunks):
		last = i == len(chunks) - 1
		f = flags if last else flags & ~0x09	# PSH and FIN on the last only
		th = tcp_hdr(40000, 5201, seq, f)
		check = fold(csum(pseudo(fam, src, dst, 20 + len(chunk)) + th + chunk))
		th = th[:16] + struct.pack("!H", check) + th[18:]
		if fam == 4:
			iph = ip4_hdr(src, dst, 20 + len(chunk), ident + i)
		else:
			iph = ip6_hdr(src, dst, 20 + len(chunk))
		segs.append(eth + iph + th + chunk)
		seq += len(chunk)
	return segs


def cmd_tap_create(a):
	fd = open_tap(a[0], persist=True)
	os.close(fd)


def wait_forwarding(name, secs=20):
	"""Wait until tap NAME, just opened, carries frames: a tap has carrier
	only while a process holds it, and a bridge port follows the carrier
	through linkwatch, a work item that runs up to a second later (more on
	a busy machine).  A frame written meanwhile is dropped by
	br_handle_frame() (port disabled)."""
	state = None
	for _ in range(int(secs / 0.02)):
		link = json.loads(subprocess.run(["ip", "-j", "-d", "link", "show", name],
						 capture_output=True, check=True).stdout)[0]
		state = (link.get("operstate"),
			 link.get("linkinfo", {}).get("info_slave_data", {}).get("state"))
		if state[0] == "UP" and state[1] in (None, "forwarding"):
			return
		time.sleep(0.02)
	fail("tap %s does not forward after %d s: operstate %s, bridge port %s" %
	     (name, secs, state[0], state[1]))


def write_tap(name, frames, out, gap):
	"""Write each (virtio_net_hdr, frame) to tap NAME, @gap seconds apart,
	once it forwards; OUT.pcap gets the frames as written."""
	fd = open_tap(name)
	wait_forwarding(name)
	sent = []
	for vh, frame in frames:
		for _ in range(50):
			try:
				os.write(fd, vh + frame)
				break
			except BlockingIOError:
				time.sleep(0.01)
		else:
			fail("tap %s does not take frames" % name)
		sent.append(vtapcap.Packet(time.time(), frame, len(frame)))
		time.sleep(gap)
	os.close(fd)
	vtapcap.write_pcap(out, sent)
	return len(sent)


def cmd_gso_send(a):
	frames = gso_frames(mac(a[1]), mac(a[2]))
	print("%d GSO frames written" % write_tap(a[0], [(vh, f) for f, vh, fam, gso in frames],
						 a[3], 0.05))


def cmd_gso_check(a):
	sent = [p.data for p in vtapcap.read_pcap(a[0])]
	smac = sent[0][6:12]
	got = [p.data for p in vtapcap.read_pcap(a[1]) if p.data[6:12] == smac]
	if got != sent:
		fail("the VM got %d frames from the writer, %d were sent; first difference at %s" %
		     (len(got), len(sent), next((i for i, (x, y) in enumerate(zip(got, sent)) if x != y),
					    min(len(got), len(sent)))))
	frames = gso_frames(smac, sent[0][:6])
	want = [s for frame, vh, fam, gso in frames for s in segments(frame, fam, gso)]
	seg = [c.inner for c in copies_of(a[2], int(a[3]))]
	if seg != want:
		for i, (x, y) in enumerate(zip(seg, want)):
			if x != y:
				fail("segment copy %d differs from the wire's segment (%d vs %d bytes)" %
				     (i, len(x), len(y)))
		fail("%d segment copies, %d segments on the wire" % (len(seg), len(want)))
	sl = [c for c in copies_of(a[2], int(a[4]))]
	if len(sl) != len(sent):
		fail("%d sliced copies for %d frames" % (len(sl), len(sent)))
	for c, f in zip(sl, sent):
		# Not compared: the TCP checksum, which vtap completes over the
		# whole super-packet (one the wire never carries) unless cut.
		i = c.inner
		ck = 14 + (20 if f[12:14] == b"\x08\x00" else 40) + 16
		if len(i) > len(f) or i[:ck] != f[:ck] or i[ck + 2:] != f[ck + 2:len(i)]:
			fail("a sliced copy is not a prefix of its frame")
	print("ok: %d frames delivered unchanged, %d segment copies exact, %d sliced copies" %
	      (len(sent), len(seg), len(sl)))


# ---- checksums left to the device, not GSO ------------------------------------

def udp_frame(fam, smac, dmac, payload, check):
	"""An Ethernet frame with one UDP datagram 40001 > 9 and UDP checksum
	@check: "partial" (the pseudo-header sum, left to the device),
	"complete", or a number."""
	src, dst = ADDRS[fam]
	ulen = 8 + len(payload)
	uh = struct.pack("!HHHH", 40001, 9, ulen, 0)
	if check == "partial":
		check = csum(pseudo(fam, src, dst, ulen, 17)) & 0xffff
	elif check == "complete":
		check = fold(csum(pseudo(fam, src, dst, ulen, 17) + uh + payload)) or 0xffff
	uh = uh[:6] + struct.pack("!H", check)
	if fam == 4:
		return dmac + smac + b"\x08\x00" + ip4_hdr(src, dst, ulen, 9, proto=17) + uh + payload
	return dmac + smac + b"\x86\xdd" + ip6_hdr(src, dst, ulen, proto=17) + uh + payload


def csum_frames(smac, dmac):
	"""(frame as written, virtio_net_hdr, frame as the wire carries it)."""
	out = []
	for fam in (4, 6):
		l3 = 20 if fam == 4 else 40
		for n, plen in enumerate((0, 1, 18, 200, 1000, 1400)):
			payload = bytes((i * 13 + n + fam) & 0xff for i in range(plen))
			src, dst = ADDRS[fam]
			partial = csum(pseudo(fam, src, dst, 20 + plen)) & 0xffff
			wrote = tcp_frame(fam, smac, dmac, 5000 + n, payload, 0x18, ident=200 + n,
					  check=partial)
			wire = tcp_frame(fam, smac, dmac, 5000 + n, payload, 0x18, ident=200 + n)
			vh = struct.pack("<BBHHHH", VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0,
					 14 + l3, 16)
			out.append((wrote, vh, wire))
			# Complete already, no virtio flag: as written.
			out.append((wire, bytes(10), wire))
			wrote = udp_frame(fam, smac, dmac, payload, "partial")
			wire = udp_frame(fam, smac, dmac, payload, "complete")
			out.append((wrote, struct.pack("<BBHHHH", VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0,
						       14 + l3, 6), wire))
			# A wrong checksum the VM sent as it is: the copy keeps it.
			bad = udp_frame(fam, smac, dmac, payload, 0x1234)
			out.append((bad, bytes(10), bad))
	return out


def cmd_csum_send(a):
	frames = csum_frames(mac(a[1]), mac(a[2]))
	print("%d frames written" % write_tap(a[0], [(vh, w) for w, vh, wire in frames],
					     a[3], 0.01))


def cmd_csum_check(a):
	sent = [p.data for p in vtapcap.read_pcap(a[0])]
	smac = sent[0][6:12]
	want = [wire for wrote, vh, wire in csum_frames(smac, sent[0][:6])]
	if [w for w, vh, wire in csum_frames(smac, sent[0][:6])] != sent:
		fail("the frames written are not the ones this script makes")
	got = [c.inner for c in copies_of(a[1], int(a[2])) if c.inner[6:12] == smac]
	if got != want:
		for i, (x, y) in enumerate(zip(got, want)):
			if x != y:
				fail("copy %d differs from the frame on the wire (%d vs %d bytes, "
				     "first difference at byte %d)" %
				     (i, len(x), len(y),
				      next(j for j in range(min(len(x), len(y)) + 1)
					   if j == min(len(x), len(y)) or x[j] != y[j])))
		fail("%d copies for %d frames" % (len(got), len(want)))
	print("ok: %d copies, each the frame the wire carries (%d with the checksum completed)" %
	      (len(got), sum(1 for w, wire in zip(sent, want) if w != wire)))


def l4_of(frame):
	"""(family, proto, src, dst, L4 bytes) of an untagged IPv4 (not a
	fragment) or IPv6 (no extension header) frame, or None."""
	if frame[12:14] == b"\x08\x00" and len(frame) >= 34:
		ihl = (frame[14] & 15) * 4
		if struct.unpack("!H", frame[20:22])[0] & 0x3fff:
			return None
		tot = struct.unpack("!H", frame[16:18])[0]
		return (4, frame[23], socket.inet_ntoa(frame[26:30]), socket.inet_ntoa(frame[30:34]),
			frame[14 + ihl:14 + tot])
	if frame[12:14] == b"\x86\xdd" and len(frame) >= 54:
		plen = struct.unpack("!H", frame[18:20])[0]
		return (6, frame[20], socket.inet_ntop(socket.AF_INET6, frame[22:38]),
			socket.inet_ntop(socket.AF_INET6, frame[38:54]), frame[54:54 + plen])
	return None


def cmd_csum_valid(a):
	udp = tcp = 0
	for i, c in enumerate(copies_of(a[0], int(a[1]))):
		p = l4_of(c.inner)
		if not p or p[1] not in (6, 17):
			continue
		fam, proto, src, dst, l4 = p
		if proto == 17 and fam == 4 and l4[6:8] == b"\0\0":
			ok = True		# no checksum (IPv4 UDP)
		else:
			ok = fold(csum(pseudo(fam, src, dst, len(l4), proto) + l4)) == 0
		if not ok:
			fail("copy %d: %s %s > %s, %d bytes: wrong checksum 0x%s" %
			     (i, "TCP" if proto == 6 else "UDP", src, dst, len(l4),
			      l4[16:18].hex() if proto == 6 else l4[6:8].hex()))
		if proto == 17 and l4[2:4] == b"\0\x09":
			udp += 1
		tcp += proto == 6
	print(udp, tcp)


# ---- SCTP ------------------------------------------------------------------

def cmd_sctp_init(a):
	fam = socket.AF_INET6 if ":" in a[0] else socket.AF_INET
	s = socket.socket(fam, socket.SOCK_STREAM, socket.IPPROTO_SCTP)
	s.setblocking(False)
	try:
		s.connect((a[0], 9))
	except (BlockingIOError, OSError):
		pass
	time.sleep(0.5)
	s.close()


def sctp_of(frame):
	"""The SCTP packet in an Ethernet frame, or None."""
	if frame[12:14] == b"\x08\x00" and frame[23] == 132:
		ihl = (frame[14] & 15) * 4
		return frame[14 + ihl:14 + struct.unpack("!H", frame[16:18])[0]]
	if frame[12:14] == b"\x86\xdd" and frame[20] == 132:
		return frame[54:54 + struct.unpack("!H", frame[18:20])[0]]
	return None


def cmd_sctp_check(a):
	cs = [c.inner for c in copies_of(a[0], int(a[1])) if sctp_of(c.inner) is not None]
	vm = [p.data for p in vtapcap.read_pcap(a[2])
	      if sctp_of(p.data) is not None and p.data[6:12] == mac(a[3])]
	if not cs:
		fail("no copy of an SCTP packet")
	for f in cs:
		pkt = sctp_of(f)
		want = crc32c(pkt[:8] + b"\0\0\0\0" + pkt[12:])
		got = struct.unpack("<I", pkt[8:12])[0]
		if got != want:
			fail("copy with CRC32c %08x, the packet's is %08x" % (got, want))
	missing = [f for f in vm if f not in cs]
	if missing:
		fail("%d of the %d SCTP frames the VM received have no identical copy" %
		     (len(missing), len(vm)))
	print("ok: %d SCTP copies, CRC32c right, identical to what the VM received" % len(cs))


# ---- shapes, GRE, AF_PACKET, TCP ----------------------------------------------

def udp4(src, dst, sport, dport, payload=b"shape", frag=0, ident=7):
	udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
	return ip4_hdr(src, dst, len(udp), ident, proto=17, flags=frag) + udp


def shape_frames(smac, dmac):
	"""(name, frame, hides): frames to vm2's address; hides: the rules
	cannot be decided for them."""
	eth = dmac + smac
	tag = lambda vid: struct.pack("!HH", 0x8100, vid)	# noqa: E731
	out = []
	out.append(("udp 53 (control)", eth + b"\x08\x00" + udp4("192.0.2.1", "192.0.2.2", 5353, 53), False))
	out.append(("udp 54 (control)", eth + b"\x08\x00" + udp4("192.0.2.1", "192.0.2.2", 5353, 54), False))
	# The receiving device takes the outer tag out of the frame (into the
	# skb's metadata): three are left in its bytes, one more than the
	# classifier follows.
	out.append(("four VLAN tags", eth + struct.pack("!HH", 0x88a8, 10) + tag(20) + tag(30) +
		    tag(40) + b"\x08\x00" + udp4("192.0.2.1", "192.0.2.2", 5353, 53), True))
	ext = b""
	for i in range(9):
		ext += struct.pack("!BB6x", 60 if i < 8 else 17, 0)
	udp = struct.pack("!HHHH", 5353, 53, 13, 0) + b"shape"
	out.append(("nine IPv6 extension headers", eth + b"\x86\xdd" +
		    ip6_hdr("2001:db8:1::1", "2001:db8:1::2", len(ext) + len(udp), proto=0) + ext + udp, True))
	# a non-first fragment (offset 8 bytes), its first 8 bytes look like udp 53
	out.append(("later IPv4 fragment", eth + b"\x08\x00" +
		    udp4("192.0.2.1", "192.0.2.2", 5353, 53, frag=0x0001), True))
	return out


def cmd_shapes(a):
	dev, smac, dmac = a[0], mac(a[1]), mac(a[2])
	s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
	s.bind((dev, 0))
	for name, f, hides in shape_frames(smac, dmac):
		s.send(f)
		print("sent: %s%s" % (name, " (hides its fields)" if hides else ""))
		time.sleep(0.05)


def cmd_gre_send(a):
	dst, n = a[0], int(a[1])
	s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_GRE)
	inner = b"\x02\0\0\0\0\x09" + b"\x02\0\0\0\0\x08" + b"\x08\x00" + udp4("203.0.113.1", "203.0.113.2", 1, 9)
	for i in range(n):
		gre = struct.pack("!HHI", 0x1000, 0x6558, i)	# S bit, TEB, sequence
		s.sendto(gre + inner, (dst, 0))
	print("%d GRE-TEB packets to %s" % (n, dst))


def cmd_pktout(a):
	dev, n, dmac = a[0], int(a[1]), mac(a[2])
	s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
	s.bind((dev, 0))
	for _ in range(n):
		s.send(dmac + b"\x02\0\0\0\0\x07" + b"\x08\x00" + udp4("192.0.2.9", "192.0.2.1", 7, 9))
	print("%d frames out of %s" % (n, dev))


def cmd_sink(a):
	s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
	s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
	s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
	s.bind(("::", int(a[0])))
	s.listen(16)
	open(a[1], "w").close()
	while True:
		c, _ = s.accept()
		while c.recv(65536):
			pass
		c.close()


def cmd_flood(a):
	dev, n, dmac, kind, dst = a[0], int(a[1]), mac(a[2]), a[3], a[4]
	inner = b"\x02\0\0\0\0\x09\x02\0\0\0\0\x08\x08\x00" + udp4("203.0.113.1", "203.0.113.2", 1, 9)
	if kind == "gre":
		gre = struct.pack("!HHI", 0x1000, 0x6558, 1) + inner
		ip = ip4_hdr("192.0.2.1", dst, len(gre), 1, proto=47) + gre
	else:
		ip = udp4("192.0.2.1", dst, 7, 9, payload=b"u" * (len(inner) + 4))
	frame = dmac + b"\x02\0\0\0\0\x07\x08\x00" + ip
	s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
	s.bind((dev, 0))
	send = s.send
	t0 = time.monotonic()
	for _ in range(n):
		send(frame)
	print("%.0f" % (n / (time.monotonic() - t0)))


def cmd_tcp_send(a):
	dst, port, nbytes, mss = a[0], int(a[1]), int(a[2]), int(a[3])
	s = socket.socket(socket.AF_INET6 if ":" in dst else socket.AF_INET, socket.SOCK_STREAM)
	s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, mss)
	s.connect((dst, port))
	t0 = time.monotonic()
	buf = b"m" * 65536
	left = nbytes
	while left > 0:
		left -= s.send(buf[:min(left, len(buf))])
	s.shutdown(socket.SHUT_WR)
	s.recv(1)
	print("%.3f" % (time.monotonic() - t0))
	s.close()


# ---- raw generic netlink -----------------------------------------------------

def nl_family(s, name):
	body = struct.pack("BBxx", 3, 1) + nla(2, name.encode() + b"\0")
	for t, data in nl_talk(s, 0x10, body):
		off = 4
		while off + 4 <= len(data):
			ln, ty = struct.unpack_from("HH", data, off)
			if ty == 1:
				return struct.unpack_from("H", data, off + 4)[0]
			off += (ln + 3) & ~3
	fail("no family " + name)


def nla(t, data):
	ln = 4 + len(data)
	return struct.pack("HH", ln, t) + data + b"\0" * ((4 - ln % 4) % 4)


def nl_talk(s, family, body, flags=0x5):
	s.send(struct.pack("IHHII", 16 + len(body), family, flags, 1, 0) + body)
	out = []
	while True:
		buf = s.recv(65536)
		off = 0
		while off < len(buf):
			ln, ty = struct.unpack_from("IH", buf, off)
			if ty == 2:	# NLMSG_ERROR
				err = struct.unpack_from("i", buf, off + 16)[0]
				if err:
					raise OSError(-err, os.strerror(-err))
				return out
			out.append((ty, buf[off + 16:off + ln]))
			off += (ln + 3) & ~3


def cmd_nl_del(a):
	s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 16)
	fam = nl_family(s, "vtap")
	nl_talk(s, fam, struct.pack("BBxx", 3, 1) + nla(1, a[0].encode() + b"\0"))


def cmd_nl_del_many(a):
	s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 16)
	fam = nl_family(s, "vtap")
	for i in range(int(a[0])):
		nl_talk(s, fam, struct.pack("BBxx", 3, 1) + nla(1, ("%s%d" % (a[1], i)).encode() + b"\0"))


def cmd_nl_new(a):
	n, prefix, remote = int(a[0]), a[1], socket.inet_aton(a[2])
	s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 16)
	fam = nl_family(s, "vtap")
	for i in range(n):
		body = (struct.pack("BBxx", 2, 1) + nla(1, ("%s%d" % (prefix, i)).encode() + b"\0") +
			nla(3, b"\x01") + nla(4, remote) + nla(8, struct.pack("I", 5000 + i)))
		nl_talk(s, fam, body)
	print("%d sessions" % n)


def cmd_esp_check(a):
	esp, gre = {4: 0, 6: 0}, {4: 0, 6: 0}
	for p in vtapcap.read_pcap(a[0]):
		d = p.data
		if d[12:14] == b"\x08\x00":
			fam, proto = 4, d[23]
		elif d[12:14] == b"\x86\xdd":
			fam, proto = 6, d[20]
		else:
			continue
		esp[fam] += proto == 50
		gre[fam] += proto == 47
	print("ESP", esp, "GRE in clear", gre)
	if min(esp.values()) < int(a[1]) or any(gre.values()):
		fail("the underlay carried GRE in clear, or too little ESP")


def cmd_copies(a):
	print(len(copies_of(a[0], int(a[1]))))


def cmd_inner_gre(a):
	print(sum(1 for c in copies_of(a[0], int(a[1]))
		  if len(c.inner) > 23 and c.inner[12:14] == b"\x08\x00" and c.inner[23] == 47))


def main():
	cmds = {
		"tap-create": cmd_tap_create, "gso-send": cmd_gso_send, "gso-check": cmd_gso_check,
		"csum-send": cmd_csum_send, "csum-check": cmd_csum_check, "csum-valid": cmd_csum_valid,
		"sink": cmd_sink, "sctp-init": cmd_sctp_init, "sctp-check": cmd_sctp_check, "shapes": cmd_shapes,
		"gre-send": cmd_gre_send, "pktout": cmd_pktout, "flood": cmd_flood, "tcp-send": cmd_tcp_send,
		"nl-del": cmd_nl_del, "nl-new": cmd_nl_new, "nl-del-many": cmd_nl_del_many, "copies": cmd_copies,
		"esp-check": cmd_esp_check,
		"inner-gre": cmd_inner_gre,
	}
	if len(sys.argv) < 2 or sys.argv[1] not in cmds:
		print(__doc__)
		sys.exit(2)
	cmds[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
	main()
