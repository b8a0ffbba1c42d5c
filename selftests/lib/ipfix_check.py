#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Helpers for selftests/guest/ipfix.sh.

  ipfix_check.py pcap FILE
      the flows of a capture (Ethernet, pcap or pcap-ns) as the IP layer sees
      them: one line per (proto, src, sport, dst, dport):
      "proto src sport dst dport packets octets tcpflags", octets the IP
      total lengths (IPv6: payload length + 40), tcpflags the OR of the TCP
      flags (nfdump's letters: UAPRSF, '.' for unset).
  ipfix_check.py nfdump CSV
      the same lines from `nfdump -o csv` output, records of one flow added
      up, plus a count of records: "... packets octets tcpflags records"
      (nfdump's flags already in that notation).
"""
import socket
import struct
import sys

FLAG_LETTERS = "UAPRSF"          # bits 5..0


def flags_text(f):
    return "".join(c if f & (1 << (5 - i)) else "." for i, c in enumerate(FLAG_LETTERS))


def pcap_flows(path):
    data = open(path, "rb").read()
    magic = struct.unpack("<I", data[:4])[0]
    if magic not in (0xa1b2c3d4, 0xa1b23c4d):
        raise SystemExit("not a little-endian pcap: %s" % path)
    off = 24
    flows = {}
    while off + 16 <= len(data):
        incl = struct.unpack("<I", data[off + 8:off + 12])[0]
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        etype = struct.unpack("!H", pkt[12:14])[0]
        l3 = 14
        while etype in (0x8100, 0x88a8):
            etype = struct.unpack("!H", pkt[l3 + 2:l3 + 4])[0]
            l3 += 4
        if etype == 0x0800:
            ihl = (pkt[l3] & 15) * 4
            length = struct.unpack("!H", pkt[l3 + 2:l3 + 4])[0]
            proto = pkt[l3 + 9]
            src = socket.inet_ntop(socket.AF_INET, pkt[l3 + 12:l3 + 16])
            dst = socket.inet_ntop(socket.AF_INET, pkt[l3 + 16:l3 + 20])
            l4 = l3 + ihl
        elif etype == 0x86dd:
            length = struct.unpack("!H", pkt[l3 + 4:l3 + 6])[0] + 40
            proto = pkt[l3 + 6]
            src = socket.inet_ntop(socket.AF_INET6, pkt[l3 + 8:l3 + 24])
            dst = socket.inet_ntop(socket.AF_INET6, pkt[l3 + 24:l3 + 40])
            l4 = l3 + 40
        else:
            continue
        sport = dport = flags = 0
        if proto in (6, 17):
            sport, dport = struct.unpack("!HH", pkt[l4:l4 + 4])
            if proto == 6:
                flags = pkt[l4 + 13]
        k = (proto, src, sport, dst, dport)
        p, o, f = flows.get(k, (0, 0, 0))
        flows[k] = (p + 1, o + length, f | flags)
    for k in sorted(flows):
        p, o, f = flows[k]
        print("%d %s %d %s %d %d %d %s" % (k + (p, o, flags_text(f & 0x3f))))


def nfdump_flows(path):
    lines = [l.strip() for l in open(path) if l.strip()]
    head = lines[0].split(",")
    col = {n: i for i, n in enumerate(head)}
    flows = {}
    for l in lines[1:]:
        v = l.split(",")
        if len(v) != len(head) or not v[col["pr"]]:
            break              # the summary after the records
        proto = {"TCP": 6, "UDP": 17, "ICMP": 1, "ICMP6": 58}.get(v[col["pr"]].strip(),
                                                                  v[col["pr"]].strip())
        sport, dport = int(float(v[col["sp"]])), int(float(v[col["dp"]]))
        if proto in (1, 58):
            sport = dport = 0
        k = (int(proto), v[col["sa"]].strip(), sport, v[col["da"]].strip(), dport)
        p, o, f, n = flows.get(k, (0, 0, 0, 0))
        fl = v[col["flg"]].strip()
        bits = sum(1 << (5 - i) for i, c in enumerate(fl[-6:]) if c != ".")
        flows[k] = (p + int(v[col["ipkt"]]), o + int(v[col["ibyt"]]), f | bits, n + 1)
    for k in sorted(flows):
        p, o, f, n = flows[k]
        print("%d %s %d %s %d %d %d %s %d" % (k + (p, o, flags_text(f), n)))


if __name__ == "__main__":
    {"pcap": pcap_flows, "nfdump": nfdump_flows}[sys.argv[1]](sys.argv[2])
