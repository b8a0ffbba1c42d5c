# SPDX-License-Identifier: Apache-2.0
"""VtapTaasAgentExtension: the L2 agent extension "vtap_taas".

The stock extension (entry point "taas") loads the agent driver named by the
L2 agent's type ("ovs" under the Open vSwitch agent) and, through
TaasAgentRpcCallback._driver_and_host_verification, drops every message
whose port's vnic_type is not mapped to that driver by a hard-coded
{direct: sriov, normal: ovs}.  This extension is the stock one with three
changes: it loads the "vtap" driver whatever the agent, it accepts the
ports vtap can tap (vnic_type normal: a tap or veth device), and it passes
the agent's port events (handle_port, delete_port) to the driver so that a
port's policy follows live migration.  It also logs why a request failed
(the stock callback only says "Failed to invoke the driver"), runs the
driver's periodic tasks, and takes tap_mirror messages (TaaS >= 15).
"""
from neutron_lib import constants
from oslo_config import cfg
from oslo_log import log as logging
from oslo_service import loopingcall

from neutron_taas.services.taas.agents.common import taas_agent
from neutron_taas.services.taas.agents.extensions import taas as taas_ext

from vtap_taas import driver as vtap_driver

LOG = logging.getLogger(__name__)

DRIVER = 'vtap'


class VtapTaasAgentRpcCallback(taas_agent.TaasAgentRpcCallback):

    def initialize(self):
        super(VtapTaasAgentRpcCallback, self).initialize()
        self.func_dict.setdefault('create_tap_mirror', {
            'msg_name': 'tap_mirror',
            'set_status_func_name': None,
            'fail_status': constants.ERROR,
            'succ_status': constants.ACTIVE})
        self.func_dict.setdefault('delete_tap_mirror', {
            'msg_name': 'tap_mirror',
            'set_status_func_name': None,
            'fail_status': constants.ERROR,
            'succ_status': constants.INACTIVE})
        self.timer = None
        interval = int(cfg.CONF.taas_agent_periodic_interval)
        if interval > 0:
            self.timer = loopingcall.FixedIntervalLoopingCall(
                self.periodic_tasks)
            self.timer.start(interval=interval, initial_delay=interval)

    def _is_driver_port_type_compatible(self, port):
        return vtap_driver.vnic_supported(port)

    def _invoke_driver_for_plugin_api(self, context, args, func_name):
        if func_name == 'periodic_tasks':
            try:
                self.taas_driver.periodic_tasks(args)
            except Exception:
                LOG.exception("vtap: periodic tasks")
            return
        fd = self.func_dict[func_name]
        obj = args[fd['msg_name']]
        status_msg = {'id': obj['id']}
        error = None
        try:
            getattr(self.taas_driver, func_name)(args)
        except vtap_driver.VtapError as e:
            error = str(e)
        except Exception as e:
            LOG.exception("%s %s", func_name, obj['id'])
            error = '%s: %s' % (type(e).__name__, e)
        if error is not None:
            # The reason, which TaaS's API has no field for.
            LOG.error("%s %s: %s", func_name, obj['id'], error)
            status = fd['fail_status']
        else:
            status = fd['succ_status']
        if fd['set_status_func_name']:
            getattr(self.taas_plugin_rpc, fd['set_status_func_name'])(
                status_msg, status, self.conf.host)

    def delete_tap_service(self, context, tap_service, host):
        # TaaS 10 sends 'port': None when the monitoring port is gone (the
        # stock callback then fails on None.get): clean up anyway.
        if tap_service.get('port') is None:
            tap_service = dict(tap_service, port={})
        return super(VtapTaasAgentRpcCallback, self).delete_tap_service(
            context, tap_service, host)

    def create_tap_mirror(self, context, tap_mirror_msg, host):
        port = tap_mirror_msg.get('port') or {}
        if not self._driver_and_host_verification(host, port):
            return
        return self._invoke_driver_for_plugin_api(
            context, tap_mirror_msg, 'create_tap_mirror')

    def delete_tap_mirror(self, context, tap_mirror_msg, host):
        port = tap_mirror_msg.get('port') or {}
        if not self._driver_and_host_verification(host, port):
            return
        return self._invoke_driver_for_plugin_api(
            context, tap_mirror_msg, 'delete_tap_mirror')


class VtapTaasAgentExtension(taas_ext.TaasAgentExtension):

    def initialize(self, connection, driver_type):
        self.taas_agent = VtapTaasAgentRpcCallback(cfg.CONF, DRIVER)
        self.taas_agent.consume_api(self.agent_api)
        self.taas_agent.initialize()

    @property
    def driver(self):
        return self.taas_agent.taas_driver

    def handle_port(self, context, port):
        port_id = port.get('port_id') or port.get('id')
        if port_id:
            self.driver.port_bound(port_id)

    def delete_port(self, context, port):
        port_id = port.get('port_id') or port.get('id')
        if port_id:
            self.driver.port_unbound(port_id)
