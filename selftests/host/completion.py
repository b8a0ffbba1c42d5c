#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Bash completion (tools/completion/vtapctl) knows what vtapctl knows: every
object, subcommand, keyword and enumerated value that `vtapctl help` and
`vtapctl OBJECT help` list is offered where it can be typed.  The script is
sourced into a plain `bash --norc` (no bash-completion package) and driven
through COMP_WORDS/COMP_CWORD, as bash itself does."""
import os
import re
import shlex
import subprocess
import sys

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
VTAPCTL = os.environ.get("VTAPCTL", os.path.join(TOP, "build", "vtapctl"))
SCRIPT = os.path.join(TOP, "tools", "completion", "vtapctl")
sys.path.insert(0, os.path.join(TOP, "selftests", "lib"))
from tap import check, plan, status  # noqa: E402


def complete_many(lines):
    """Completions for many command lines (lists of words, the last one the
    word being completed), in one bash."""
    prog = [f". {shlex.quote(SCRIPT)}"]
    for words in lines:
        prog.append(f"COMP_WORDS=({' '.join(shlex.quote(w) for w in words)})")
        prog.append(f"COMP_CWORD={len(words) - 1}")
        prog.append('COMPREPLY=(); _vtapctl; echo "R ${COMPREPLY[*]}"')
    out = subprocess.run(["bash", "--norc", "--noprofile", "-c", "\n".join(prog)],
                         capture_output=True, text=True, env={**os.environ, "PATH":
                         os.path.dirname(VTAPCTL) + ":" + os.environ.get("PATH", "")})
    replies = [set(l[2:].split()) for l in out.stdout.splitlines() if l.startswith("R ")]
    return replies, out.stderr


def helptext(*args):
    return subprocess.run([VTAPCTL, *args], capture_output=True, text=True).stdout


def usages(obj):
    """{subcommand: usage text} from `vtapctl OBJ help` (continuation lines
    joined; the BROKER := ... grammar appended to the commands that use it)."""
    out = {}
    cur = None
    broker = ""
    in_broker = False
    for line in helptext(obj, "help").splitlines():
        m = re.match(r"^(?:Usage:)?\s*vtapctl(?: \[-j\])? " + obj + r"\b ?(\S*)(.*)", line)
        if m:
            in_broker = False
            sub = m.group(1)
            if obj in ("stats", "collect", "apply", "daemon") or sub.startswith("["):
                sub, rest = "", m.group(1) + m.group(2)
            else:
                rest = m.group(2)
            if sub == "help":
                cur = None
                continue
            cur = sub
            out[cur] = out.get(cur, "") + " " + rest
        elif re.match(r"^\s+BROKER :=", line):
            in_broker = True
            broker += line.split(":=", 1)[1]
        elif re.match(r"^\s+\|", line) and in_broker:
            broker += line
        elif re.match(r"^\s", line) and cur is not None and not in_broker:
            out[cur] += " " + line
        else:
            cur = None
            in_broker = False
    for sub in out:
        if "BROKER" in out[sub]:
            out[sub] += " " + broker
    return out


def first_words(group):
    """The lowercase first word of each alternative of a {a|b ...} group."""
    vals = []
    for alt in group.strip("{}").split("|"):
        w = alt.split()
        if w and re.fullmatch(r"[a-z0-9][a-z0-9-]*", w[0]) and re.search("[a-z]", w[0]):
            vals.append(w[0])
    return vals


def grammar(usage):
    """(keywords, {keyword: values}, positional) of one command's usage."""
    toks = re.findall(r"\{[^}]*\}|[^\s\[\]]+", usage.replace("[", " ").replace("]", " "))
    kws, values = [], {}
    positional = bool(toks) and toks[0] in ("NAME", "DEV")
    for i, t in enumerate(toks):
        nxt = toks[i + 1] if i + 1 < len(toks) else ""
        if re.fullmatch(r"[a-z][a-z0-9-]*", t):
            kws.append(t)
            if nxt.startswith("{"):
                values[t] = first_words(nxt)
        elif t.startswith("{") and (i == 0 or not re.fullmatch(r"[a-z][a-z0-9-]*", toks[i - 1])):
            kws.extend(first_words(t))
    return list(dict.fromkeys(kws)), values, positional


# Keywords that only follow another's value (the parser refuses them alone).
FOLLOWERS = {"burst"}


