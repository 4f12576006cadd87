#!/usr/bin/python3
"""asyncio_run.py -- run scenarios on real asyncio and print their canonical traces (the oracle).

    /usr/bin/python3 asyncio_run.py FILE [--parallel K]   real time: K scenarios at once in one loop
    /usr/bin/python3 asyncio_run.py FILE --virtual         virtual time: no waiting, one scenario at a time

A trace is one block per scenario, "=== ID" then lines "STEP WHO WHAT", sorted: STEP is the time of the
line in units (rounded), so events in different steps keep their order and events in the same step are
compared as a set. The C interpreter (interp.c) prints the same thing for the same scenario.

Virtual time is asyncio's own loop with a clock that jumps to the next timer instead of sleeping; the
generator uses it to reject scenarios whose outcome would depend on which of two timers due at the
same moment fires first (a coin toss on a real machine, and not something asyncio defines).
"""

import asyncio
import math
import sys

sys.path.insert(0, __import__("os").path.dirname(__file__))
from scenario import parse  # noqa: E402


if __name__ == "__main__":  # aiohttp_run imports this file as a module: let it find this copy
    sys.modules["asyncio_run"] = sys.modules["__main__"]


class ScenarioError(Exception):
    """The error a `fail KIND` statement raises; its one argument is the kind."""


def render_cancel(msg):
    return f"cancelled({msg})" if msg else "cancelled"


def render_kind(e):
    """An error's kind: E1..E3, "timeout" (a timeout scope's TimeoutError), or "group[...]" (a task
    group's ExceptionGroup: its errors' kinds, sorted, since two that happen in one step may be
    collected in either order)."""
    if isinstance(e, ScenarioError):
        return e.args[0]
    if isinstance(e, TimeoutError):
        return "timeout"
    if isinstance(e, BaseExceptionGroup):
        return "group[" + ",".join(sorted(render_kind(x) for x in e.exceptions)) + "]"
    return f"{type(e).__name__}:{e}"


def render_value(v):
    """A result: an int, or a gather's list (each slot a value, an error kind or a cancellation)."""
    if isinstance(v, list):
        return "[" + ",".join(render_value(x) for x in v) + "]"
    if isinstance(v, asyncio.CancelledError):
        # A return_exceptions slot holds CancelledError(''), whatever message it had: asyncio builds
        # a new one from _cancel_message, which a task cancelled by its own coroutine never sets.
        return "cancelled"
    if isinstance(v, (ScenarioError, TimeoutError, BaseExceptionGroup)):
        return render_kind(v)
    return str(v)


def render_exception(e, with_message=True):
    if isinstance(e, asyncio.CancelledError):
        return render_cancel(e.args[0] if e.args and with_message else None)
    return "error " + render_kind(e)


def outcome(f):
    """How a finished future ended, as the trace says it."""
    if f.cancelled():
        # Not its message: asyncio hands a cancellation's message out once (to the first reader), and
        # reading it here would take it from the awaiter; the awaiter's line shows it instead.
        return "cancelled"
    e = f.exception()
    if e is None:
        return "result " + render_value(f.result())
    if isinstance(e, asyncio.CancelledError):
        # A gather that is cancelled, or whose child is cancelled, *fails* with CancelledError
        # (gather.cancelled() is False; wait(FIRST_EXCEPTION) counts it), and so does the library's
        # (CW_ECANCELLED, state CW_FAILED). Awaiting it reads "cancelled" either way.
        return "error cancelled"
    return render_exception(e, with_message=False)


RETURN_WHEN = {"all": asyncio.ALL_COMPLETED, "first": asyncio.FIRST_COMPLETED,
               "exc": asyncio.FIRST_EXCEPTION}


