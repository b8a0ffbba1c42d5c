#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The YAML spec of the vtap family and include/uapi/linux/vtap.h agree:
every command, attribute, enum and constant in one is in the other with the
same value, the policies in kmod/netlink.c carry the spec's checks, and
vtapctl info (user/cmd/info.c) has a name for every feature bit."""
import os
import re
import subprocess
import sys
import tempfile

import yaml

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "selftests", "lib"))
from tap import check, plan, status  # noqa: E402


def c_values(names):
    """Ask the C compiler for the values of NAMES in the UAPI header."""
    src = "#include <stdio.h>\n#include <linux/vtap.h>\nint main(void){\n"
    for nm in names:
        src += f'printf("{nm}=%lld\\n", (long long)({nm}));\n'
    src += "return 0;}\n"
    with tempfile.TemporaryDirectory() as d:
        c, exe = os.path.join(d, "v.c"), os.path.join(d, "v")
        open(c, "w").write(src)
        r = subprocess.run(["cc", "-I", os.path.join(TOP, "include/uapi"), "-o", exe, c],
                           capture_output=True, text=True)
        if r.returncode:
            return None, r.stderr
        out = subprocess.run([exe], capture_output=True, text=True).stdout
    return dict(l.split("=") for l in out.split()), ""


def cname(*parts):
    return "_".join(p.replace("-", "_") for p in parts).upper()


print("TAP version 13")
spec = yaml.safe_load(open(os.path.join(TOP, "Documentation/netlink/specs/vtap.yaml")))
want = {}

for d in spec["definitions"]:
    if d["type"] == "const":
        want[cname("vtap", d["name"])] = d["value"]
    elif d["type"] == "enum":
        prefix = {"encap": "vtap_encap", "gra": "vtap_gra",
                  "sample-mode": "vtap_sample", "rate-unit": "vtap_rate"}[d["name"]]
        for i, e in enumerate(d["entries"]):
            want[cname(prefix, e)] = i
    elif d["type"] == "flags":
        for i, e in enumerate(d["entries"]):
            want[cname("vtap", d["name"], e)] = 1 << i

for aset in spec["attribute-sets"]:
    v = 0
    for a in aset["attributes"]:
        v = a.get("value", v + 1)
        want[cname("vtap_a", aset["name"], a["name"])] = v

v = 0
for op in spec["operations"]["list"]:
    v = op.get("value", v + 1)
    want[cname("vtap_cmd", op["name"])] = v

got, err = c_values(sorted(want))
check("the UAPI header defines every name of the spec", got is not None, err)
if got:
    for k in sorted(want):
        check(f"{k} = {want[k]}", int(got[k]) == want[k], f"header has {got[k]}")

# Nothing in the header that the spec lacks.
hdr = open(os.path.join(TOP, "include/uapi/linux/vtap.h")).read()
enum_names = set(re.findall(r"^\s+(VTAP_[A-Z0-9_]+)\s*(?:=[^,]*)?,", hdr, re.M))
extra = sorted(x for x in enum_names
               if x not in want and not x.startswith("__") and not x.endswith("_UNSPEC"))
check("every enum entry of the header is in the spec", not extra, extra)

# vtapctl info names every feature bit, by the spec's names.
feat = next(d for d in spec["definitions"] if d["name"] == "feature")
info_c = open(os.path.join(TOP, "user/cmd/info.c")).read()
named = dict(re.findall(r'\{\s*(VTAP_FEATURE_[A-Z0-9_]+),\s*"([a-z0-9-]+)"\s*\}', info_c))
for e in feat["entries"]:
    k = cname("vtap_feature", e)
    check(f"vtapctl info names {k} '{e}'", named.get(k) == e, named.get(k))
extra = sorted(set(named) - {cname("vtap_feature", e) for e in feat["entries"]})
check("vtapctl info names no feature the spec lacks", not extra, extra)

# Policies: admin flag on every op the spec marks, checks carried.
nlc = open(os.path.join(TOP, "kmod/netlink.c")).read()
for op in spec["operations"]["list"]:
    cmd = cname("vtap_cmd", op["name"])
    m = re.search(r"\.cmd\s*=\s*%s,(.*?)\}" % cmd, nlc, re.S)
    check(f"{cmd} is registered", m is not None)
    if m:
        admin = "uns-admin-perm" in op.get("flags", [])
        check(f"{cmd} admin flag as in the spec",
              ("GENL_UNS_ADMIN_PERM" in m.group(1)) == admin)
for a in next(s for s in spec["attribute-sets"] if s["name"] == "session")["attributes"]:
    if "checks" not in a:
        continue
    attr = cname("vtap_a_session", a["name"])
    m = re.search(r"\[%s\]\s*=\s*([^\n]*)" % attr, nlc)
    check(f"{attr} has a policy", m is not None)
    if not m:
        continue
    pol = m.group(1)
    c = a["checks"]
    if "exact-len" in c:
        check(f"{attr}: exact length", "EXACT_LEN" in pol, pol)
    if "max-len" in c:
        check(f"{attr}: max length", "VTAP_NAME_MAX - 1" in nlc, pol)
    if "min" in c or "max" in c:
        check(f"{attr}: range check", re.search(r"NLA_POLICY_(RANGE|MIN|MAX|FULL_RANGE)", pol), pol)
    if "flags-mask" in c:
        check(f"{attr}: mask check", "NLA_POLICY_MASK" in pol, pol)

plan()
sys.exit(status())
