#!/usr/bin/python3
"""generate.py -- random but reproducible scenarios for the differential tester.

    /usr/bin/python3 generate.py --seed S --count N [--first I] [--features msg,t0,uncancel] [--unit MS]

Scenario I of seed S is made by random.Random("S:I:attempt"), so it is the same on every machine and
can be made again alone (--first I --count 1). Every scenario is first run in virtual time on asyncio
(asyncio_run.run_virtual); a scenario in which two timers fall due at the same instant is dropped and
made again with the next attempt number, because which of two such timers fires first is a coin toss
that neither asyncio nor the library defines.

The shapes: main spawns 1-5 tasks; a task sleeps and returns or fails, or spawns children and awaits
them one by one or through a gather, waits on them, iterates as_completed over them, or cancels
one after a while; any task may catch its cancellation, clean up (sleep) and
re-raise it (or return a value, with the uncancel feature). Main then gathers some of its tasks
(gathers nest), cancels tasks or gathers at chosen moments (or at once), waits (all three modes, with
and without a timeout), iterates as_completed (with and without a timeout), awaits, and finally awaits
whatever it has not consumed yet.
"""

import argparse
import random
import sys
import os

sys.path.insert(0, os.path.dirname(__file__))
from scenario import Body, Scenario  # noqa: E402
from asyncio_run import run_virtual  # noqa: E402

MAX_ATTEMPTS = 50


