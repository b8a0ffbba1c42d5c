# SPDX-License-Identifier: Apache-2.0
"""vtap as the host driver of OpenStack Tap-as-a-Service (neutron-taas)."""
