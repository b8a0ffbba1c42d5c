# SPDX-License-Identifier: Apache-2.0
# Plain setuptools (no pbr): the metadata and entry points are in setup.cfg.
import setuptools

setuptools.setup()
