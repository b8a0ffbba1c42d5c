# SPDX-License-Identifier: Apache-2.0
"""From TaaS objects to one vtap.conf(5) file: pure functions, no I/O.

Names and ids are derived from what is the same on every host, so that a
VM's stream keeps its session id and port id when it moves:
- a tap service's sessions: taas_id % 100 (TaaS hands out 3900-3999) times
  10, plus a slot 0-9 (0: flows without vlan_filter, 1-9: a hash of the
  filter), plus 1: ids 1-1000, within ERSPAN's 10 bits;
- a port's id: 20 bits of its Neutron port id (ERSPAN II index, ERSPAN III
  sub-header 7 source index);
- its device: Nova's tap name, ("tap" + port id)[:14].
"""
import ipaddress
import uuid
import zlib

VTAP_RULES_MAX = 256        # include/vtap_bpf.h: per session and direction
VTAP_RULE_NUM_MAX = 32766
VTAP_PORT_ID_MAX = 0xfffff
SLOTS = 10                  # sessions per tap service and host
VLAN_ALL = frozenset(range(4096))

DIRS = {'IN': 'in', 'OUT': 'out', 'BOTH': 'both'}


class RenderError(ValueError):
    """The TaaS request cannot be expressed in vtap (the reason is the text)."""


def tap_name(port_id):
    return ('tap' + port_id)[:14]


def port_number(port_id):
    """The port id every copy carries: 1..VTAP_PORT_ID_MAX from the UUID."""
    return int(port_id.replace('-', ''), 16) % VTAP_PORT_ID_MAX + 1


def vm_name(port_id):
    return 'port-' + port_id[:26]


def parse_vlan_filter(text):
    """"10,20-30" -> sorted list of VLAN ids; None/"" -> None (all traffic)."""
    if text is None or str(text).strip() == '':
        return None
    vids = set()
    for part in str(text).split(','):
        part = part.strip()
        lo, sep, hi = part.partition('-')
        try:
            a = int(lo)
            b = int(hi) if sep else a
        except ValueError:
            raise RenderError("vlan_filter %r: %r is not a VLAN id or range"
                              % (text, part))
        if not (0 <= a <= b <= 4095):
            raise RenderError("vlan_filter %r: %r is not within 0-4095"
                              % (text, part))
        vids.update(range(a, b + 1))
    if vids == VLAN_ALL:
        return None
    if len(vids) > VTAP_RULES_MAX:
        raise RenderError("vlan_filter %r: %d VLANs, vtap takes at most %d "
                          "rules per session and direction"
                          % (text, len(vids), VTAP_RULES_MAX))
    return sorted(vids)


def _addr(text, what):
    try:
        return ipaddress.ip_address(str(text).strip('[]'))
    except ValueError:
        raise RenderError("%s %r is not an IP address" % (what, text))


def flow_direction(tf):
    d = tf.get('direction')
    if d not in DIRS:
        raise RenderError("tap flow %s: direction %r is not IN, OUT or BOTH"
                          % (tf.get('id'), d))
    return DIRS[d]


def merge_dirs(a, b):
    if a is None or a == b:
        return b
    return 'both'


class Plan(object):
    """The file's text and what the driver needs to know about it."""

    def __init__(self):
        self.text = ''
        self.sessions = {}      # name -> vtap session id (or None)
        self.flow_session = {}  # tap flow id -> session name
        self.collect_ids = {}   # taas_id -> [session ids a collector takes]
        self.port_ids = {}      # neutron port id -> vtap port id


def service_session_ids(taas_id):
    base = (int(taas_id) % 100) * SLOTS + 1
    return list(range(base, base + SLOTS))


