#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vtap as the host driver of OpenStack Tap-as-a-Service, with the real
# vtap.ko and vtapctl: the extension vtap_taas and its driver
# (tools/openstack) under neutron-taas's agent classes (only the RPC
# transport replaced), one agent per hypervisor namespace, in one Python
# process (neutron is imported once: about two minutes under TCG).  A tap
# service on hypervisor M (its collector re-injects into the monitoring VM's
# tap), a tap flow BOTH of a VM on hypervisor A, and a tap mirror of the same
# port to a remote collector: every frame the VM sent and received reaches
# the monitoring VM and the remote collector byte for byte.  Then the
# deletions: statuses INACTIVE, nothing left in vtap, the collector stopped.
#
#   ns vm:  eth0 fa:16:3e:00:00:01 192.0.2.1  <-veth->  ns hvA: tap3f2a9c1e-7b
#   ns hvA: uA 198.51.100.1/24  <-veth->  ns hvM: uM 198.51.100.2/24
#           xA 203.0.113.1/24   <-veth->  ns col: cA 203.0.113.2/24 (tap mirror)
#   ns hvM: tap9e8d7c6b-5a  <-veth->  ns mvm: eth0 (the monitoring VM)
#
# Importing neutron takes about two minutes under TCG:
# guest-timeout: 600
. "$(dirname "$0")/../lib.sh"

OUT=$(mktemp -d)
PY=/usr/bin/python3
P_SRC=3f2a9c1e-7b44-4d0c-9a1b-0e5f6a7b8c9d
P_MON=9e8d7c6b-5a49-4838-a726-151413121110
TAP_SRC=tap${P_SRC:0:11}
TAP_MON=tap${P_MON:0:11}
VM_MAC=fa:16:3e:00:00:01
pids=()

cleanup() {
	local p f
	trap '' PIPE	# the agent may be gone: writing to its FIFO must not end us
	if [ -n "${agent_pid:-}" ]; then
		{ echo quit >&7; } 2>/dev/null
		kill "$agent_pid" 2>/dev/null
		wait "$agent_pid" 2>/dev/null
	fi
	for p in "${pids[@]}"; do
		kill -INT "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	for f in "$OUT"/*/collect-*.pid; do	# the driver's collectors, if left
		[ -e "$f" ] && kill "$(cat "$f")" 2>/dev/null
	done
	cleanup_netns
	rm -rf "$OUT"
}
trap cleanup EXIT
modprobe -a veth sch_ingress cls_bpf

if ! "$PY" -c 'import neutron_taas' 2>/dev/null; then
	skip "TaaS driver" "neutron_taas is not importable"
	finish
fi

setup() {
	netns_new vm && netns_new hvA && netns_new hvM && netns_new mvm && netns_new col ||
		return 1
	ip link add "$TAP_SRC" netns "$hvA" address fe:16:3e:00:00:01 type veth \
		peer name eth0 netns "$vm" address "$VM_MAC" &&
	ip link add "$TAP_MON" netns "$hvM" type veth peer name eth0 netns "$mvm" &&
	ip link add uA netns "$hvA" type veth peer name uM netns "$hvM" &&
	ip link add xA netns "$hvA" type veth peer name cA netns "$col" &&
	ip -n "$hvA" addr add 198.51.100.1/24 dev uA &&
	ip -n "$hvM" addr add 198.51.100.2/24 dev uM &&
	ip -n "$hvA" addr add 203.0.113.1/24 dev xA &&
	ip -n "$col" addr add 203.0.113.2/24 dev cA &&
	ip -n "$vm" addr add 192.0.2.1/24 dev eth0 || return 1
	for l in "$hvA $TAP_SRC" "$hvA uA" "$hvA xA" "$hvM uM" "$hvM $TAP_MON" \
		 "$vm eth0" "$mvm eth0" "$col cA"; do
		# shellcheck disable=SC2086  # "NS DEV"
		set -- $l
		ip -n "$1" link set "$2" up || return 1
	done
	ip -n "$col" route add 198.51.100.0/24 via 203.0.113.1 &&
	ip -n "$vm" neigh replace 192.0.2.99 lladdr 02:00:00:00:00:99 dev eth0 nud permanent &&
	ip -n "$hvA" neigh replace 198.51.100.2 lladdr \
		"$(ip -n "$hvM" -br link show uM | awk '{print $3}')" dev uA nud permanent &&
	ip -n "$hvA" neigh replace 203.0.113.2 lladdr \
		"$(ip -n "$col" -br link show cA | awk '{print $3}')" dev xA nud permanent
}
t "setup: VM on hypervisor A, monitoring VM on M, a remote collector" setup

