#!/usr/bin/python3
"""generate.py -- random but reproducible scenarios for the differential tester.

    /usr/bin/python3 generate.py --seed S --count N [--first I] [--features msg,t0,uncancel] [--unit MS]

Scenario I of seed S is made by random.Random("S:I:attempt"), so it is the same on every machine and
can be made again alone (--first I --count 1). Every scenario is first run in virtual time on asyncio
(asyncio_run.run_virtual); a scenario in which two timers fall due at the same instant is dropped and
made again with the next attempt number, because which of two such timers fires first is a coin toss
that neither asyncio nor the library defines.

The shapes: main spawns 1-5 tasks; a task sleeps and returns or fails, or spawns children and awaits
them one by one or through a gather; any task may catch its cancellation, clean up (sleep) and
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

    def name(self, prefix="t"):
        self.count += 1
        return f"{prefix}{self.count}"

    def task(self, depth):
        """Define a task (and its children); return its name."""
        r, name = self.rng, self.name()
        body = Body(name)
        self.tasks[name] = body
        number = int(name[1:])
        if depth < 2 and r.random() < 0.3:
            children = [self.task(depth + 1) for _ in range(r.randint(1, 3))]
            body.stmts += [["spawn", c] for c in children]
            if r.random() < 0.5:
                gather = self.name("g")
                body.stmts.append(["gather", gather, r.choice(["rex", "norex"])] + children)
                body.stmts.append(["await", gather])
            else:
                body.stmts += [["await", c] for c in children]
        for _ in range(r.choice([1, 1, 2])):
            body.stmts.append(["sleep", r.randint(1, 6)])
        body.stmts.append(["fail", r.choice(["E1", "E2", "E3"])] if r.random() < 0.3 else ["return", 100 + number])
        if r.random() < 0.35:
            body.handler = [["sleep", r.randint(1, 3)]] if r.random() < 0.7 else []
            body.handler.append(["return", 200 + number] if "uncancel" in self.features and r.random() < 0.4
                                else ["reraise"])
        return name

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
        for _ in range(r.choice([0, 1, 1, 2])):
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
        for _ in range(r.randint(1, 4)):
            what = r.random()
            if what < 0.35:
                stmts.append(["sleep", r.randint(1, 5)])
                stmts.append(["cancel", r.choice(owned)] + self.message())
                stmts.append(["sleep", 1])   # what the cancel causes settles before main looks again
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
        trace, ties = run_virtual(sc)
        if not ties:
            return sc
    raise RuntimeError(f"seed {seed}: no scenario {index} without a tie in {MAX_ATTEMPTS} attempts")


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", default="1")
    ap.add_argument("--count", type=int, default=10)
    ap.add_argument("--first", type=int, default=0)
    ap.add_argument("--features", default="")
    ap.add_argument("--unit", type=int, default=50)
    a = ap.parse_args(argv[1:])
    features = [f for f in a.features.split(",") if f]
    for i in range(a.first, a.first + a.count):
        sys.stdout.write(make(a.seed, i, features, a.unit).text())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
