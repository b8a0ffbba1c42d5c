#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""vtap's neutron-taas agent driver (tools/openstack/vtap_taas) under the
real neutron_taas agent classes from Debian's packages: the extension
VtapTaasAgentExtension, TaasAgentRpcCallback (its subclass), the driver
loaded by NeutronManager from the "neutron_taas.taas.agent_drivers" entry
point of tools/openstack/setup.cfg.  Only the RPC transport is replaced
(neutron's BaseTestCase: oslo.messaging's fake driver; the plugin-bound
client records its casts).  No vtap.ko: each file the driver writes is
checked by the real build/vtapctl ("apply --check" parses the whole file
first: exit 2 is a refusal; exit 3, no module, stands for success here), and
the collectors are the real "vtapctl collect" in a private network namespace
with the monitoring VMs' taps as veth devices.  Covers create, delete,
re-create, statuses (ACTIVE, ERROR with vtapctl's reason, INACTIVE), a
monitoring tap that appears late, a port whose tap does not exist, several
flows per port, vlan_filter as rules, IPv6, ERSPAN III, tap_mirror, ports
of other hosts and vnic types, an agent restart, and live migration between
two agents.  TAP output; skips if neutron_taas is not importable.
"""
import configparser
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

TOP = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                   '..', '..'))
sys.path.insert(0, os.path.join(TOP, 'selftests', 'lib'))
sys.path.insert(0, os.path.join(TOP, 'tools', 'openstack'))
import tap  # noqa: E402

VTAPCTL = os.environ.get('VTAPCTL', os.path.join(TOP, 'build', 'vtapctl'))

# A private network namespace (as root): the collectors' devices and sockets.
if os.environ.get('VTAP_TAAS_NETNS') != '1' and os.geteuid() == 0 and \
        shutil.which('unshare'):
    os.environ['VTAP_TAAS_NETNS'] = '1'
    os.execvp('unshare', ['unshare', '-n', sys.executable] + sys.argv)

try:
    import neutron_taas  # noqa: F401
    from neutron.tests import base as n_base
    from neutron_lib import rpc as n_rpc
    from oslo_config import cfg
except ImportError as e:
    print("TAP version 13")
    print("ok 1 neutron-taas driver # SKIP neutron_taas is not importable: %s"
          % e)
    print("1..1")
    sys.exit(0)

TMP = tempfile.mkdtemp(prefix='vtap-taas.')
os.environ['XDG_CACHE_HOME'] = os.path.join(TMP, 'cache')  # stevedore's

# The package's entry points, as an installed distribution would have them.
_dist = os.path.join(TMP, 'site', 'vtap_taas-0.1.0.dist-info')
os.makedirs(_dist)
_cfg = configparser.ConfigParser()
_cfg.read(os.path.join(TOP, 'tools', 'openstack', 'setup.cfg'))
with open(os.path.join(_dist, 'METADATA'), 'w') as f:
    f.write('Metadata-Version: 2.1\nName: vtap-taas\nVersion: 0.1.0\n')
with open(os.path.join(_dist, 'entry_points.txt'), 'w') as f:
    for group, body in _cfg['options.entry_points'].items():
        f.write('[%s]\n%s\n\n' % (group, body.strip()))
sys.path.insert(0, os.path.join(TMP, 'site'))

from vtap_taas import extension  # noqa: E402
from vtap_taas import render  # noqa: E402

# The vtapctl the driver runs: the real one, except that "apply" only
# checks (no module on the host) and each command line is logged.
FAKE = os.path.join(TMP, 'vtapctl')
LOG = os.path.join(TMP, 'vtapctl.log')
FAIL = os.path.join(TMP, 'apply-fails')    # its text: the refusal
with open(FAKE, 'w') as f:
    f.write('''#!/bin/sh
echo "$*" >>%s
if [ "$1" = apply ]; then
	shift
	if [ "$1" = --check ]; then
		shift
	elif [ -e %s ]; then	# the kernel side refuses (the test says so)
		cat %s >&2
		exit 7
	fi
	%s apply --check "$1" >/dev/null
	rc=$?
	[ $rc = 3 ] && exit 0	# parsed and accepted; no vtap.ko here
	exit $rc
fi
exec %s "$@"
''' % (LOG, FAIL, FAIL, VTAPCTL, VTAPCTL))
os.chmod(FAKE, 0o755)

HOST_A, HOST_B, MON4, MON6, BAD = ('compute-a', 'compute-b', 'mon4', 'mon6',
                                   'monbad')
UNDERLAY = ['%s=198.51.100.1' % HOST_A, '%s=198.51.100.3' % HOST_B,
            '%s=198.51.100.2' % MON4, '%s=2001:db8::2' % MON6,
            '%s=224.0.0.5' % BAD]

P_SRC = '3f2a9c1e-7b44-4d0c-9a1b-0e5f6a7b8c9d'   # a monitored VM's port
P_SRC2 = 'a1b2c3d4-0000-4111-8222-333344445555'
P_MON = '9e8d7c6b-5a49-4838-a726-151413121110'   # the monitoring VM's port
P_MON2 = '0badcafe-1111-4222-8333-444455556666'
VM_UUID = '6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d'


def port(pid, host, vnic='normal', mac='fa:16:3e:00:00:01'):
    return {'id': pid, 'mac_address': mac, 'device_id': VM_UUID,
            'binding:host_id': host, 'binding:vnic_type': vnic,
            'binding:vif_type': 'ovs', 'binding:vif_details': {}}


def flow_msg(fid, src, ts_port, taas_id=3901, direction='BOTH',
             vlan_filter=None):
    tf = {'id': fid, 'tenant_id': 't', 'name': '', 'description': '',
          'source_port': src['id'], 'tap_service_id': 'ts-%d' % taas_id,
          'direction': direction, 'status': 'PENDING_CREATE',
          'vlan_filter': vlan_filter}
    return {'tap_flow': tf, 'port_mac': src['mac_address'],
            'taas_id': taas_id, 'port': src, 'tap_service_port': ts_port}


def service_msg(taas_id, mon):
    ts = {'id': 'ts-%d' % taas_id, 'tenant_id': 't', 'name': '',
          'description': '', 'port_id': mon['id'], 'status': 'PENDING_CREATE'}
    return {'tap_service': ts, 'taas_id': taas_id, 'port': mon}


class Recorder(object):
    """The plugin-bound RPC client: records casts instead of sending."""

    def __init__(self):
        self.casts = []

    def prepare(self, **kw):
        return self

    def cast(self, context, method, **kwargs):
        self.casts.append((method, kwargs))

    def statuses(self, method):
        return [(k['msg']['id'], k['status']) for m, k in self.casts
                if m == method]

    def clear(self):
        del self.casts[:]


def dev(name):
    """The monitoring VM's tap: a veth (the VM's end is the peer), up."""
    subprocess.run(['ip', 'link', 'add', name, 'type', 'veth', 'peer', 'name',
                    'vm-' + name[3:10]], check=True)
    for n in (name, 'vm-' + name[3:10]):
        subprocess.run(['ip', 'link', 'set', n, 'up'], check=True)


def undev(name):
    subprocess.run(['ip', 'link', 'del', name], check=False,
                   stderr=subprocess.DEVNULL)


def cmdline(pid):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            return f.read().decode().split('\0')
    except OSError:
        return None


def check_file(path):
    """The real vtapctl's verdict on the file: (accepted, its messages)."""
    p = subprocess.run([VTAPCTL, 'apply', '--check', path],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True)
    return p.returncode in (0, 3), p.stderr


