# SPDX-License-Identifier: Apache-2.0
"""VtapTaasDriver: neutron-taas's agent driver for vtap.

The driver keeps the TaaS state this host was given (tap flows of ports
bound here, tap services whose monitoring port is bound here, tap mirrors),
renders it as ONE vtap.conf(5) file ([vtap] config_file) and runs
"vtapctl apply" on it after each change.  apply is idempotent and changes
only what differs, so re-sending the whole state is safe and an agent that
restarts converges (TaaS re-sends everything on start, sync_tap_resources).
A "vtapctl daemon config FILE" may follow the same file, to attach a VM's
tap the moment it appears (restart, migration) without waiting for the
agent.  A change vtap refuses is undone in the driver's state and raised:
TaasAgentRpcCallback then reports ERROR, and the extension logs the reason.
"""
import os
import shlex
import signal
import socket
import subprocess
import threading
import time

from neutron_lib.api.definitions import portbindings
from oslo_config import cfg
from oslo_log import log as logging

from neutron_taas.common import topics
from neutron_taas.services.taas.agents.common import taas_agent
from neutron_taas.services.taas.agents.extensions import taas as taas_ext

from vtap_taas import config
from vtap_taas import render

LOG = logging.getLogger(__name__)


class VtapError(Exception):
    """vtap refused a change, or a request cannot be done; str() says why."""