class Run:
    """One scenario being run: its handles (tasks and gathers by name) and its trace."""

    def __init__(self, sc, unit_s):
        self.sc, self.unit_s = sc, unit_s
        self.loop = asyncio.get_running_loop()
        self.t0 = self.loop.time()
        self.handles, self.names, self.trace = {}, {}, []
        self.http = None  # set to an aiohttp_run.Http for an HTTP scenario
        self.children = {}  # gathers without return_exceptions: their children's names
        self.gathers = set()  # every gather's name
        self.msg = "msg" in sc.features  # cancellation messages are traced where they are first read

    def step(self):
        """The time step now. Every event is due on a whole step and can only be late (the loop was
        busy, the machine loaded), so a step is counted as begun a tenth of a step early and lasts
        until the next: lateness of up to 0.9 step leaves the step unchanged."""
        return math.floor((self.loop.time() - self.t0) / self.unit_s + 0.1)

    def seconds_until(self, units):
        """Seconds from now to `units` steps after the current step: sleeps and timeouts are
        anchored to the grid of steps, so lateness does not add up along a chain of sleeps."""
        return max(0.0, (self.step() + units) * self.unit_s - (self.loop.time() - self.t0))

    def log(self, who, what):
        self.trace.append(f"{self.step():04d} {who} {what}")

    def track(self, name, f):
        self.handles[name] = f
        self.names[f] = name
        f.add_done_callback(lambda f: self.log(name, "end " + outcome(f)))

    def failed_child(self, name, e):
        """" (from CHILD)" when a gather without return_exceptions failed with a child's error: asyncio
        raises the child's own exception object (a cancellation is a new one, so it is not named)."""
        children = self.children.get(name)
        if children is None or not isinstance(e, ScenarioError) or "child" not in self.sc.features:
            return ""
        for child in children:
            f = self.handles[child]
            if f.done() and not f.cancelled() and f.exception() is e:
                return f" (from {child})"
        return " (from ?)"

    def has_message(self, name):
        """Cancellation messages are compared for tasks and gathers, not for HTTP requests (a task in
        aiohttp_run.py, a request future in the library). A cancelled gather of asyncio 3.11 fails with
        the CancelledError of its first child that ended cancelled (without return_exceptions) or of
        its last child in input order: that child's message if it ended cancelled with one, and none
        otherwise (a gather, a child that returned); the library's gather follows the same rule."""
        return self.sc.tasks.get(name) is not None or name == "main" or name in self.gathers

    def timeout(self, word):
        return None if word == "none" else 0 if word == "0" else self.seconds_until(int(word))

    def spawn(self, name):
        body = self.sc.tasks[name] if name != "main" else self.sc.main
        self.track(name, asyncio.get_running_loop().create_task(self.body(body)))

    async def body(self, body):
        try:
            return await self.execute(body.name, body.stmts)
        except asyncio.CancelledError as e:
            if body.handler is None:
                raise
            # Without its message: in C a task cannot read the message of its own cancellation, which
            # main's await of the task shows anyway when the handler re-raises.
            self.log(body.name, "caught cancelled")
            return await self.execute(body.name, body.handler, e)

    async def execute(self, who, stmts, caught=None):
        main = who == "main"
        for words in stmts:
            op, args = words[0], words[1:]
            if op == "spawn":
                self.spawn(args[0])
            elif op == "sleep":
                await asyncio.sleep(self.seconds_until(int(args[0])))
            elif op == "return":
                return int(args[0])
            elif op == "fail":
                raise ScenarioError(args[0])
            elif op == "reraise":
                raise caught
            elif op == "cancel":
                ok = self.handles[args[0]].cancel(*args[1:2])
                self.log(who, f"cancel {args[0]} -> {'ok' if ok else 'done'}")
            elif op == "await":
                if not main:
                    await self.handles[args[0]]   # errors and cancellations propagate
                    continue
                try:
                    self.log(who, f"await {args[0]} -> result {render_value(await self.handles[args[0]])}")
                except (asyncio.CancelledError, ScenarioError, TimeoutError, BaseExceptionGroup) as e:
                    what = render_exception(e, self.msg and self.has_message(args[0]))
                    self.log(who, f"await {args[0]} -> {what}{self.failed_child(args[0], e)}")
            elif op == "gather":
                name, rex = args[0], args[1] == "rex"
                self.gathers.add(name)
                if not rex:
                    self.children[name] = args[2:]
                self.track(name, asyncio.gather(*(self.handles[h] for h in args[2:]), return_exceptions=rex))
            elif op == "wait":
                fs = [self.handles[h] for h in args[2:]]
                done, pending = await asyncio.wait(fs, timeout=self.timeout(args[1]), return_when=RETURN_WHEN[args[0]])
                names = lambda s: ",".join(sorted(self.names[f] for f in s)) or "-"  # noqa: E731
                self.log(who, f"wait -> done {names(done)} pending {names(pending)}")
            elif op == "as_completed":
                fs = [self.handles[h] for h in args[1:]]
                for next_one in asyncio.as_completed(fs, timeout=self.timeout(args[0])):
                    try:
                        what = "result " + render_value(await next_one)
                    except asyncio.TimeoutError:
                        what = "timeout"
                    except asyncio.CancelledError as e:
                        if asyncio.current_task().cancelling():
                            raise  # the task itself is cancelled, not the future handed out
                        what = render_exception(e, False)  # which future it was is not known here
                    except (ScenarioError, TimeoutError, BaseExceptionGroup) as e:
                        what = render_exception(e)
                    self.log(who, f"as_completed -> {what}")
            elif op == "group":
                # Main says how the group ended and goes on (a cancellation propagates, to the timeout
                # scope that caused it); in a task the group's error propagates.
                try:
                    async with asyncio.TaskGroup() as tg:
                        for member in args[2:]:
                            self.track(member, tg.create_task(self.body(self.sc.tasks[member])))
                        if int(args[1]):
                            await asyncio.sleep(self.seconds_until(int(args[1])))
                    if main:
                        self.log(who, f"group {args[0]} -> ok")
                except BaseExceptionGroup as e:
                    if not main:
                        raise
                    self.log(who, f"group {args[0]} -> {render_exception(e)}")
                except asyncio.CancelledError:
                    if main:
                        self.log(who, f"group {args[0]} -> cancelled")
                    raise
            elif op == "timeout":
                # The scope's statement runs as a body of its own; main says how the scope ended.
                try:
                    async with asyncio.timeout(self.seconds_until(int(args[0]))):
                        await self.execute(who, [args[1:], ["return", 0]])
                    if main:
                        self.log(who, "timeout -> ok")
                except TimeoutError:
                    if not main:
                        raise
                    self.log(who, "timeout -> timeout")
            elif op == "session":
                self.session = self.http.open_session(args)
            elif op == "get":
                self.track(args[0], asyncio.get_running_loop().create_task(self.http.get(self.session, args[1:])))
            elif op == "send":
                self.track(args[0], asyncio.get_running_loop().create_task(self.http.send(self.session, args)))
            else:
                raise ValueError(f"unknown statement {op}")
        raise ValueError(f"{who}: the body ended without return, fail or reraise")

    async def run(self):
        if self.http:
            await self.http.reset_stats()
        self.t0 = self.loop.time()
        self.spawn("main")
        # Then let everything spawned finish (asyncio.run would cancel it; the scenario waits instead).
        while pending := [f for f in self.handles.values() if not f.done()]:
            await asyncio.wait(pending)
        for _ in range(3):  # let the last done callbacks run
            await asyncio.sleep(0)
        if self.http:
            await self.http.finish(self)
        return self.trace


