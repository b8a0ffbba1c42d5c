#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""table.py HOST_JSON GUEST_JSON: the one table `make bench` prints.

HOST_JSON is `build/bpf_bench -j` (ns per packet under BPF_PROG_TEST_RUN),
GUEST_JSON what tools/bench/guest_bench.sh wrote in the test VM.  Either may
be missing (that part is then left out).  See Documentation/performance.md
for what each number means.
"""
import json
import sys


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def ratio(a, b):
    return f"{a / b:.2f}" if a and b else "n/a"


def main():
    host = load(sys.argv[1]) if len(sys.argv) > 1 else None
    guest = load(sys.argv[2]) if len(sys.argv) > 2 else None
    rows = []   # (section, what, value, unit, target)

    if host:
        base = next((r["median_ns"] for r in host if r["case"].startswith("empty")), 0)
        for r in host:
            net = "" if r["case"].startswith("empty") else f" (+{r['median_ns'] - base} over empty)"
            target = "<= 40" if r["case"].startswith("IPv4  16 rules") else ""
            rows.append(("classifier", r["case"].replace("  ", " "),
                         f"{r['median_ns']}{net}", "ns/pkt", target))
    if guest:
        pps, tcp, mem = guest.get("pps", {}), guest.get("tcp", {}), guest.get("mem", {})
        for c, v in pps.items():
            rows.append(("VM 64B", c, f"{v['vm_pps']:.0f} (mirrored {v['mirrored_pps']:.0f})",
                         "pps", ""))
        for c, v in tcp.items():
            rows.append(("VM TCP", c, f"{v['mbit_s']:.0f} (copies {v['copies_s']:.0f}/s)",
                         "Mbit/s", ""))
        g = guest.get("guard")
        if g:
            rows.append(("loop guard", "GRE flood, 1023 sessions: VM pps gre / udp",
                         f"{ratio(g['gre_pps'], g['udp_pps'])} ({g['gre_pps']:.0f} / {g['udp_pps']:.0f})",
                         "", ">= 0.9"))
        off = pps.get("off", {}).get("vm_pps", 0)
        toff = tcp.get("off", {}).get("mbit_s", 0)
        for c, t in (("nomatch", ">= 0.98"), ("inline", ">= 0.85"), ("deferred", ""),
                     ("remote", ">= 0.85"), ("mirred", ""), ("inline-nic", ">= 0.85"),
                     ("remote-nic", ">= 0.85"), ("mirred-nic", "")):
            if c in pps:
                rows.append(("ratio", f"VM pps {c} / off", ratio(pps[c]["vm_pps"], off), "", t))
        for c, t in (("nomatch", ">= 0.98"), ("inline", ">= 0.85"), ("slice", ""),
                     ("remote", ">= 0.85"), ("mirred", ""), ("inline-nic", ">= 0.85"),
                     ("mirred-nic", "")):
            if c in tcp:
                rows.append(("ratio", f"TCP Mbit/s {c} / off", ratio(tcp[c]["mbit_s"], toff),
                             "", t))
        for sfx in ("", "-nic"):
            mir = pps.get("mirred" + sfx, {}).get("mirrored_pps", 0)
            for c in ("inline" + sfx, "remote" + sfx):
                if c in pps:
                    rows.append(("ratio", f"mirrored pps vtap {c} / kernel mirred{sfx}",
                                 ratio(pps[c]["mirrored_pps"], mir), "", ">= 1.5"))
        n = guest.get("mem_n", {})
        names = {"session": "per session", "netns": "per namespace (maps, programs)",
                 "port": "per port", "rule": "per rule"}
        for o, v in mem.items():
            rows.append(("memory", f"{names.get(o, o)} (N={n.get(o, '?')}): "
                         "memcg kernel (slab, percpu, vmalloc) / kmalloc",
                         f"{v.get('kernel')} ({v.get('slab')}, {v.get('percpu')},"
                         f" {v.get('vmalloc')}) / {v.get('kmalloc')}", "bytes", ""))
        maps = guest.get("maps", {})
        for name in ("ports", "port_stats", "rulesets", "rule_ports"):
            m = maps.get(name)
            if m and m.get("max_entries"):
                rows.append(("memory", f"map {name}: memlock / max_entries",
                             f"{m['bytes_memlock'] // m['max_entries']}"
                             f" ({m['bytes_memlock'] // 1024} KiB / {m['max_entries']})",
                             "bytes", ""))

    w = [max(len(str(r[i])) for r in rows + [("section", "case", "value", "unit", "target")])
         for i in range(5)]
    fmt = "| {:<%d} | {:<%d} | {:>%d} | {:<%d} | {:<%d} |" % tuple(w)
    print(fmt.format("section", "case", "value", "unit", "target"))
    print("|" + "|".join("-" * (x + 2) for x in w) + "|")
    for r in rows:
        print(fmt.format(*r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