class TaasDriverTest(n_base.BaseTestCase):

    def setUp(self):
        super(TaasDriverTest, self).setUp()
        self.rec = Recorder()
        # neutron's BaseTestCase has replaced the transport (fake://); the
        # client bound to the TaaS plugin records what it is asked to send.
        self.useFixture(_Patch(n_rpc, 'get_client', lambda *a, **k: self.rec))
        self.dir = tempfile.mkdtemp(dir=TMP)
        cfg.CONF.set_override('taas_agent_periodic_interval', 0)
        self.agents = {}

    def tearDown(self):
        for ext in self.agents.values():
            ext.driver.stop()
        super(TaasDriverTest, self).tearDown()

    def conf(self, host, **kw):
        cfg.CONF.set_override('host', host)
        from vtap_taas import config
        config.register(cfg.CONF)
        opts = {'vtapctl': FAKE, 'underlay_addresses': UNDERLAY,
                'config_file': os.path.join(self.dir, host, 'taas.conf'),
                'port_grace': 0, 'local_ip': None, 'erspan_version': 2}
        opts.update(kw)
        for k, v in opts.items():
            cfg.CONF.set_override(k, v, group='vtap')

    def agent(self, host, **kw):
        """The extension of HOST's L2 agent (started on first use)."""
        self.conf(host, **kw)
        if host not in self.agents:
            ext = extension.VtapTaasAgentExtension()
            ext.consume_api(None)
            ext.initialize(None, 'ovs')
            self.agents[host] = ext
        return self.agents[host].taas_agent

    def text(self, host):
        with open(os.path.join(self.dir, host, 'taas.conf')) as f:
            return f.read()

    def valid(self, host):
        ok, err = check_file(os.path.join(self.dir, host, 'taas.conf'))
        return tap.check('%s: the real vtapctl accepts the file' % host, ok,
                         err)

    # ---- the tests ----------------------------------------------------------

    def test_1_load(self):
        cb = self.agent(HOST_A)
        from vtap_taas import driver
        tap.check('load: the "vtap" entry point gives VtapTaasDriver',
                  isinstance(cb.taas_driver, driver.VtapTaasDriver))
        tap.check('load: the agent asked the plugin to sync its resources',
                  ('sync_tap_resources', {'sync_tap_res': {'host_id': HOST_A},
                                          'host': HOST_A}) in self.rec.casts,
                  self.rec.casts)
        tap.check('load: vnic_type normal is the driver\'s, direct is not',
                  cb._is_driver_port_type_compatible(port(P_SRC, HOST_A)) and
                  not cb._is_driver_port_type_compatible(
                      port(P_SRC, HOST_A, vnic='direct')))

    def test_2_flows(self):
        cb = self.agent(HOST_A)
        src = port(P_SRC, HOST_A)
        mon = port(P_MON, MON4)
        self.rec.clear()
        cb.create_tap_flow(None, flow_msg('f1', src, mon), HOST_A)
        t = self.text(HOST_A)
        pid = render.port_number(P_SRC)
        tap.check('flow BOTH: ACTIVE', self.rec.statuses(
            'set_tap_flow_status') == [('f1', 'ACTIVE')], self.rec.casts)
        tap.check('flow BOTH: session to the monitoring host, id from taas_id',
                  'session taas3901-0 encap erspan2 remote 198.51.100.2 id 11 '
                  'local 198.51.100.1\n' in t, t)
        tap.check('flow BOTH: the VM by its Nova tap name and a stable port id',
                  'vm port-%s dev %s id %d\n    uuid %s\n'
                  '    flow session taas3901-0 dir both\n'
                  % (P_SRC[:26], ('tap' + P_SRC)[:14], pid, VM_UUID) in t, t)
        self.valid(HOST_A)

        # Several flows per port: another service (IN) and the same service
        # with a vlan_filter (OUT).
        self.rec.clear()
        cb.create_tap_flow(None, flow_msg('f2', src, mon, taas_id=3902,
                                          direction='IN'), HOST_A)
        cb.create_tap_flow(None, flow_msg('f3', src, mon, direction='OUT',
                                          vlan_filter='10,20-22'), HOST_A)
        t = self.text(HOST_A)
        tap.check('several flows per port: ACTIVE', self.rec.statuses(
            'set_tap_flow_status') == [('f2', 'ACTIVE'), ('f3', 'ACTIVE')],
            self.rec.casts)
        flows = re.findall(r'    flow session (\S+) dir (\S+)', t)
        m = re.search(r'session (taas3901-[1-9]) encap erspan2 remote '
                      r'198.51.100.2 id (\d+)', t)
        tap.check('several flows per port: IN to taas3902-0, OUT to a '
                  'filtered session of 3901',
                  m and ('taas3902-0', 'in') in flows and
                  (m.group(1), 'out') in flows and
                  ('taas3901-0', 'both') in flows and len(flows) == 3, t)
        name = m.group(1) if m else '?'
        rules = re.findall(r'rule session %s num (\d+) dir (in|out) accept '
                           r'vlan (\d+)' % re.escape(name), t)
        tap.check('vlan_filter "10,20-22": 4 VLANs, a rule each way',
                  sorted((int(v), d) for n, d, v in rules) ==
                  sorted((v, d) for v in (10, 20, 21, 22)
                         for d in ('in', 'out')) and
                  m and 11 <= int(m.group(2)) <= 20, rules)
        self.valid(HOST_A)

        # Delete, re-create: the same ids.
        before = self.text(HOST_A)
        self.rec.clear()
        cb.delete_tap_flow(None, flow_msg('f3', src, mon, direction='OUT',
                                          vlan_filter='10,20-22'), HOST_A)
        t = self.text(HOST_A)
        tap.check('delete flow: INACTIVE, its session and rules gone',
                  self.rec.statuses('set_tap_flow_status') ==
                  [('f3', 'INACTIVE')] and name not in t, t)
        cb.create_tap_flow(None, flow_msg('f3', src, mon, direction='OUT',
                                          vlan_filter='10,20-22'), HOST_A)
        tap.check('re-create flow: the same file as before', self.text(HOST_A)
                  == before, self.text(HOST_A))

        # All VLANs is no filter; too many VLANs is refused with the reason.
        self.rec.clear()
        cb.create_tap_flow(None, flow_msg('f4', port(P_SRC2, HOST_A), mon,
                                          vlan_filter='0-4095'), HOST_A)
        t = self.text(HOST_A)
        tap.check('vlan_filter 0-4095: the unfiltered session, no rules',
                  self.rec.statuses('set_tap_flow_status') ==
                  [('f4', 'ACTIVE')] and
                  t.count('rule session') == 8 and
                  '    flow session taas3901-0 dir both' in
                  t.split('vm port-%s' % P_SRC2[:26])[1], t)
        before = self.text(HOST_A)
        with self.assertLogs('vtap_taas.extension', 'ERROR') as logs:
            cb.create_tap_flow(None, flow_msg('f5', port(P_SRC2, HOST_A), mon,
                                              vlan_filter='1-300'), HOST_A)
        tap.check('vlan_filter 1-300: ERROR, the reason logged, file unchanged',
                  self.rec.statuses('set_tap_flow_status')[-1] ==
                  ('f5', 'ERROR') and 'at most 256' in ' '.join(logs.output)
                  and self.text(HOST_A) == before, logs.output)

        # Ports of other hosts and of other vnic types are not this driver's.
        self.rec.clear()
        cb.create_tap_flow(None, flow_msg('f6', port(P_SRC2, HOST_B), mon),
                           HOST_B)
        cb.create_tap_flow(None, flow_msg('f7', port(P_SRC2, HOST_A,
                                                     vnic='direct'), mon),
                           HOST_A)
        tap.check('another host\'s port, an SR-IOV port: ignored, no status',
                  self.rec.casts == [] and self.text(HOST_A) == before,
                  self.rec.casts)

    def test_3_refusals(self):
        cb = self.agent(HOST_A)
        src = port(P_SRC, HOST_A)
        self.rec.clear()
        with self.assertLogs('vtap_taas.extension', 'ERROR') as logs:
            cb.create_tap_flow(None, flow_msg('g1', src, port(P_MON, BAD)),
                               HOST_A)
        out = ' '.join(logs.output)
        tap.check('vtap refuses (a multicast collector): ERROR with vtapctl\'s '
                  'reason', self.rec.statuses('set_tap_flow_status') ==
                  [('g1', 'ERROR')] and 'vtapctl refused' in out and
                  re.search(r'/taas\.conf:\d+: session taas3901-0: remote: '
                            r"'224\.0\.0\.5' is not a unicast", out), out)
        tap.check('vtap refuses: the refused file is not left in place',
                  not os.path.exists(os.path.join(self.dir, HOST_A,
                                                  'taas.conf')),
                  os.listdir(os.path.join(self.dir, HOST_A)))
        with self.assertLogs('vtap_taas.extension', 'ERROR') as logs:
            cb.create_tap_flow(None, flow_msg('g2', src,
                                              port(P_MON, 'unknown-host')),
                               HOST_A)
        tap.check('a monitoring host without underlay address: ERROR, why',
                  self.rec.statuses('set_tap_flow_status')[-1] ==
                  ('g2', 'ERROR') and 'underlay_addresses' in
                  ' '.join(logs.output), logs.output)
        # After refusals the driver still works, without the refused flows.
        cb.create_tap_flow(None, flow_msg('g3', src, port(P_MON, MON4)),
                           HOST_A)
        t = self.text(HOST_A)
        tap.check('after refusals: a good flow is ACTIVE, alone in the file',
                  self.rec.statuses('set_tap_flow_status')[-1] ==
                  ('g3', 'ACTIVE') and t.count('\nsession ') == 1, t)
        # The file is good but applying it fails (the kernel refuses):
        # ERROR with vtapctl's words, the last applied file back in place.
        before = self.text(HOST_A)
        with open(FAIL, 'w') as f:
            f.write('vtapctl: session taas3902-0: add failed (exit 7)\n')
        try:
            with self.assertLogs('vtap_taas.extension', 'ERROR') as logs:
                cb.create_tap_flow(None, flow_msg('g5', src, port(P_MON, MON4),
                                                  taas_id=3902), HOST_A)
        finally:
            os.unlink(FAIL)
        tap.check('apply fails (the kernel refuses): ERROR with vtapctl\'s '
                  'words, the applied file restored',
                  self.rec.statuses('set_tap_flow_status')[-1] ==
                  ('g5', 'ERROR') and 'add failed (exit 7)' in
                  ' '.join(logs.output) and self.text(HOST_A) == before,
                  (logs.output, self.text(HOST_A)))
        # A port whose tap does not exist: accepted (the daemon attaches it
        # when it appears), with a warning.
        with self.assertLogs('vtap_taas.driver', 'WARNING') as logs:
            cb.create_tap_flow(None, flow_msg('g4', port(P_SRC2, HOST_A),
                                              port(P_MON, MON4)), HOST_A)
        tap.check('a port whose tap does not exist: ACTIVE, declared, warned',
                  self.rec.statuses('set_tap_flow_status')[-1] ==
                  ('g4', 'ACTIVE') and
                  'dev %s ' % ('tap' + P_SRC2)[:14] in self.text(HOST_A) and
                  'no device' in ' '.join(logs.output), logs.output)

    def test_4_ipv6_erspan3(self):
        cb = self.agent(HOST_A, erspan_version=3)
        src = port(P_SRC, HOST_A)
        self.rec.clear()
        cb.create_tap_flow(None, flow_msg('h1', src, port(P_MON, MON6)),
                           HOST_A)
        cb.create_tap_flow(None, flow_msg('h2', src, port(P_MON2, MON4),
                                          taas_id=3950), HOST_A)
        t = self.text(HOST_A)
        tap.check('IPv6 collector, ERSPAN III: ACTIVE',
                  self.rec.statuses('set_tap_flow_status') ==
                  [('h1', 'ACTIVE'), ('h2', 'ACTIVE')], self.rec.casts)
        tap.check('IPv6 collector, ERSPAN III: sub-header 7, local of the '
                  'same family only',
                  'session taas3901-0 encap erspan3 remote 2001:db8::2 id 11 '
                  'subheader 7\n' in t and
                  'session taas3950-0 encap erspan3 remote 198.51.100.2 id 501 '
                  'subheader 7 local 198.51.100.1\n' in t, t)
        self.valid(HOST_A)

    def test_5_mirror(self):
        cb = self.agent(HOST_A)
        src = port(P_SRC, HOST_A)
        tm = {'id': 'c0ffee00-1111-4222-8333-444455556666', 'port_id': P_SRC,
              'directions': {'IN': 101, 'OUT': 102},
              'remote_ip': '2001:db8::99', 'mirror_type': 'erspanv1'}
        cb.create_tap_mirror(None, {'tap_mirror': tm, 'port': src}, HOST_A)
        t = self.text(HOST_A)
        tap.check('tap_mirror erspanv1, IPv6: a session per direction',
                  'session tm-c0ffee00-in encap erspan2 remote 2001:db8::99 '
                  'id 101\n' in t and
                  'session tm-c0ffee00-out encap erspan2 remote 2001:db8::99 '
                  'id 102\n' in t and
                  '    flow session tm-c0ffee00-in dir in\n' in t and
                  '    flow session tm-c0ffee00-out dir out\n' in t, t)
        self.valid(HOST_A)
        gre = dict(tm, id='beef0000-1111-4222-8333-444455556666',
                   mirror_type='gre', remote_ip='192.0.2.99',
                   directions={'BOTH': 7})
        cb.create_tap_mirror(None, {'tap_mirror': gre, 'port': src}, HOST_A)
        t = self.text(HOST_A)
        tap.check('tap_mirror gre BOTH: key = tunnel id, dir both',
                  'session tm-beef0000-both encap gre remote 192.0.2.99 key 7 '
                  'local 198.51.100.1\n' in t and
                  '    flow session tm-beef0000-both dir both\n' in t, t)
        before = t
        bad = dict(tm, id='dead0000-1111-4222-8333-444455556666',
                   directions={'IN': 5000})
        with self.assertLogs('vtap_taas.extension', 'ERROR') as logs:
            cb.create_tap_mirror(None, {'tap_mirror': bad, 'port': src},
                                 HOST_A)
        tap.check('tap_mirror ERSPAN id 5000: refused by vtapctl, logged, '
                  'file unchanged', self.text(HOST_A) == before and
                  "'5000' is not a number from 1 to 1023" in
                  ' '.join(logs.output), logs.output)
        cb.delete_tap_mirror(None, {'tap_mirror': tm, 'port': src}, HOST_A)
        cb.delete_tap_mirror(None, {'tap_mirror': gre, 'port': src}, HOST_A)
        t = self.text(HOST_A)
        tap.check('tap_mirror deleted: nothing left', 'session' not in
                  t.replace('# ', '') and 'vm ' not in t, t)

    def test_6_service(self):
        cb = self.agent(HOST_A)
        mon = port(P_MON, HOST_A)
        tapdev = ('tap' + P_MON)[:14]
        subprocess.run(['ip', 'addr', 'add', '198.51.100.1/32', 'dev', 'lo'],
                       check=False)
        subprocess.run(['ip', 'link', 'set', 'lo', 'up'], check=False)
        undev(tapdev)
        self.rec.clear()
        with self.assertLogs('vtap_taas.extension', 'ERROR') as logs:
            cb.create_tap_service(None, service_msg(3907, mon), HOST_A)
        tap.check('tap service, monitoring tap absent: ERROR, why',
                  self.rec.statuses('set_tap_service_status') ==
                  [('ts-3907', 'ERROR')] and tapdev in ' '.join(logs.output),
                  logs.output)
        dev(tapdev)
        self.rec.clear()
        cb.periodic_tasks()
        p = cb.taas_driver.collectors.get(3907)
        want = [FAKE, 'collect', 'listen', '198.51.100.1', 'encap', 'gre',
                'session'] + [str(i) for i in range(71, 81)] + ['to', tapdev]
        tap.check('the tap appears: the collector runs, ACTIVE',
                  self.rec.statuses('set_tap_service_status') ==
                  [('ts-3907', 'ACTIVE')] and p is not None and
                  p.poll() is None, (self.rec.casts, p and p.poll()))
        time.sleep(0.3)      # the substitute execs the real vtapctl
        args = cmdline(p.pid) if p else None
        tap.check('the collector: vtapctl collect listen ADDR encap gre '
                  'session (the service\'s 10 ids) to TAP',
                  args is not None and args[1:len(want)] == want[1:] and
                  args[0] == VTAPCTL, args)
        # Re-sent (agent sync): still one collector.
        cb.create_tap_service(None, service_msg(3907, mon), HOST_A)
        tap.check('tap service re-sent: the same collector',
                  cb.taas_driver.collectors.get(3907) is p)
        # A flow of this service from a port on this host, then delete the
        # service: the collector stops, the flow goes, INACTIVE.
        cb.create_tap_flow(None, flow_msg('k1', port(P_SRC, HOST_A), mon,
                                          taas_id=3907), HOST_A)
        tap.check('a flow to a collector on the same host',
                  'session taas3907-0 encap erspan2 remote 198.51.100.1 id 71 '
                  'local 198.51.100.1\n' in self.text(HOST_A),
                  self.text(HOST_A))
        self.rec.clear()
        # delete_tap_service is sent to every host: the flows' too.
        self.agent(HOST_B)
        self.conf(HOST_A)
        cb.delete_tap_service(None, service_msg(3907, mon), HOST_A)
        tap.check('delete tap service: INACTIVE, collector stopped, flows gone',
                  ('ts-3907', 'INACTIVE') in
                  self.rec.statuses('set_tap_service_status') and
                  p.poll() is not None and 3907 not in
                  cb.taas_driver.collectors and
                  'taas3907' not in self.text(HOST_A), self.text(HOST_A))
        self.conf(HOST_B)
        self.rec.clear()
        self.agents[HOST_B].taas_agent.delete_tap_service(
            None, dict(service_msg(3907, mon), port=None), HOST_A)
        tap.check('delete tap service whose port is gone (port None): '
                  'INACTIVE on a host that had nothing',
                  self.rec.statuses('set_tap_service_status') ==
                  [('ts-3907', 'INACTIVE')], self.rec.casts)
        undev(tapdev)

    def test_7_migration(self):
        a = self.agent(HOST_A, port_grace=0)
        b = self.agent(HOST_B, port_grace=0)
        mon = port(P_MON, MON4)
        self.conf(HOST_A)
        a.create_tap_flow(None, flow_msg('m1', port(P_SRC, HOST_A), mon,
                                         vlan_filter='7'), HOST_A)
        ta = self.text(HOST_A)
        sess = re.findall(r'^session .*$', ta, re.M)
        vm = re.findall(r'^vm .*$', ta, re.M)
        # A restart on A (tap deleted and created again): the policy stays.
        self.conf(HOST_A, port_grace=60)
        self.agents[HOST_A].delete_port(None, {'port_id': P_SRC})
        self.rec.clear()
        self.agents[HOST_A].handle_port(None, {'port_id': P_SRC,
                                               'device': 'x'})
        a.periodic_tasks()
        tap.check('restart on A: the policy stays, no resync asked',
                  self.text(HOST_A) == ta and self.rec.casts == [],
                  self.rec.casts)
        # Live migration to B: B's agent sees the port, asks for a resync;
        # the plugin sends the flow to B (its new binding host).
        self.conf(HOST_B)
        self.rec.clear()
        self.agents[HOST_B].handle_port(None, {'port_id': P_SRC})
        b.periodic_tasks()
        asked = sorted(k['host'] for m, k in self.rec.casts
                       if m == 'sync_tap_resources')
        tap.check('migration: B asks the plugin to resend, for every host',
                  asked == sorted([HOST_A, HOST_B, MON4, MON6, BAD]),
                  self.rec.casts)
        moved = flow_msg('m1', port(P_SRC, HOST_B), mon, vlan_filter='7')
        self.rec.clear()
        for h, cb in ((HOST_A, a), (HOST_B, b)):   # fanout: every agent
            self.conf(h, port_grace=0)
            cb.create_tap_flow(None, moved, HOST_B)
        tb = self.text(HOST_B)
        tap.check('migration: B programs it, ACTIVE, A ignores the message',
                  self.rec.statuses('set_tap_flow_status') ==
                  [('m1', 'ACTIVE')], self.rec.casts)
        tap.check('migration: B has the same session id, rules and port id',
                  re.findall(r'^session .*$', tb, re.M) ==
                  [s.replace(' local 198.51.100.1', ' local 198.51.100.3')
                   for s in sess] and re.findall(r'^vm .*$', tb, re.M) == vm
                  and 'rule session' in tb, (ta, tb))
        self.conf(HOST_A, port_grace=0)
        self.agents[HOST_A].delete_port(None, {'port_id': P_SRC})
        tap.check('migration: A drops the port and its session',
                  'vm ' not in self.text(HOST_A) and
                  '\nsession' not in self.text(HOST_A), self.text(HOST_A))
        self.valid(HOST_B)

    def test_9_monitor_moves(self):
        a = self.agent(HOST_A)
        mon = port(P_MON, HOST_A)
        tapdev = ('tap' + P_MON)[:14]
        subprocess.run(['ip', 'addr', 'add', '198.51.100.1/32', 'dev', 'lo'],
                       check=False, stderr=subprocess.DEVNULL)
        subprocess.run(['ip', 'link', 'set', 'lo', 'up'], check=False)
        dev(tapdev)
        try:
            self.rec.clear()
            a.create_tap_service(None, service_msg(3908, mon), HOST_A)
            p = a.taas_driver.collectors.get(3908)
            tap.check('monitoring port on A: ACTIVE, its collector runs',
                      self.rec.statuses('set_tap_service_status') ==
                      [('ts-3908', 'ACTIVE')] and p is not None and
                      p.poll() is None, self.rec.casts)
            # The monitoring VM migrates to B: A's agent sees its port go.
            undev(tapdev)
            self.agents[HOST_A].delete_port(None, {'port_id': P_MON})
            tap.check('monitoring port leaves A: the collector stops',
                      p is not None and p.poll() is not None and
                      3908 not in a.taas_driver.services)
            b = self.agent(HOST_B)
            self.rec.clear()
            self.agents[HOST_B].handle_port(None, {'port_id': P_MON})
            b.periodic_tasks()
            tap.check('monitoring port bound to B: B asks for a resync',
                      HOST_B in [k['host'] for m, k in self.rec.casts
                                 if m == 'sync_tap_resources'],
                      self.rec.casts)
        finally:
            undev(tapdev)

    def test_8_restart(self):
        cb = self.agent(HOST_A)
        mon = port(P_MON, MON4)
        cb.create_tap_flow(None, flow_msg('r1', port(P_SRC, HOST_A), mon),
                           HOST_A)
        cb.create_tap_flow(None, flow_msg('r2', port(P_SRC2, HOST_A), mon,
                                          vlan_filter='5'), HOST_A)
        before = self.text(HOST_A)
        # The agent restarts: a new extension, the plugin re-sends.
        self.agents.pop(HOST_A).driver.stop()
        with open(LOG, 'w'):
            pass
        self.rec.clear()
        cb = self.agent(HOST_A)
        tap.check('agent restart: it asks for a sync',
                  [m for m, k in self.rec.casts] == ['sync_tap_resources'],
                  self.rec.casts)
        cb.create_tap_flow(None, flow_msg('r2', port(P_SRC2, HOST_A), mon,
                                          vlan_filter='5'), HOST_A)
        cb.create_tap_flow(None, flow_msg('r1', port(P_SRC, HOST_A), mon),
                           HOST_A)
        tap.check('agent restart: the same file, whatever the order',
                  self.text(HOST_A) == before, self.text(HOST_A))
        with open(LOG) as f:
            log = f.read()
        tap.check('agent restart: vtapctl apply after each change',
                  log.count('apply --check') == 2 and
                  len(re.findall(r'^apply /', log, re.M)) == 2, log)


class _Patch(object):
    """A fixture that sets OBJ.NAME to VALUE for one test."""

    def __init__(self, obj, name, value):
        self.obj, self.name, self.value = obj, name, value

    def setUp(self):
        self.old = getattr(self.obj, self.name)
        setattr(self.obj, self.name, self.value)

    def cleanUp(self):
        setattr(self.obj, self.name, self.old)

    def getDetails(self):
        return {}


class TapResult(unittest.TestResult):

    def addError(self, test, err):
        super(TapResult, self).addError(test, err)
        tap.check('%s runs' % test.id().split('.')[-1], False,
                  self._exc_info_to_string(err, test))

    def addFailure(self, test, err):
        self.addError(test, err)


def main():
    print("TAP version 13")
    if not os.access(VTAPCTL, os.X_OK):
        print("ok 1 neutron-taas driver # SKIP %s is not built" % VTAPCTL)
        print("1..1")
        return 0
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(TaasDriverTest)
    suite.run(TapResult())
    tap.plan()
    shutil.rmtree(TMP, ignore_errors=True)
    return tap.status()


if __name__ == '__main__':
    sys.exit(main())