# Captures: what the VM's tap carries (the reference), what the monitoring
# VM receives, what the remote collector receives.
captures() {
	# nsenter, not the function nsx: $! must be the program itself.
	nsenter --net="/run/netns/$hvA" tcpdump -i "$TAP_SRC" -U --immediate-mode \
		-w "$OUT/ref.pcap" 2>"$OUT/ref.err" &
	pids+=($!)
	nsenter --net="/run/netns/$mvm" tcpdump -i eth0 -U --immediate-mode \
		-w "$OUT/mvm.pcap" 2>"$OUT/mvm.err" &
	pids+=($!)
	"$VTAPCTL" -n "$col" collect listen 203.0.113.2 session 101 102 \
		write "$OUT/mirror.pcapng" 2>"$OUT/col.err" &
	pids+=($!)
	busywait 20000 grep -q 'listening on' "$OUT/ref.err" &&
	busywait 20000 grep -q 'listening on' "$OUT/mvm.err" &&
	busywait 20000 grep -q '^collect: listening' "$OUT/col.err"
}
t "captures: the VM's tap, the monitoring VM, the tap mirror's collector" captures

# The agents: one Python process, commands on a FIFO, results in agent.out.
cat >"$OUT/agent.py" <<'EOF'
import configparser, ctypes, os, sys
out_dir, top, vtapctl = sys.argv[1:4]
ns = {"compute-a": sys.argv[4], "compute-m": sys.argv[5]}
P_SRC, P_MON = sys.argv[6:8]
sys.path.insert(0, os.path.join(top, "tools", "openstack"))
# The package's entry points, as an installed distribution would have them.
dist = os.path.join(out_dir, "site", "vtap_taas-0.1.0.dist-info")
os.makedirs(dist)
cp = configparser.ConfigParser()
cp.read(os.path.join(top, "tools", "openstack", "setup.cfg"))
open(os.path.join(dist, "METADATA"), "w").write("Metadata-Version: 2.1\nName: vtap-taas\nVersion: 0.1.0\n")
with open(os.path.join(dist, "entry_points.txt"), "w") as f:
    for g, body in cp["options.entry_points"].items():
        f.write("[%s]\n%s\n\n" % (g, body.strip()))
sys.path.insert(0, os.path.join(out_dir, "site"))
os.environ["XDG_CACHE_HOME"] = os.path.join(out_dir, "cache")

from neutron.conf import common as n_common
from neutron_lib import rpc as n_rpc
from oslo_config import cfg
from oslo_log import log as logging
n_common.register_core_common_config_opts(cfg.CONF)
logging.register_options(cfg.CONF)
cfg.CONF([], project="neutron")
logging.setup(cfg.CONF, "taas-test")

class Recorder:
    casts = []
    def prepare(self, **kw): return self
    def cast(self, ctx, method, **kw): self.casts.append((method, kw))

class NoConnection:     # the agent's RPC consumer: nothing to consume here
    def create_consumer(self, *a, **k): pass
    def consume_in_threads(self): return []

rec = Recorder()
n_rpc.get_client = lambda *a, **k: rec
n_rpc.Connection = NoConnection
from vtap_taas import extension

libc = ctypes.CDLL(None, use_errno=True)
def enter(host):
    fd = os.open("/run/netns/" + ns[host], os.O_RDONLY)
    if libc.setns(fd, 0x40000000) != 0:
        raise OSError(ctypes.get_errno(), "setns")
    os.close(fd)
    cfg.CONF.set_override("host", host)
    cfg.CONF.set_override("config_file", os.path.join(out_dir, host, "taas.conf"), "vtap")

