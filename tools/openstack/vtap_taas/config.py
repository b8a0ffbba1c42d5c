# SPDX-License-Identifier: Apache-2.0
"""The [vtap] options of the agent driver (neutron's L2 agent configuration)."""
from oslo_config import cfg

GROUP = 'vtap'

OPTS = [
    cfg.StrOpt('vtapctl', default='sudo neutron-rootwrap '
                                  '/etc/neutron/rootwrap.conf vtapctl',
               help='How to run vtapctl as root: a command line, to which '
                    'the arguments are appended (the agent runs as the '
                    'neutron user; etc/vtap.filters is the rootwrap filter).'
                    '  "vtapctl" when the agent runs as root.'),
    cfg.StrOpt('config_file', default='/var/lib/neutron/vtap/taas.conf',
               help='The vtap.conf(5) file the driver renders from the TaaS '
                    'state this host was given, and applies after each '
                    'change.'),
    cfg.ListOpt('underlay_addresses', default=[],
                help='HOST=ADDRESS for every compute host that can bind a '
                     'monitoring port: the underlay address (IPv4 or IPv6) '
                     'its collectors listen on, and mirror copies are sent '
                     'to.  HOST is Neutron\'s binding:host_id.'),
    cfg.StrOpt('local_ip',
               help='This host\'s underlay address: the source of its copies '
                    'and where its collectors listen.  Default: this host\'s '
                    'entry in underlay_addresses.'),
    cfg.IntOpt('erspan_version', default=2, min=2, max=3,
               help='ERSPAN Type of the copies of tap flows: 2 (the port id '
                    'in the index), or 3 (with the Platf ID 7 sub-header: '
                    'the port id and a 64-bit timestamp).'),
    cfg.BoolOpt('run_collectors', default=True,
                help='Run "vtapctl collect ... to TAP" for each tap service '
                     'whose monitoring port is bound here.'),
    cfg.StrOpt('daemon_reload_command',
               help='Run after the file changed, before vtapctl apply, when '
                    'a "vtapctl daemon config FILE" follows the file (for '
                    'example "systemctl reload vtap-taas").  Empty: none.'),
    cfg.IntOpt('port_grace', default=60, min=0,
               help='Seconds a port that left this host (live migration, '
                    'deletion) keeps its vtap policy before it is dropped; '
                    'a VM restarted here within them keeps mirroring without '
                    'waiting for the server.'),
]


def register(conf=cfg.CONF):
    conf.register_opts(OPTS, group=GROUP)


def list_opts():
    return [(GROUP, OPTS)]