class VtapTaasDriver(taas_ext.TaasAgentDriver):

    def __init__(self, conf=None):
        super(VtapTaasDriver, self).__init__()
        self.conf = conf or cfg.CONF
        config.register(self.conf)
        self.flows = {}         # tap flow id -> message
        self.services = {}      # taas_id -> message (monitoring port here)
        self.mirrors = {}       # tap mirror id -> message
        self.gone = {}          # port id -> time it left this host
        self.resync = False     # a port we know nothing of was bound here
        self.collectors = {}    # taas_id -> Popen
        self.collector_error = {}   # taas_id -> last reason
        self.text = None        # the file as last applied
        self.lock = threading.RLock()
        self.plugin_rpc = None

    # ---- configuration -----------------------------------------------------

    @property
    def vconf(self):
        return self.conf.vtap

    def underlay(self):
        m = {}
        for item in self.vconf.underlay_addresses or []:
            host, sep, addr = item.partition('=')
            if not sep or not host or not addr:
                raise VtapError("[vtap] underlay_addresses: %r is not "
                                "HOST=ADDRESS" % item)
            m[host.strip()] = addr.strip()
        return m

    def local_ip(self):
        return self.vconf.local_ip or self.underlay().get(self.conf.host)

    # ---- TaasAgentDriver ---------------------------------------------------

    def initialize(self):
        d = os.path.dirname(self.vconf.config_file)
        os.makedirs(d, mode=0o750, exist_ok=True)
        self._reap_stale_collectors()
        self.plugin_rpc = taas_agent.TaasPluginApi(topics.TAAS_PLUGIN,
                                                   self.conf.host)
        LOG.info("vtap driver: file %s, vtapctl %s",
                 self.vconf.config_file, self.vconf.vtapctl)

    def consume_api(self, agent_api):
        self.agent_api = agent_api

    def create_tap_service(self, tap_service_msg):
        with self.lock:
            taas_id = int(tap_service_msg['taas_id'])
            self.services[taas_id] = tap_service_msg
            try:
                self._start_collector(taas_id)
            except VtapError as e:
                # Kept: the periodic task starts it when the tap appears.
                raise VtapError("tap service %s: %s" % (
                    tap_service_msg['tap_service']['id'], e))

    def delete_tap_service(self, tap_service_msg):
        with self.lock:
            taas_id = int(tap_service_msg['taas_id'])
            self._stop_collector(taas_id)
            self.services.pop(taas_id, None)
            # Its flows go with it (TaaS deletes them in its database).
            old = dict(self.flows)
            for fid in [f for f, m in self.flows.items()
                        if int(m['taas_id']) == taas_id]:
                del self.flows[fid]
            if old != self.flows:
                self._commit(lambda: self.flows.update(old))

    def create_tap_flow(self, tap_flow_msg):
        with self.lock:
            fid = tap_flow_msg['tap_flow']['id']
            prev = self.flows.get(fid)
            self.flows[fid] = tap_flow_msg
            self.gone.pop(tap_flow_msg['port']['id'], None)

            def undo():
                if prev is None:
                    self.flows.pop(fid, None)
                else:
                    self.flows[fid] = prev
            self._commit(undo)
            self._warn_absent(tap_flow_msg['port'])

    def delete_tap_flow(self, tap_flow_msg):
        with self.lock:
            fid = tap_flow_msg['tap_flow']['id']
            prev = self.flows.pop(fid, None)
            if prev is not None:
                self._commit(lambda: self.flows.__setitem__(fid, prev))

    # tap_mirror (neutron-lib's api/definitions/tap_mirror.py, TaaS >= 15):
    # the same method names as the upstream agent drivers.
    def create_tap_mirror(self, tap_mirror_msg):
        with self.lock:
            tm = tap_mirror_msg['tap_mirror']
            port = tap_mirror_msg.get('port') or {'id': tm['port_id']}
            prev = self.mirrors.get(tm['id'])
            self.mirrors[tm['id']] = {'tap_mirror': tm, 'port': port}

            def undo():
                if prev is None:
                    self.mirrors.pop(tm['id'], None)
                else:
                    self.mirrors[tm['id']] = prev
            self._commit(undo)
            self._warn_absent(port)

    def delete_tap_mirror(self, tap_mirror_msg):
        with self.lock:
            mid = tap_mirror_msg['tap_mirror']['id']
            prev = self.mirrors.pop(mid, None)
            if prev is not None:
                self._commit(lambda: self.mirrors.__setitem__(mid, prev))

    def periodic_tasks(self, args=None):
        with self.lock:
            self._expire_gone()
            for taas_id in list(self.services):
                p = self.collectors.get(taas_id)
                if p is not None and p.poll() is None:
                    continue
                ts = self.services[taas_id]['tap_service']
                try:
                    self._start_collector(taas_id)
                except VtapError as e:
                    if self.collector_error.get(taas_id) != str(e):
                        LOG.warning("tap service %s: %s", ts['id'], e)
                    self.collector_error[taas_id] = str(e)
                    continue
                self.collector_error.pop(taas_id, None)
                LOG.info("tap service %s: collector running", ts['id'])
                self._set_service_status(ts['id'], 'ACTIVE')
            if self.resync:
                self.resync = False
                self._request_resync()

    # ---- the L2 agent's port events (VtapTaasAgentExtension) ---------------

    def _ports_known(self):
        ps = {m['port']['id'] for m in self.flows.values()}
        ps |= {m['port']['id'] for m in self.mirrors.values()}
        ps |= {m['port']['id'] for m in self.services.values()}
        return ps

    def port_bound(self, port_id):
        """A port is (again) on this host."""
        with self.lock:
            if self.gone.pop(port_id, None) is not None:
                LOG.info("port %s: back on this host, its vtap policy kept",
                         port_id)
                return
            if port_id not in self._ports_known():
                # Perhaps a VM that moved here with tap flows: TaaS does not
                # tell its new host; ask the server to send them again.
                self.resync = True

    def port_unbound(self, port_id):
        """A port left this host (deleted, migrated away)."""
        with self.lock:
            if port_id in self._ports_known():
                self.gone.setdefault(port_id, time.monotonic())
                if self.vconf.port_grace == 0:
                    self._expire_gone()

    def _expire_gone(self):
        now = time.monotonic()
        old = [p for p, t in self.gone.items()
               if now - t >= self.vconf.port_grace]
        if not old:
            return
        saved = (dict(self.flows), dict(self.mirrors))
        for p in old:
            del self.gone[p]
            # A monitoring port that moved: its collector goes (the new
            # host's agent asks for the tap service, and the flows' hosts
            # are sent its new address).
            for taas_id in [t for t, m in self.services.items()
                            if m['port']['id'] == p]:
                self._stop_collector(taas_id)
                del self.services[taas_id]
                self.collector_error.pop(taas_id, None)
            for fid in [f for f, m in self.flows.items()
                        if m['port']['id'] == p]:
                del self.flows[fid]
            for mid in [x for x, m in self.mirrors.items()
                        if m['port']['id'] == p]:
                del self.mirrors[mid]
            LOG.info("port %s: left this host, its vtap policy dropped", p)

        def undo():
            self.flows, self.mirrors = saved
        try:
            self._commit(undo)
        except VtapError as e:
            LOG.error("dropping ports %s: %s", old, e)

    def _request_resync(self):
        if self.plugin_rpc is None:
            return
        hosts = set(self.underlay()) | {self.conf.host}
        for h in sorted(hosts):
            self.plugin_rpc.sync_tap_resources({'host_id': h}, h)

    # ---- the file and vtapctl ----------------------------------------------

    def _commit(self, undo):
        """Render, write, apply; on refusal undo() the state and raise."""
        try:
            plan = render.render(self.flows, self.mirrors, self.underlay(),
                                 self.local_ip(), self.vconf.erspan_version)
        except render.RenderError as e:
            undo()
            raise VtapError(str(e))
        try:
            self._apply(plan.text)
        except VtapError:
            undo()
            raise
        self.plan = plan

    def _run(self, args):
        cmd = shlex.split(self.vconf.vtapctl) + args
        try:
            p = subprocess.run(cmd, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, universal_newlines=True,
                               timeout=60)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise VtapError("%s: %s" % (' '.join(cmd), e))
        return p

    def _apply(self, text):
        path = self.vconf.config_file
        tmp = path + '.new'
        with open(tmp, 'w') as f:
            f.write(text)
        # Check the whole file before anything sees it.
        p = self._run(['apply', '--check', tmp])
        if p.returncode == 2:
            os.unlink(tmp)
            raise VtapError(self._reason(p, tmp, path))
        old = self.text
        if old is None and os.path.exists(path):
            with open(path) as f:
                old = f.read()
        os.replace(tmp, path)
        self._reload_daemon()
        p = self._run(['apply', path])
        if p.returncode not in (0, 2) and self.vconf.daemon_reload_command:
            # The daemon may have been applying the same file at the same
            # time (one of two adds fails): once more, now that it settled.
            time.sleep(1)
            p = self._run(['apply', path])
        if p.returncode != 0:
            reason = self._reason(p, path, path)
            # Back to the last state that was applied (none: no file).
            if old is not None:
                with open(path, 'w') as f:
                    f.write(old)
            else:
                os.unlink(path)
            self._reload_daemon()
            if old is not None:
                self._run(['apply', path])
            raise VtapError(reason)
        for line in p.stdout.splitlines():
            if not line.startswith('no change'):
                LOG.info("vtap: %s", line)
        self.text = text

    @staticmethod
    def _reason(p, tmp, path):
        msg = (p.stderr.strip() or p.stdout.strip() or
               'exit status %d' % p.returncode)
        msg = msg.replace(tmp, path)
        return 'vtapctl refused: ' + msg

    def _reload_daemon(self):
        cmd = self.vconf.daemon_reload_command
        if cmd:
            r = subprocess.run(cmd, shell=True)
            if r.returncode:
                LOG.warning("%s: exit status %d", cmd, r.returncode)

    def _warn_absent(self, port):
        dev = render.tap_name(port['id'])
        if not device_exists(dev):
            LOG.warning("port %s: no device %s on this host yet; vtap "
                        "attaches it when it appears (vtapctl daemon) or at "
                        "the next change", port['id'], dev)

    # ---- collectors --------------------------------------------------------

    def _pidfile(self, taas_id):
        return os.path.join(os.path.dirname(self.vconf.config_file),
                            'collect-%d.pid' % taas_id)

    def collector_args(self, taas_id):
        msg = self.services[taas_id]
        dev = render.tap_name(msg['port']['id'])
        args = ['collect']
        local = self.local_ip()
        if local:
            args += ['listen', local]
        args += ['encap', 'gre', 'session']
        args += [str(i) for i in render.service_session_ids(taas_id)]
        args += ['to', dev]
        return args, dev

    def _start_collector(self, taas_id):
        if not self.vconf.run_collectors:
            return
        p = self.collectors.get(taas_id)
        if p is not None and p.poll() is None:
            return
        args, dev = self.collector_args(taas_id)
        if not device_exists(dev):
            raise VtapError("the monitoring port's device %s does not "
                            "exist on this host" % dev)
        cmd = shlex.split(self.vconf.vtapctl) + args
        logpath = self._pidfile(taas_id)[:-4] + '.log'
        try:
            with open(logpath, 'a') as log:
                p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=log)
        except OSError as e:
            raise VtapError("%s: %s" % (' '.join(cmd), e))
        # A collector that cannot start (a bad address, the device gone)
        # exits at once: wait a moment for that.
        try:
            p.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            with open(self._pidfile(taas_id), 'w') as f:
                f.write('%d\n' % p.pid)
            self.collectors[taas_id] = p
            LOG.info("tap service %d: %s (its messages: %s)", taas_id,
                     ' '.join(cmd), logpath)
            return
        with open(logpath) as log:
            err = ' '.join(log.read().strip().splitlines()[-3:])
        raise VtapError("%s: exit status %d: %s" % (' '.join(cmd),
                                                    p.returncode, err))

    def _stop_collector(self, taas_id):
        p = self.collectors.pop(taas_id, None)
        if p is not None and p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        try:
            os.unlink(self._pidfile(taas_id))
        except FileNotFoundError:
            pass

    def _reap_stale_collectors(self):
        """Collectors of an earlier agent: TaaS sends the services again."""
        d = os.path.dirname(self.vconf.config_file)
        for n in os.listdir(d):
            if not (n.startswith('collect-') and n.endswith('.pid')):
                continue
            path = os.path.join(d, n)
            try:
                with open(path) as f:
                    pid = int(f.read().strip())
                with open('/proc/%d/cmdline' % pid, 'rb') as f:
                    cmdline = f.read().split(b'\0')
                if b'collect' in cmdline:
                    os.kill(pid, signal.SIGTERM)
            except (OSError, ValueError):
                pass
            os.unlink(path)

    def stop(self):
        with self.lock:
            for taas_id in list(self.collectors):
                self._stop_collector(taas_id)

    def _set_service_status(self, ts_id, status):
        if self.plugin_rpc is not None:
            self.plugin_rpc.set_tap_service_status({'id': ts_id}, status,
                                                   self.conf.host)


def device_exists(name):
    """In this network namespace (/sys/class/net may show another's)."""
    try:
        socket.if_nametoindex(name)
        return True
    except OSError:
        return False


def vnic_supported(port):
    """Ports whose vNIC is a tap (or veth) device vtap can attach to."""
    return (port or {}).get(portbindings.VNIC_TYPE,
                            portbindings.VNIC_NORMAL) == \
        portbindings.VNIC_NORMAL