def render(flows, mirrors, underlay, local_ip=None, erspan_version=2,
           services=()):
    """flows: {flow id: {'tap_flow', 'taas_id', 'port', 'tap_service_port'}};
    mirrors: {mirror id: {'tap_mirror', 'port'}}; underlay: {host: addr}.
    Returns a Plan, or raises RenderError with the reason."""
    plan = Plan()
    out = ['# Written by the vtap driver of neutron-taas (vtap_taas): the',
           '# TaaS state of this host.  Do not edit: it is rewritten on each',
           '# change.', '']
    local = _addr(local_ip, 'local_ip') if local_ip else None
    sessions = []   # (name, line)
    rules = []
    vms = {}        # port id -> {'port', 'flows': {session: dir}}
    groups = {}     # (taas_id, vlans tuple) -> session name
    used = {}       # session id -> session name

    def take_id(sid, name):
        if sid in used and used[sid] != name:
            raise RenderError("session id %d of %s is %s's already"
                              % (sid, name, used[sid]))
        used[sid] = name

    def vm_of(port):
        pid = port['id']
        v = vms.setdefault(pid, {'port': port, 'flows': {}})
        return v

    for fid in sorted(flows):
        f = flows[fid]
        tf, taas_id = f['tap_flow'], int(f['taas_id'])
        d = flow_direction(tf)
        vlans = parse_vlan_filter(tf.get('vlan_filter'))
        ts_port = f.get('tap_service_port') or {}
        host = ts_port.get('binding:host_id')
        if not host or host not in underlay:
            raise RenderError("tap flow %s: no underlay address for host %r "
                              "of the tap service's port ([vtap] "
                              "underlay_addresses)" % (fid, host))
        remote = _addr(underlay[host], 'underlay address of %s' % host)
        key = (taas_id, tuple(vlans) if vlans else None)
        name = groups.get(key)
        if name is None:
            ids = service_session_ids(taas_id)
            slot = 0 if vlans is None else \
                1 + zlib.crc32(repr(vlans).encode()) % (SLOTS - 1)
            for k in range(SLOTS):
                s = (slot + k) % SLOTS
                if vlans is not None and s == 0:
                    continue
                cand = 'taas%d-%d' % (taas_id, s)
                if cand not in groups.values():
                    break
            else:
                raise RenderError("tap flow %s: tap service %d has %d "
                                  "different vlan_filters on this host "
                                  "already" % (fid, taas_id, SLOTS - 1))
            name = cand
            sid = ids[s]
            take_id(sid, name)
            groups[key] = name
            enc = 'erspan3' if erspan_version == 3 else 'erspan2'
            line = 'session %s encap %s remote %s id %d' % (name, enc, remote,
                                                             sid)
            if erspan_version == 3:
                line += ' subheader 7'
            if local and local.version == remote.version:
                line += ' local %s' % local
            sessions.append(line)
            plan.sessions[name] = sid
            for i, vid in enumerate(vlans or ()):
                for rd in ('in', 'out'):
                    rules.append('rule session %s num %d dir %s accept vlan %d'
                                 % (name, 10 * (i + 1), rd, vid))
        plan.flow_session[fid] = name
        v = vm_of(f['port'])
        v['flows'][name] = merge_dirs(v['flows'].get(name), d)

    for mid in sorted(mirrors):
        m = mirrors[mid]
        tm = m['tap_mirror']
        mtype = tm.get('mirror_type')
        if mtype not in ('erspanv1', 'gre'):
            raise RenderError("tap mirror %s: mirror_type %r is not erspanv1 "
                              "or gre" % (mid, mtype))
        remote = _addr(tm.get('remote_ip'), 'tap mirror %s: remote_ip' % mid)
        dirs = tm.get('directions') or {}
        if not dirs:
            raise RenderError("tap mirror %s: no directions" % mid)
        for dname in sorted(dirs):
            if dname not in DIRS:
                raise RenderError("tap mirror %s: direction %r is not IN, "
                                  "OUT or BOTH" % (mid, dname))
            try:
                tid = int(dirs[dname])
            except (TypeError, ValueError):
                raise RenderError("tap mirror %s: tunnel id %r is not a "
                                  "number" % (mid, dirs[dname]))
            name = 'tm-%s-%s' % (mid[:8], dname.lower())
            if mtype == 'erspanv1':
                # vtapctl checks the range (1-1023): its refusal is the
                # reason reported.
                line = 'session %s encap erspan2 remote %s id %d' % (
                    name, remote, tid)
                if 1 <= tid <= 1023:
                    take_id(tid, name)
                plan.sessions[name] = tid
            else:
                line = 'session %s encap gre remote %s key %d' % (
                    name, remote, tid)
                plan.sessions[name] = None
            if local and local.version == remote.version:
                line += ' local %s' % local
            sessions.append(line)
            v = vm_of(m['port'])
            v['flows'][name] = DIRS[dname]

    # Port ids: 20 bits of the port's UUID; a collision on this host moves
    # the later port (in UUID order) to the next free id.
    taken = set()
    for pid in sorted(vms):
        n = port_number(pid)
        while n in taken:
            n = n % VTAP_PORT_ID_MAX + 1
        taken.add(n)
        plan.port_ids[pid] = n

    out += sessions
    if rules:
        out.append('')
        out += rules
    for pid in sorted(vms):
        v = vms[pid]
        port = v['port']
        out.append('')
        out.append('vm %s dev %s id %d' % (vm_name(pid), tap_name(pid),
                                           plan.port_ids[pid]))
        dev_id = port.get('device_id') or ''
        try:
            out.append('    uuid %s' % uuid.UUID(dev_id))
        except ValueError:
            pass
        for s in sorted(v['flows']):
            out.append('    flow session %s dir %s' % (s, v['flows'][s]))
    for taas_id in services:
        plan.collect_ids[taas_id] = service_session_ids(taas_id)
    plan.text = '\n'.join(out) + '\n'
    return plan
