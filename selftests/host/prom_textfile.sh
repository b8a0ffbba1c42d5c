#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vtapctl stats format prometheus, read by the real consumers: the metrics
# of unit_prom --sample (two sessions, three ports, label values with \, "
# and bytes that are not UTF-8: the same formatter vtapctl uses, lib/prom.c)
# parsed by python3-prometheus-client, then given to node_exporter's
# textfile collector (Debian's prometheus-node-exporter, tools/deps), run in
# a network namespace of its own on 127.0.0.1 and scraped with curl:
# node_textfile_scrape_error must be 0 and the metrics come back with their
# labels.  A file node_exporter refuses (a family split in two) must make
# node_textfile_scrape_error 1, so that the check can fail.  The guest test
# broker.sh checks vtapctl's own output against vtapctl -j stats.
. "$(dirname "$0")/../lib.sh"

SAMPLE=$VTAP_TOP/build/selftests/host/unit_prom
NE=$(command -v prometheus-node-exporter || command -v node_exporter || true)
PY=/usr/bin/python3
TMP=$(mktemp -d)
nepid=
trap '[ -z "$nepid" ] || kill "$nepid" 2>/dev/null; rm -rf "$TMP"; cleanup_netns' EXIT

t "unit_prom --sample writes the metrics" sh -c "'$SAMPLE' --sample > '$TMP/vtap.prom.new'"
mkdir -p "$TMP/tf"
mv "$TMP/vtap.prom.new" "$TMP/tf/vtap.prom"
if $PY -c 'import prometheus_client.parser' 2>/dev/null; then
	t "prometheus_client parses it: every family once, every sample" $PY - "$TMP/tf/vtap.prom" <<'PYEOF'
import sys
from prometheus_client.parser import text_string_to_metric_families
text = open(sys.argv[1], encoding="utf-8").read()
fams = list(text_string_to_metric_families(text))
names = [f.name for f in fams]
assert len(names) == len(set(names)), names
n = sum(len(f.samples) for f in fams)
lines = [l for l in text.splitlines() if l and not l.startswith("#")]
assert n == len(lines), (n, len(lines))
assert all(f.name.startswith("vtap_") for f in fams)
drops = [s for f in fams for s in f.samples if s.name == "vtap_session_dropped_packets_total"]
assert {s.labels["cause"] for s in drops} == {"nomem", "noroute", "loop", "xmit", "malformed", "queue", "rate"}
ports = {s.labels["port"] for f in fams for s in f.samples if s.name == "vtap_port_packets_total"}
assert ports == {"vnet3", 't\\a"p\ufffd', "ifindex:9"}, ports
print(len(fams), "families,", n, "samples")
PYEOF
else
	skip "prometheus_client parses it" "python3-prometheus-client is not installed"
fi

if [ -z "$NE" ] || ! command -v curl >/dev/null || [ "$(id -u)" != 0 ]; then
	skip "node_exporter reads it" "needs prometheus-node-exporter, curl and root (tools/deps)"
	finish
fi

netns_new NS
ADDR=127.0.0.1:19100
scrape() { nsx "$NS" curl -sf --max-time 5 "http://$ADDR/metrics"; }
nsx "$NS" "$NE" --web.listen-address=$ADDR --collector.disable-defaults \
	--collector.textfile --collector.textfile.directory="$TMP/tf" >"$TMP/ne.log" 2>&1 &
nepid=$!
t "node_exporter answers on $ADDR (in its own namespace)" busywait 10000 scrape
scrape >"$TMP/scrape.txt"
t "node_textfile_scrape_error 0" grep -qx 'node_textfile_scrape_error 0' "$TMP/scrape.txt"
t "node_exporter exports the drop causes, one family" sh -c \
	"[ \$(grep -c '^vtap_session_dropped_packets_total{' '$TMP/scrape.txt') = 14 ] &&
	 [ \$(grep -c '^# TYPE vtap_session_dropped_packets_total counter' '$TMP/scrape.txt') = 1 ]"
# node_exporter gives every sample of a family the same labels (vm="").
t "node_exporter keeps the escaped label values" \
	grep -qF 'vtap_port_dropped_total{direction="out",port="t\\a\"p'$'\xef\xbf\xbd''",vm=""} 104' "$TMP/scrape.txt"
t "node_exporter: a u64 counter" grep -qF 'vtap_session_sent_bytes_total{session="ids"} 1.8446744073709552e+19' "$TMP/scrape.txt"

# A family split in two (what writing HELP/TYPE per sample would do): refused.
{ head -n 5 "$TMP/tf/vtap.prom"; sed -n '1,3p' "$TMP/tf/vtap.prom"; } >"$TMP/bad.new"
mv "$TMP/bad.new" "$TMP/tf/vtap.prom"
scrape >"$TMP/scrape-bad.txt"
t "a split family: node_textfile_scrape_error 1 (the check can fail)" \
	grep -qx 'node_textfile_scrape_error 1' "$TMP/scrape-bad.txt"
kill -TERM "$nepid"
wait "$nepid" 2>/dev/null
nepid=
finish