def block(sc, trace):
    return f"=== {sc.id}\n" + "".join(line + "\n" for line in sorted(trace))


# ---- virtual time -------------------------------------------------------------------------------

class VirtualLoop(asyncio.SelectorEventLoop):
    """asyncio's loop with a clock that jumps to the next timer; it also records every timer."""

    def __init__(self):
        super().__init__()
        self._now, self.timers, self.cancelled_at = 0.0, [], {}
        select = self._selector.select

        def jump(timeout=None):
            if timeout:
                self._now += timeout
            return select(0)
        self._selector.select = jump

    def time(self):
        return self._now

    def call_at(self, when, callback, *args, context=None):
        handle = super().call_at(when, callback, *args, context=context)
        if when > self._now:
            self.timers.append(handle)
        return handle

    def _timer_handle_cancelled(self, handle):
        # By id, since timer handles with the same deadline compare (and hash) equal; and only for the
        # recorded ones, which self.timers keeps alive, so that no other handle can reuse their id.
        if any(h is handle for h in self.timers):
            self.cancelled_at.setdefault(id(handle), self._now)
        super()._timer_handle_cancelled(handle)

    def ties(self):
        """Instants at which two timers were due together (both fired, or one was cancelled right then)."""
        # Rounded before they are compared: 0.3 + 0.3 and 0.6 are the same instant.
        due = [round(h.when(), 6) for h in self.timers if self.cancelled_at.get(id(h), h.when()) >= h.when()]
        return sorted({w for w in due if due.count(w) > 1})


def run_virtual(sc):
    """(trace, ties) of a scenario in virtual time, one unit = one virtual second."""
    loop = VirtualLoop()
    try:
        async def go():
            return await Run(sc, 1.0).run()
        trace = loop.run_until_complete(go())
        return trace, loop.ties()
    finally:
        loop.close()


# ---- real time ----------------------------------------------------------------------------------

def is_http(sc):
    return any(words[0] == "session" for words in sc.main.stmts)


async def run_real(scenarios, parallel, out):
    for i in range(0, len(scenarios), parallel):
        wave = scenarios[i:i + parallel]
        runs = [Run(sc, sc.unit_ms / 1000) for sc in wave]
        for slot, run in enumerate(runs):
            if is_http(run.sc):  # servers are started before the wave, not while others are timed
                import aiohttp_run
                run.http = aiohttp_run.Http(run.unit_s, slot)
        traces = await asyncio.gather(*(run.run() for run in runs))
        for sc, trace in zip(wave, traces):
            out.write(block(sc, trace))
        out.flush()


def main(argv):
    path = argv[1]
    scenarios = parse(open(path).read() if path != "-" else sys.stdin.read())
    if "--virtual" in argv:
        for sc in scenarios:
            trace, ties = run_virtual(sc)
            sys.stdout.write(block(sc, trace))
            if ties:
                sys.stdout.write(f"# timers due together at {ties}\n")
        return 0
    parallel = int(argv[argv.index("--parallel") + 1]) if "--parallel" in argv else 50
    try:
        asyncio.run(run_real(scenarios, parallel, sys.stdout))
    finally:
        if "aiohttp_run" in sys.modules:
            sys.modules["aiohttp_run"].stop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