class Maker:
    def __init__(self, rng, features):
        self.rng, self.features = rng, features
        self.tasks, self.count = {}, 0
        # Structured scenarios (task groups, timeout scopes) leave out gather, wait and as_completed.
        self.structured = "group" in features or "scope" in features

    def name(self, prefix="t"):
        self.count += 1
        return f"{prefix}{self.count}"

    def task(self, depth):
        """Define a task (and its children); return its name."""
        r, name = self.rng, self.name()
        body = Body(name)
        self.tasks[name] = body
        number = int(name[1:])
        if depth < 2 and "group" in self.features and r.random() < 0.2:
            # A task group of children, maybe under a timeout scope: last, since in Python 3.11.2 a
            # child failing while the group's exit waits leaves a cancellation request behind, which
            # changes what a later timeout scope or as_completed sees (the library takes it back).
            children = [self.task(depth + 1) for _ in range(r.randint(1, 3))]
            stmt = ["group", self.name("G"), r.choice([0, 0, r.randint(1, 6)])] + children
            if "scope" in self.features and r.random() < 0.4:
                stmt = ["timeout", r.randint(1, 8)] + stmt
            body.stmts.append(stmt)
        elif depth < 2 and r.random() < 0.3:
            children = [self.task(depth + 1) for _ in range(r.randint(1, 3))]
            body.stmts += [["spawn", c] for c in children]
            how = 1.0 if self.structured else r.random()
            if how < 0.4:
                gather = self.name("g")
                body.stmts.append(["gather", gather, r.choice(["rex", "norex"])] + children)
                body.stmts.append(["await", gather])
            elif how < 0.55:  # look, then await them (the first error or cancellation propagates)
                body.stmts.append(["wait", r.choice(["all", "first", "exc"]), self.timeout()] + children)
                body.stmts += [["await", c] for c in children]
            elif how < 0.7:
                body.stmts.append(["as_completed", self.timeout()] + children)
            elif how < 0.8:  # a deadline of its own: cancel the first child after a while, then await all
                body.stmts += [["sleep", r.randint(1, 4)], ["cancel", children[0]] + self.message()]
                body.stmts += [["await", c] for c in children]
            else:
                body.stmts += [["await", c] for c in children]
        for _ in range(r.choice([1, 1, 2])):
            if "scope" in self.features and r.random() < 0.2 and not any(w[0] == "group" for w in body.stmts):
                body.stmts.append(self.scoped(["sleep", r.randint(1, 6)]))
            else:
                body.stmts.append(["sleep", r.randint(1, 6)])
        body.stmts.append(["fail", r.choice(["E1", "E2", "E3"])] if r.random() < 0.3 else ["return", 100 + number])
        if r.random() < 0.35:
            body.handler = [["sleep", r.randint(1, 3)]] if r.random() < 0.7 else []
            body.handler.append(["return", 200 + number] if "uncancel" in self.features and r.random() < 0.4
                                else ["reraise"])
        return name

    def scoped(self, stmt):
        """`timeout U STATEMENT`, sometimes nested in a second scope."""
        r = self.rng
        stmt = ["timeout", r.randint(1, 8)] + stmt
        if r.random() < 0.3:
            stmt = ["timeout", r.randint(1, 8)] + stmt
        return stmt

    def timeout(self):
        r = self.rng.random()
        if r < 0.4:
            return "none"
        if r < 0.55 and "t0" in self.features:
            return "0"
        return str(self.rng.randint(1, 8))

    def main(self):
        r = self.rng
        stmts = []
        top = [self.task(0) for _ in range(r.randint(1, 5))]
        stmts += [["spawn", t] for t in top]
        owned = list(top)      # every handle main may cancel
        roots = list(top)      # handles nobody consumed yet (disjoint subtrees)
        # Gathers, maybe nested: each takes some roots and becomes a root itself.
        for _ in range(0 if self.structured else r.choice([0, 1, 1, 2])):
            if not roots:
                break
            members = r.sample(roots, r.randint(1, min(3, len(roots))))
            gather = self.name("g")
            stmts.append(["gather", gather, r.choice(["rex", "norex"])] + members)
            roots = [h for h in roots if h not in members] + [gather]
            owned.append(gather)
        if r.random() < 0.15:  # cancel before anything ran
            stmts.append(["cancel", r.choice(owned)] + self.message())
            stmts.append(["sleep", 1])
        else:  # tasks spawned by tasks exist from the start too: cancelling one wakes its parent's await
            owned += [t for t in self.tasks if t not in top]
        for _ in range(r.randint(1, 4)):
            what = r.random()
            if what < 0.35:
                stmts.append(["sleep", r.randint(1, 5)])
                stmts.append(["cancel", r.choice(owned)] + self.message())
                stmts.append(["sleep", 1])   # what the cancel causes settles before main looks again
            elif self.structured and roots:
                one = r.choice(roots)
                stmts.append(["await", one])
                roots.remove(one)
            elif what < 0.6 and roots:
                some = r.sample(roots, r.randint(1, min(4, len(roots))))
                stmts.append(["wait", r.choice(["all", "first", "exc"]), self.timeout()] + some)
            elif what < 0.8 and roots:
                some = r.sample(roots, r.randint(1, min(4, len(roots))))
                stmts.append(["as_completed", self.timeout()] + some)
                roots = [h for h in roots if h not in some]
            elif roots:
                one = r.choice(roots)
                stmts.append(["await", one])
                roots.remove(one)
        # Timeout scopes, then task groups: last, for the reason given in task().
        if "scope" in self.features and r.random() < 0.4:
            stmts.append(self.scoped(["sleep", r.randint(1, 8)]))
        if "group" in self.features and r.random() < 0.4:
            members = [self.task(1) for _ in range(r.randint(1, 3))]
            stmt = ["group", self.name("G"), r.choice([0, r.randint(1, 6)])] + members
            if "scope" in self.features and r.random() < 0.4:
                stmt = self.scoped(stmt)
            stmts.append(stmt)
        stmts += [["await", h] for h in roots]
        stmts.append(["return", 0])
        return Body("main", stmts)

    def message(self):
        if "msg" in self.features and self.rng.random() < 0.5:
            return [f"m{self.rng.randint(1, 9)}"]
        return []


def make(seed, index, features, unit_ms):
    """Scenario `index` of `seed`: the first attempt whose virtual run has no timers due together."""
    for attempt in range(MAX_ATTEMPTS):
        maker = Maker(random.Random(f"{seed}:{index}:{attempt}"), features)
        main = maker.main()
        sc = Scenario(index, f"{seed}:{index}:{attempt}", unit_ms, tuple(features), maker.tasks, main)
        try:
            trace, ties = run_virtual(sc)
        except (KeyError, ValueError):  # e.g. a cancel of a task whose parent never ran
            continue
        if not ties:
            return sc
    raise RuntimeError(f"seed {seed}: no scenario {index} without a tie in {MAX_ATTEMPTS} attempts")