from vtap_taas import config
config.register(cfg.CONF)
cfg.CONF.set_override("taas_agent_periodic_interval", 0)
for k, v in {"vtapctl": vtapctl, "port_grace": 0,
             "underlay_addresses": ["compute-a=198.51.100.1", "compute-m=198.51.100.2"]}.items():
    cfg.CONF.set_override(k, v, "vtap")
agents = {}
for h in ns:
    enter(h)
    e = extension.VtapTaasAgentExtension()
    e.consume_api(None)
    e.initialize(None, "ovs")
    agents[h] = e.taas_agent

def port(pid, host):
    return {"id": pid, "mac_address": "fa:16:3e:00:00:01", "device_id": "6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
            "binding:host_id": host, "binding:vnic_type": "normal", "binding:vif_type": "ovs",
            "binding:vif_details": {}}
src, mon = port(P_SRC, "compute-a"), port(P_MON, "compute-m")
ts = {"tap_service": {"id": "ts1", "port_id": P_MON}, "taas_id": 3901, "port": mon}
tf = {"tap_flow": {"id": "tf1", "source_port": P_SRC, "tap_service_id": "ts1",
                   "direction": "BOTH", "vlan_filter": None},
      "port_mac": src["mac_address"], "taas_id": 3901, "port": src, "tap_service_port": mon}
tm = {"tap_mirror": {"id": "c0ffee00-1111-4222-8333-444455556666", "port_id": P_SRC,
                     "directions": {"IN": 101, "OUT": 102}, "remote_ip": "203.0.113.2",
                     "mirror_type": "erspanv1"}, "port": src}

def statuses():
    s = ["%s=%s" % (k["msg"]["id"], k["status"]) for m, k in rec.casts if m.startswith("set_tap")]
    del rec.casts[:]
    return " ".join(s)

for line in sys.stdin:
    cmd = line.strip()
    if cmd == "up":
        enter("compute-m"); agents["compute-m"].create_tap_service(None, ts, "compute-m")
        enter("compute-a"); agents["compute-a"].create_tap_flow(None, tf, "compute-a")
        agents["compute-a"].create_tap_mirror(None, tm, "compute-a")
        print("up", statuses(), flush=True)
    elif cmd == "down":
        enter("compute-a"); agents["compute-a"].delete_tap_flow(None, tf, "compute-a")
        agents["compute-a"].delete_tap_mirror(None, tm, "compute-a")
        for h in ("compute-a", "compute-m"):   # sent to every agent
            enter(h); agents[h].delete_tap_service(None, ts, "compute-m")
        print("down", statuses(), flush=True)
    elif cmd == "quit":
        break
EOF

start_agent() {
	mkfifo "$OUT/agent.in" || return 1
	"$PY" "$OUT/agent.py" "$OUT" "$VTAP_TOP" "$VTAPCTL" "$hvA" "$hvM" "$P_SRC" "$P_MON" \
		<"$OUT/agent.in" >"$OUT/agent.out" 2>"$OUT/agent.err" &
	agent_pid=$!
	exec 7>"$OUT/agent.in"
	echo up >&7
	# Importing neutron takes about two minutes under TCG.
	busywait 240000 grep -q '^up ' "$OUT/agent.out" || { tail -n 30 "$OUT/agent.err"; return 1; }
	cat "$OUT/agent.out"
	grep -qx 'up ts1=ACTIVE tf1=ACTIVE' "$OUT/agent.out" || { tail -n 30 "$OUT/agent.err"; return 1; }
}
t "agents: tap service on M, tap flow BOTH and tap mirror on A: ACTIVE" start_agent

state_a() {
	cat "$OUT/compute-a/taas.conf"
	nsx "$hvA" "$VTAPCTL" -j session show | json_get \
		'sorted((s["name"], s["id"], s["encap"]) for s in d)' | tee /dev/stderr |
		grep -qx "\[('taas3901-0', 11, 'erspan2'), ('tm-c0ffee00-in', 101, 'erspan2'), ('tm-c0ffee00-out', 102, 'erspan2')\]" &&
	nsx "$hvA" "$VTAPCTL" -j port show | json_get \
		'[(p["dev"], p["id"]) for p in d]' | tee /dev/stderr |
		grep -qx "\[('$TAP_SRC', $("$PY" -c "print(int('$P_SRC'.replace('-', ''), 16) % 0xfffff + 1)"))\]"
}
t "hypervisor A: sessions taas3901-0 (id 11) and the mirror's, the VM's port" state_a

