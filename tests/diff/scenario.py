"""scenario.py -- the scenario language shared by the generator, the asyncio runner and the C interpreter.

A scenario is plain text, one statement per line (see README.md for the whole language):

    scenario 7 seed=12:7 unit=50
    task t1
      sleep 3
      return 101
      on_cancel
      sleep 1
      reraise
    main
      spawn t1
      await t1
    end

This module only parses and prints that text; what a statement means is in asyncio_run.py (asyncio)
and interp.c (the C library), which must agree.
"""

from dataclasses import dataclass, field

# Every statement and how many arguments it takes at least (a few take a list after that).
STATEMENTS = {
    "spawn": 1,         # spawn NAME                       create_task(NAME's body)
    "sleep": 1,         # sleep UNITS                      await asyncio.sleep(UNITS * unit)
    "return": 1,        # return VALUE                     the body ends with an int result
    "fail": 1,          # fail KIND                        raise an error of kind E1, E2 or E3
    "reraise": 0,       # reraise                          (handler only) raise the caught CancelledError
    "cancel": 1,        # cancel H [MSG]                   H.cancel() or H.cancel(MSG); traced (main)
    "await": 1,         # await H                          traced in main (which catches), propagates elsewhere
    "gather": 2,        # gather G rex|norex H...          G = asyncio.gather(H..., return_exceptions=...)
    "wait": 2,          # wait all|first|exc none|UNITS H...   asyncio.wait(...); traced
    "as_completed": 1,  # as_completed none|UNITS H...     one traced line per item
    "session": 6,       # session LIMIT PER_HOST TOTAL CONNECT SOCK_CONNECT SOCK_READ   (main; see aiohttp_run.py)
    "get": 3,           # get R SERVER PATH [TOTAL CONNECT SOCK_CONNECT SOCK_READ]      a request, like a task
    "send": 5,          # send R SERVER METHOD BODY PATH   a request whose value is what /anything saw
    "group": 2,         # group G UNITS T...               async with TaskGroup(): create_task(T)...; sleep UNITS
    "timeout": 2,       # timeout UNITS STATEMENT          async with asyncio.timeout(UNITS): STATEMENT
}
ERROR_KINDS = ("E1", "E2", "E3")


@dataclass
class Body:
    name: str
    stmts: list = field(default_factory=list)    # lists of words
    handler: list = None                         # the on_cancel block, or None


@dataclass
class Scenario:
    id: int
    seed: str
    unit_ms: int
    features: tuple = ()                         # optional parts of the language both runners support
    tasks: dict = field(default_factory=dict)    # name -> Body
    main: Body = None

    def text(self):
        lines = [f"scenario {self.id} seed={self.seed} unit={self.unit_ms} features={','.join(self.features) or '-'}"]
        for body in list(self.tasks.values()) + [self.main]:
            lines.append("main" if body is self.main else f"task {body.name}")
            lines += ["  " + " ".join(map(str, s)) for s in body.stmts]
            if body.handler is not None:
                lines.append("  on_cancel")
                lines += ["  " + " ".join(map(str, s)) for s in body.handler]
        lines.append("end")
        return "\n".join(lines) + "\n"


def parse(text):
    """Parse every scenario of a text; raises ValueError with the line number on bad input."""
    scenarios, sc, body, in_handler = [], None, None, False
    for number, raw in enumerate(text.splitlines(), 1):
        words = raw.split()
        if not words or words[0].startswith("#"):
            continue
        head = words[0]
        try:
            if head == "scenario":
                opts = dict(w.split("=", 1) for w in words[2:])
                sc = Scenario(int(words[1]), opts.get("seed", "?"), int(opts.get("unit", 50)),
                              tuple(f for f in opts.get("features", "-").split(",") if f != "-"))
            elif head == "task":
                body, in_handler = Body(words[1]), False
                sc.tasks[body.name] = body
            elif head == "main":
                body, in_handler = Body("main"), False
                sc.main = body
            elif head == "on_cancel":
                body.handler, in_handler = [], True
            elif head == "end":
                if sc.main is None:
                    raise ValueError("no main")
                scenarios.append(sc)
                sc = body = None
            elif head in STATEMENTS:
                if len(words) - 1 < STATEMENTS[head]:
                    raise ValueError(f"{head} needs {STATEMENTS[head]} argument(s)")
                (body.handler if in_handler else body.stmts).append(words)
            else:
                raise ValueError(f"unknown statement {head!r}")
        except (ValueError, IndexError, AttributeError) as e:
            raise ValueError(f"line {number}: {raw.strip()!r}: {e}") from None
    return scenarios
