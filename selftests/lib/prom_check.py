#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""prom_check.py STATS.json METRICS.prom SESSION DROPPED: the metrics that
`vtapctl stats format prometheus` wrote, read with prometheus_client's
parser, equal the counters of `vtapctl -j stats` taken at the same time:
every session counter (drop_CAUSE as vtap_session_dropped_packets_total
{cause}), every port counter per direction, stale, the flow table's.  And the known traffic:
SESSION dropped DROPPED copies over its rate budget (> 0), and its matched
frames are its sent plus dropped copies.  Prints what differs; exit 1."""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families

SESSION_METRIC = {
    "matched": "vtap_session_matched_packets_total",
    "sent": "vtap_session_sent_packets_total",
    "bytes": "vtap_session_sent_bytes_total",
    "truncated": "vtap_session_truncated_packets_total",
    "sliced": "vtap_session_sliced_packets_total",
    "gso": "vtap_session_gso_packets_total",
    "sampled_out": "vtap_session_sampled_out_packets_total",
    "unparsed": "vtap_session_unparsed_packets_total",
    "dedup": "vtap_session_dedup_packets_total",
}
PORT_METRIC = {
    "packets": "vtap_port_packets_total",
    "bytes": "vtap_port_bytes_total",
    "mirrored": "vtap_port_mirrored_total",
    "dropped": "vtap_port_dropped_total",
}


def main():
    stats = json.load(open(sys.argv[1]))
    text = open(sys.argv[2], encoding="utf-8").read()
    session, dropped = sys.argv[3], int(sys.argv[4])
    fams = list(text_string_to_metric_families(text))
    names = [f.name for f in fams]
    errors = []
    if len(names) != len(set(names)):
        errors.append(f"a family twice: {names}")
    got = {}
    for f in fams:
        for s in f.samples:
            key = (s.name, tuple(sorted(s.labels.items())))
            if key in got:
                errors.append(f"sample twice: {key}")
            got[key] = s.value
    want = {("vtap_sessions", ()): len(stats["sessions"])}
    for se in stats["sessions"]:
        lab = (("session", se["name"]),)
        want[("vtap_session_info", (("id", str(se["id"])),) + lab)] = 1
        for k, v in se["stats"].items():
            if k.startswith("drop_"):
                want[("vtap_session_dropped_packets_total",
                      (("cause", k[5:]), ("session", se["name"])))] = v
            else:
                want[(SESSION_METRIC[k], lab)] = v
    for p in stats["ports"]:
        port = p.get("dev") or f"ifindex:{p['ifindex']}"
        vm = (("vm", p["vm"]),) if "vm" in p else ()
        want[("vtap_port_info", tuple(sorted((("port", port), ("ifindex", str(p["ifindex"])),
                                               ("id", str(p["id"]))) + vm)))] = 1
        want[("vtap_port_stale", tuple(sorted((("port", port),) + vm)))] = int(p["stale"])
        for d in ("out", "in"):
            for k, v in p["stats"][d].items():
                want[(PORT_METRIC[k], tuple(sorted((("port", port), ("direction", d)) + vm)))] = v
    if "flows" in stats:
        fl = stats["flows"]
        for k, v in (("vtap_flows_limit", fl["limit"]), ("vtap_flows_entries", fl["used"]),
                     ("vtap_flows_lost_packets_total", fl["lost"]["packets"]),
                     ("vtap_flows_lost_bytes_total", fl["lost"]["octets"]),
                     ("vtap_flows_nonip_packets_total", fl["lost"]["nonip_packets"]),
                     ("vtap_flows_nonip_bytes_total", fl["lost"]["nonip_octets"])):
            want[(k, ())] = v
    else:
        errors.append("no flows in vtapctl -j stats (the namespace has ports)")
    for k in sorted(set(want) | set(got)):
        if want.get(k) != got.get(k):
            errors.append(f"{k}: metrics {got.get(k)}, vtapctl -j stats {want.get(k)}")
    drop = got.get(("vtap_session_dropped_packets_total", (("cause", "rate"), ("session", session))))
    sent = got.get(("vtap_session_sent_packets_total", (("session", session),)))
    matched = got.get(("vtap_session_matched_packets_total", (("session", session),)))
    if not dropped or drop != dropped:
        errors.append(f"{session}: rate drops {drop}, want {dropped} (> 0)")
    if sent is None or matched != sent + drop:
        errors.append(f"{session}: matched {matched} != sent {sent} + dropped {drop}")
    for e in errors:
        print(e)
    print(f"{len(fams)} families, {len(got)} samples, {len(want)} counters compared")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
