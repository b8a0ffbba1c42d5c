# SPDX-License-Identifier: GPL-2.0
"""TAP for vtap's Python tests: check() prints "ok N NAME" or "not ok N NAME"
(with the detail as "# " lines); plan() prints "1..N"; status() is the exit
status (1 if anything failed)."""

n = 0
failed = 0


def check(name, cond, detail=""):
    global n, failed
    n += 1
    if cond:
        print(f"ok {n} {name}")
    else:
        failed += 1
        print(f"not ok {n} {name}")
        if detail:
            print("# " + str(detail).replace("\n", "\n# "))
    return cond


def plan():
    print(f"1..{n}")


def status():
    return 1 if failed else 0