def main():
    print("TAP version 13")
    check("the script exists", os.path.isfile(SCRIPT))
    check("bash -n", subprocess.run(["bash", "-n", SCRIPT]).returncode == 0)
    src = open(SCRIPT).read()
    helpers = re.findall(r"\b(_init_completion|_get_comp_words_by_ref|_filedir|__ltrim_colon_completions)\b", src)
    check("needs no bash-completion helper", not helpers, helpers)
    reg = subprocess.run(["bash", "--norc", "--noprofile", "-c", f". {shlex.quote(SCRIPT)}; complete -p vtapctl"],
                         capture_output=True, text=True)
    check("registers a completion for vtapctl in plain bash",
          "complete -F _vtapctl vtapctl" in reg.stdout, reg.stdout + reg.stderr)

    objects = re.findall(r"^  (\S+)", helptext("help").split("Objects:", 1)[1], re.M)
    options = set(re.findall(r"(?<![\w-])(--?[a-zA-Z][a-zA-Z-]*)", helptext("help").split("Objects:", 1)[0]))
    (objs, opts, dev), err = complete_many([["vtapctl", ""], ["vtapctl", "-"], ["vtapctl", "port", "add", ""]])
    check("no errors from bash", not err, err)
    check("objects: exactly those of `vtapctl help`", objs == set(objects), (objs, objects))
    check("options: those of `vtapctl help`", options and options <= opts, (opts, options))
    check("port add completes device names (lo)", "lo" in dev, dev)

    for obj in objects:
        if obj in ("help",):
            continue
        use = usages(obj)
        if obj in ("info", "version"):
            check(f"{obj}: `vtapctl {obj} help` works", helptext(obj, "help").startswith("Usage:"))
            continue
        check(f"{obj}: help lists commands", bool(use), use)
        if obj not in ("stats", "collect", "apply", "daemon"):
            (subs,), _ = complete_many([["vtapctl", obj, ""]])
            want = set(use) | {"help"}
            check(f"{obj}: subcommands are exactly those of its help", subs == want, (subs, want))
        for sub, usage in sorted(use.items()):
            kws, values, positional = grammar(usage)
            base = ["vtapctl", obj] + ([sub] if sub else [])
            pos = [{"port": "lo"}.get(obj, "x")] if positional else []
            queries = [base + pos + [""]]
            order = sorted(values)
            for k in order:
                queries.append(base + pos + [k, ""])
            replies, err = complete_many(queries)
            name = f"{obj} {sub}".strip()
            if not kws:
                continue
            # burst belongs to "rate R": offered after a rate, not on its own.
            missing = [k for k in kws if k not in replies[0] and k not in FOLLOWERS]
            wrong = [k for k in FOLLOWERS if k in replies[0]]
            check(f"{name}: offers no keyword that only follows another ({sorted(FOLLOWERS)})",
                  not wrong, wrong)
            check(f"{name}: offers every keyword of its usage ({len(kws)})", not missing,
                  f"missing {missing}; offered {sorted(replies[0])}")
            for k, got in zip(order, replies[1:]):
                miss = [v for v in values[k] if v not in got]
                check(f"{name}: values after '{k}'", not miss, f"missing {miss}; offered {sorted(got)}")
    (after_rate, after_none), err = complete_many([
        ["vtapctl", "session", "set", "x", "rate", "10mbit", ""],
        ["vtapctl", "session", "set", "x", "rate", "none", ""]])
    check("session set: burst after 'rate R'", "burst" in after_rate and not err, (after_rate, err))
    check("session set: no burst after 'rate none'", "burst" not in after_none, after_none)
    # Global options with a value: -n completes namespaces, not objects.
    (after_n,), err = complete_many([["vtapctl", "-n", "x", ""]])
    check("-n NETNS: then the objects", "session" in after_n and not err, (after_n, err))
    # dedup's value is optional: its words after it.
    (got,), err = complete_many([["vtapctl", "session", "set", "x", "dedup", ""]])
    check("session set: values after 'dedup'", {"on", "off", "10ms"} <= got and not err, (got, err))
    # After "encap E", session add offers E's own keywords, not another's.
    own = {"gre": {"key"}, "erspan2": set(), "erspan3": {"hwid", "gra", "subheader"},
           "vxlan": {"vni", "dstport"}}
    encaps = list(own)
    replies, err = complete_many([["vtapctl", "session", "add", "x", "encap", e, ""]
                                  for e in encaps])
    check("no errors from bash (encap keywords)", not err, err)
    for e, got in zip(encaps, replies):
        others = set().union(*own.values()) - own[e]
        check(f"session add ... encap {e}: offers {sorted(own[e])} and ttl, not {sorted(others)}",
              own[e] | {"ttl"} <= got and not got & others, sorted(got))
    (vx,), _ = complete_many([["vtapctl", "session", "add", "x", "encap", ""]])
    check("encap values include vxlan", "vxlan" in vx, vx)
    plan()
    return status()


if __name__ == "__main__":
    sys.exit(main())