collector_m() {
	local f=$OUT/compute-m/collect-3901.pid
	[ -e "$f" ] && tr '\0' ' ' <"/proc/$(cat "$f")/cmdline" | tee /dev/stderr |
		grep -q "collect listen 198.51.100.2 encap gre session 11 12 .* 20 to $TAP_MON"
}
t "hypervisor M: the collector into the monitoring VM's tap runs" collector_m

# Traffic: the VM sends 20 datagrams (out), and 20 frames are delivered to
# it through its tap (in).
traffic() {
	nsx "$vm" "$PY" -S - <<'PYEOF' || return 1
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for n in range(20):
    s.sendto(b"vtap-out %04d" % n + bytes(40), ("192.0.2.99", 9))
    time.sleep(0.01)
PYEOF
	nsx "$hvA" "$PY" -S - "$TAP_SRC" <<'PYEOF'
import socket, struct, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
for n in range(20):
    payload = b"vtap-in %04d" % n + bytes(40)
    udp = struct.pack("!HHHH", 9, 9, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), n, 0, 64, 17, 0,
                     bytes([192, 0, 2, 99]), bytes([192, 0, 2, 1]))
    c = sum(struct.unpack("!10H", ip))
    c = (c & 0xffff) + (c >> 16); c = (c & 0xffff) + (c >> 16)
    ip = ip[:10] + struct.pack("!H", ~c & 0xffff) + ip[12:]
    s.send(bytes.fromhex("fa163e000001") + bytes.fromhex("020000000099") + b"\x08\x00" + ip + udp)
    time.sleep(0.01)
PYEOF
}
t "traffic: 20 frames sent by the VM, 20 delivered to it" traffic

stop_captures() {
	sleep 2
	local p
	for p in "${pids[@]}"; do kill -INT "$p"; wait "$p"; done
	pids=()
	cat "$OUT/col.err"
}
t "captures stop" stop_captures

# Byte-exact: the frames with our markers, as the VM's tap carried them, are
# exactly those the monitoring VM received and those the collector wrote.
compare() {
	"$PY" - "$OUT" "$VTAP_TOP" <<'PYEOF'
import os, sys
sys.path.insert(0, os.path.join(sys.argv[2], "selftests", "host"))
import collect_pkt
o = sys.argv[1]
def marked(path):   # our UDP datagrams (not the VM's ICMP errors quoting them)
    return sorted(p[3] for p in collect_pkt.read_capture(path)
                  if p[3][12:14] == b"\x08\x00" and p[3][23] == 17 and
                  p[3][42:50] in (b"vtap-out", b"vtap-in "))
ref, mvm, mir = (marked(os.path.join(o, f)) for f in ("ref.pcap", "mvm.pcap", "mirror.pcapng"))
print("reference", len(ref), "monitoring VM", len(mvm), "tap mirror", len(mir))
ok = len(ref) == 40 and mvm == ref and mir == ref
if not ok:
    for name, got in (("monitoring VM", mvm), ("tap mirror", mir)):
        print(name, "missing", len([f for f in ref if f not in got]),
              "extra", len([f for f in got if f not in ref]))
sys.exit(0 if ok else 1)
PYEOF
}
t "byte-exact: the monitoring VM and the tap mirror's collector got the 40 frames" compare

down() {
	echo down >&7
	busywait 60000 grep -q '^down ' "$OUT/agent.out" || { tail -n 30 "$OUT/agent.err"; return 1; }
	grep '^down ' "$OUT/agent.out" | tee /dev/stderr |
		grep -qx 'down tf1=INACTIVE ts1=INACTIVE ts1=INACTIVE' &&
	expect_eq "sessions on A" "$(nsx "$hvA" "$VTAPCTL" -j session show)" "[]" &&
	expect_eq "ports on A" "$(nsx "$hvA" "$VTAPCTL" -j port show)" "[]" &&
	[ ! -e "$OUT/compute-m/collect-3901.pid" ] &&
	! pgrep -f "collect listen 198.51.100.2" >/dev/null
}
t "delete flow, mirror, service: INACTIVE, nothing left on A, M's collector stopped" down

finish
