#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""table.py HOST_JSON GUEST_JSON [ICOUNT_JSON]: the table `make bench` prints.

HOST_JSON is `build/bpf_bench -j` (ns per packet under BPF_PROG_TEST_RUN),
GUEST_JSON what tools/bench/guest_bench.sh wrote in the test VM, ICOUNT_JSON
what it wrote in the cost-model VM (VTAP_VM_ICOUNT: guest time counts
instructions).  Either may
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


def med(v):
    """The median of a list (or a number, as older results have it)."""
    if not isinstance(v, list):
        return v or 0
    v = sorted(v)
    n = len(v)
    if not n:
        return 0
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def spread(v, digits=2):
    """The median of the rounds, with their range: "0.91 (0.88..0.93)"."""
    if not isinstance(v, list):
        v = [v]
    if not v:
        return "n/a"
    f = f"{{:.{digits}f}}"
    m = f.format(med(v))
    return m if len(v) < 2 else f"{m} ({f.format(min(v))}..{f.format(max(v))})"


def guest_rows(guest, tag=""):
    """The throughput rows of one guest run; TAG names the time it was
    measured in ("" wall-clock, "icount" the instruction-count model)."""
    rows = []
    pps, tcp = guest.get("pps", {}), guest.get("tcp", {})
    rounds = guest.get("rounds", "?")
    for c, v in pps.items():
        rows.append(("VM 64B", c, f"{spread(v['vm_pps'], 0)} (mirrored "
                     f"{med(v['mirrored_pps']):.0f})", "pps", ""))
    for c, v in tcp.items():
        rows.append(("VM TCP", c, f"{spread(v['mbit_s'], 0)} (copies "
                     f"{med(v['copies_s']):.0f}/s)", "Mbit/s", ""))
    g = guest.get("guard")
    if g and g.get("udp_pps"):
        rows.append(("loop guard", "GRE flood, 1023 sessions: VM pps gre / udp",
                     f"{ratio(g['gre_pps'], g['udp_pps'])} ({g['gre_pps']:.0f} / {g['udp_pps']:.0f})",
                     "", ">= 0.9"))

    def per_round(a, b, f):
        """f(a[i], b[i]) for the rounds both ran (the same round)."""
        return [f(x, y) for x, y in zip(a, b) if x and y]

    def base(c):
        """A case's baseline: off, or off-ct for the firewall's cases."""
        return "off-ct" if c.endswith("-ct") and c != "off-ct" else "off"

    for c, t in (("nomatch", ">= 0.98"), ("inline", ""), ("xdp", ""), ("vxlan", ""), ("dedup", ""),
                 ("deferred", ""), ("remote", ""), ("mirred", ""), ("inline-nic", ">= 0.85"),
                 ("remote-nic", ""), ("mirred-nic", ""), ("off-ct", ""),
                 ("inline-ct", ""), ("mirred-ct", "")):
        off = pps.get(base(c), {}).get("vm_pps", [])
        if c in pps:
            rows.append(("ratio", f"VM pps {c} / {base(c)}",
                         spread(per_round(pps[c]["vm_pps"], off, lambda x, y: x / y)), "", t))
    # What one copy costs the VM: 1/pps(case) - 1/pps(off), in us of the
    # guest's time, within each round.
    cost = {}
    for c in ("inline", "xdp", "vxlan", "dedup", "deferred", "remote", "mirred", "inline-nic",
              "remote-nic", "mirred-nic", "inline-ct", "mirred-ct"):
        off = pps.get(base(c), {}).get("vm_pps", [])
        if c in pps:
            cost[c] = per_round(pps[c]["vm_pps"], off, lambda x, y: 1e6 / x - 1e6 / y)
            rows.append(("per copy", f"64B: {c}", spread(cost[c]), "us", ""))
    if "dedup" in cost and "inline" in cost:
        rows.append(("per copy", "64B: dedup's hash and record (dedup - inline)",
                     spread([a - b for a, b in zip(cost["dedup"], cost["inline"])]), "us", ""))
    if "xdp" in cost and "inline" in cost:
        rows.append(("ratio", "per-copy cost 64B veth: TC only / XDP + TC",
                     spread(per_round(cost["inline"], cost["xdp"], lambda x, y: x / y)), "", ""))
    # The same cases on 1500-byte frames (veth), and on a tap (tapwrite).
    for kind, label in (("pps1500", "1500B veth"), ("tap64", "64B tap"), ("tap1500", "1500B tap")):
        k = guest.get(kind, {})
        off = k.get("off", {}).get("vm_pps", [])
        kc = {}
        for c, v in k.items():
            rows.append((f"VM {label}", c, f"{spread(v['vm_pps'], 0)} (mirrored "
                         f"{med(v['mirrored_pps']):.0f})", "pps", ""))
        for c in ("inline", "xdp", "mirred"):
            if c in k and off:
                kc[c] = per_round(k[c]["vm_pps"], off, lambda x, y: 1e6 / x - 1e6 / y)
                rows.append(("per copy", f"{label}: {c}", spread(kc[c]), "us", ""))
        if "xdp" in kc and "inline" in kc:
            rows.append(("ratio", f"per-copy cost {label}: TC only / XDP + TC",
                         spread(per_round(kc["inline"], kc["xdp"], lambda x, y: x / y)), "", ""))
        for c in ("inline", "xdp"):
            if c in kc and "mirred" in kc:
                rows.append(("ratio", f"per-copy cost {label}: kernel mirred / vtap {c}",
                             spread(per_round(kc["mirred"], kc[c], lambda x, y: x / y)), "", ""))
    for sfx in ("", "-nic", "-ct"):
        for c in ("inline" + sfx, "remote" + sfx) + (("vxlan",) if not sfx else ()):
            if c in cost and "mirred" + sfx in cost:
                a, b = med(cost["mirred" + sfx]), med(cost[c])
                v = (f"{a / b:.2f}" if b > 0.05 else f"vtap's within noise of 0 ({b:.2f} us)")
                rows.append(("ratio", f"per-copy cost kernel mirred{sfx} / vtap {c}",
                             f"{v} ({a:.2f} / {b:.2f} us)", "",
                             ">= 1.5" if c.startswith("inline") else ""))
    for c, t in (("nomatch", ">= 0.98"), ("inline", ""), ("xdp", ""), ("vxlan", ""), ("dedup", ""),
                 ("slice", ">= 0.9"),
                 ("remote", ""), ("mirred", ""), ("inline-nic", ""), ("mirred-nic", ""),
                 ("off-ct", ""), ("inline-ct", ""), ("mirred-ct", "")):
        toff = tcp.get(base(c), {}).get("mbit_s", [])
        if c in tcp:
            rows.append(("ratio", f"TCP Mbit/s {c} / {base(c)}",
                         spread(per_round(tcp[c]["mbit_s"], toff, lambda x, y: x / y)), "", t))
    for sfx in ("", "-nic", "-ct"):
        m = tcp.get("mirred" + sfx, {}).get("mbit_s", [])
        for c in ("inline" + sfx, "remote" + sfx) + (("vxlan",) if not sfx else ()):
            if c in tcp and m:
                rows.append(("ratio", f"TCP Mbit/s vtap {c} / kernel mirred{sfx}",
                             spread(per_round(tcp[c]["mbit_s"], m, lambda x, y: x / y)), "",
                             ">= 1.2" if c.startswith("inline") else ""))
    rows.append(("note", f"median of {rounds} interleaved rounds (min..max)" +
                 (", guest time counts instructions (QEMU -icount), one vCPU" if tag else ""),
                 "", "", ""))
    if tag:
        rows = [(f"{tag}: {r[0]}",) + tuple(r[1:]) for r in rows]
    return rows


def main():
    host = load(sys.argv[1]) if len(sys.argv) > 1 else None
    guest = load(sys.argv[2]) if len(sys.argv) > 2 else None
    icount = load(sys.argv[3]) if len(sys.argv) > 3 else None
    rows = []   # (section, what, value, unit, target)

    if host:
        base = next((r["median_ns"] for r in host if r["case"].startswith("empty")), 0)
        for r in host:
            net = "" if r["case"].startswith("empty") else f" (+{r['median_ns'] - base} over empty)"
            # Issue 13's targets, over the empty program.
            c = r["case"].split(None, 1)[-1]
            target = next((t for k, t in (("unmonitored", "+ <= 3"), ("monitored", "+ <= 6"),
                                          (" 16 rules", "+ <= 25"), ("256 rules", "+ <= 60"))
                           if k in " " + c), "")
            rows.append(("classifier", r["case"].replace("  ", " "),
                         f"{r['median_ns']}{net}", "ns/pkt", target))
    if guest:
        rows += guest_rows(guest)
        mem = guest.get("mem", {})
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

    if icount:
        rows += guest_rows(icount, "icount")
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