def half_steps(rng, low=1, high=6):
    """A timeout of a whole number of steps and a half: every server answers on a whole step, so a
    timeout never falls due together with an answer."""
    return f"{rng.randint(low, high)}.5"


def make_http(seed, index, unit_ms):
    """An HTTP scenario: requests through one session against two fixture servers (see aiohttp_run.py).

    Either timeouts (no limit binds; each request meets its own deadlines: total, connect,
    sock_connect, sock_read, from the session or its own) or a pool (limit or limit_per_host binds;
    requests queue). When the global limit binds, every request goes to one server: aiohttp 3.8 hands
    a freed connection to a host picked at random (connector._release_waiter shuffles them). A quarter
    of the scenarios send methods, bodies and redirects instead, and compare what the server saw."""
    r = random.Random(f"http:{seed}:{index}")
    n = r.randint(2, 5)

    def timeouts(p):
        values = r.sample(range(0, 7), 4)  # distinct, so two deadlines of one request never tie
        return [f"{v}.5" if r.random() < p else "-" for v in values]

    stmts, pool, methods = [], r.random() < 0.5, r.random() < 0.25
    if methods:  # methods, bodies and redirects: what the server saw must be the same
        stmts.append(["session", 0, 0, "-", "-", "-", "-"])
        for i in range(1, n + 2):
            method = r.choice(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])
            body = "-" if method == "HEAD" or r.random() < 0.4 else r.choice(["x", "two"])
            code = r.choice([None, 301, 302, 303, 307, 308])
            stmts.append(["send", f"r{i}", r.choice("ab"), method, body, f"redirect:{code}" if code else "anything"])
    elif pool:
        per_host = r.random() < 0.4
        limit, limit_per_host = (0, r.randint(1, 2)) if per_host else (r.randint(1, 3), 0)
        stmts.append(["session", limit, limit_per_host, "-", "-", "-", "-"])
        for i in range(1, n + 2):
            server = r.choice("ab") if per_host else "a"
            get = ["get", f"r{i}", server, f"delay:{r.randint(1, 4)}"]
            if r.random() < 0.3:  # a deadline for the wait in the queue (connect: never once connected,
                get += ["-", half_steps(r, 0, 4), "-", "-"]  # so no connection closes while another opens)
            stmts.append(get)
    else:
        stmts.append(["session", 0, 0] + timeouts(0.4))
        session = stmts[0][3:]
        for i in range(1, n + 1):
            server = "hole" if r.random() < 0.2 else r.choice("ab")
            path = r.choice(["get", "delay:1", "delay:2", "delay:3", "delay:4", "stall"]) if server != "hole" else "get"
            own = timeouts(0.5) if r.random() < 0.35 else None
            effective = own or session
            # A request that could wait forever gets a total deadline.
            can_end = (path not in ("stall",) and server != "hole") or effective[0] != "-" or \
                (server == "hole" and (effective[1] != "-" or effective[2] != "-")) or \
                (path == "stall" and effective[3] != "-")
            if not can_end:
                own = list(effective)
                own[0] = half_steps(r)
                own = own if len(set(w for w in own if w != "-")) == len([w for w in own if w != "-"]) else [own[0], "-", "-", "-"]
            stmts.append(["get", f"r{i}", server, path] + (own or []))
    if r.random() < 0.5:
        stmts.insert(1 + r.randint(0, len(stmts) - 1), ["sleep", 1])
    stmts += [["await", w[1]] for w in stmts if w[0] in ("get", "send")]
    stmts.append(["return", 0])
    return Scenario(index, f"http:{seed}:{index}", unit_ms, (), {}, Body("main", stmts))


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", default="1")
    ap.add_argument("--count", type=int, default=10)
    ap.add_argument("--first", type=int, default=0)
    ap.add_argument("--features", default="")
    ap.add_argument("--unit", type=int, default=100)
    ap.add_argument("--http", action="store_true")
    a = ap.parse_args(argv[1:])
    features = [f for f in a.features.split(",") if f]
    for i in range(a.first, a.first + a.count):
        sys.stdout.write((make_http(a.seed, i, a.unit) if a.http else make(a.seed, i, features, a.unit)).text())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
