#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# mirror.sh's checks with vtap's XDP program on both ports (vnet1, a veth,
# and tap2, a tap: native XDP on each): every frame a VM sends that XDP can
# copy exactly is mirrored by XDP (bpf_vtap_mirror_xdp()), the rest and
# what the VMs receive by TC; each arrives once, byte-identical, in order,
# with the same counters, sequence numbers and decapsulators as on TC alone.
export VTAP_PORT_XDP=on VTAP_MIRROR_NAME=mirror_xdp
exec bash "$(dirname "$0")/mirror.sh"
