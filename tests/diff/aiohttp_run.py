"""aiohttp_run.py -- the HTTP statements of a scenario, on aiohttp 3.8 against fixture servers.

asyncio_run.py uses this for scenarios that open a session:

    session LIMIT PER_HOST TOTAL CONNECT SOCK_CONNECT SOCK_READ
        aiohttp.ClientSession(connector=TCPConnector(limit=LIMIT, limit_per_host=PER_HOST),
                              timeout=ClientTimeout(total=..., connect=..., sock_connect=..., sock_read=...))
    get R SERVER PATH [TOTAL CONNECT SOCK_CONNECT SOCK_READ]
        R = a task fetching the URL (status and body); the four timeouts, when given, replace the
        session's as a whole (ClientTimeout(...) passed to get()), as cw_request.timeouts does.
    send R SERVER METHOD BODY PATH
        R = a task doing session.request(METHOD, URL, data=BODY) (BODY "-": none); PATH is
        "anything" or "redirect:CODE" (which redirects to /anything). Its value is
        "STATUS:METHOD:DATA", what /anything saw after any redirect ("STATUS:-:-" for a HEAD).

Timeouts are in steps ("2.5"), "-" for none. SERVER is "a" or "b" (two fixture servers, so two
hosts for limit_per_host) or "hole" (a loopback port whose connects never complete). PATH is "get",
"stall" or "delay:U" (/delay/ with U steps). Every timeout is given explicitly, so the sides'
different defaults (aiohttp 3.8: total=300 only; the library: also sock_connect=30) never matter.
"""

import asyncio
import json
import os
import socket
import subprocess
import urllib.request

import aiohttp

from asyncio_run import ScenarioError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def start_fixture():
    server = os.environ.get("CW_FIXTURE_SERVER", os.path.join(ROOT, "build/bin/fixture_server"))
    p = subprocess.Popen([server, "--port", "0"], stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline()  # "fixture server listening on http://127.0.0.1:PORT"
    if "127.0.0.1:" not in line:
        p.kill()
        raise RuntimeError(f"{server} did not start: {line!r}")
    return p, int(line.rsplit(":", 1)[1])


def open_blackhole():
    """A listener that never accepts, its accept queue (backlog 0) filled: connects to it hang,
    as blackhole.c does for the library's side."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    fillers = []
    for _ in range(32):
        s = socket.socket()
        s.settimeout(0.3)
        try:
            s.connect(listener.getsockname())
            fillers.append(s)
        except OSError:  # the queue is full: this connect hangs
            s.close()
            return listener, fillers
    raise RuntimeError("could not fill the blackhole's accept queue")


def seconds(word, unit_s):
    return None if word == "-" else float(word) * unit_s


def timeout_kind(e):
    """The kind of a timeout, from what aiohttp 3.8 raises. aiohttp raises the same
    ServerTimeoutError("Connection timeout to host ...") for connect and sock_connect, so both are
    "connect" here, and interp.c reports the library's sock_connect timeouts as "connect" too."""
    if isinstance(e, aiohttp.ServerTimeoutError):
        return "sock_read" if "reading" in str(e) else "connect"
    return "total"  # a bare asyncio.TimeoutError: the total deadline of the request


SLOTS = []        # two fixture servers for each HTTP scenario of a wave, started once and reused
BLACKHOLE = []   # one listener (and its fillers) for every scenario: a connect there never completes


class Http:
    def __init__(self, unit_s, slot):
        self.unit_s = unit_s
        while len(SLOTS) <= slot:
            SLOTS.append(dict(zip("ab", (start_fixture(), start_fixture()))))
        if not BLACKHOLE:
            BLACKHOLE.extend(open_blackhole())
        self.servers, self.hole = SLOTS[slot], BLACKHOLE[0]
        self.session, self.pooled = None, False

    # The most connections open at once are reported for scenarios with a limit only: those queue
    # requests and reuse connections, and a connection closes only when all is over. Elsewhere a
    # timeout closes a connection at any moment, perhaps as another opens, and which the server
    # sees first is a coin toss.

    def url(self, server, path):
        if server == "hole":
            return f"http://127.0.0.1:{self.hole.getsockname()[1]}/get"
        path = f"/delay/{round(float(path[6:]) * self.unit_s * 1000)}" if path.startswith("delay:") else "/" + path
        return f"http://127.0.0.1:{self.servers[server][1]}{path}"

    def timeouts(self, words):
        total, connect, sock_connect, sock_read = (seconds(w, self.unit_s) for w in words)
        return aiohttp.ClientTimeout(total=total, connect=connect, sock_connect=sock_connect, sock_read=sock_read)

    def open_session(self, args):
        limit, per_host = int(args[0]), int(args[1])
        self.pooled = limit > 0 or per_host > 0
        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=limit, limit_per_host=per_host),
                                             timeout=self.timeouts(args[2:6]))
        return self.session

    async def get(self, session, args):
        extra = {"timeout": self.timeouts(args[2:6])} if len(args) >= 6 else {}
        try:
            async with session.get(self.url(args[0], args[1]), **extra) as response:
                await response.read()
                return response.status
        except asyncio.TimeoutError as e:
            raise ScenarioError("timeout:" + timeout_kind(e)) from None
        except aiohttp.ClientError as e:
            raise ScenarioError(type(e).__name__) from None

    async def send(self, session, args):
        server, method, body, path = args[1:5]
        path = "redirect/" + path[9:] if path.startswith("redirect:") else path
        data = None if body == "-" else body.encode()
        try:
            async with session.request(method, f"http://127.0.0.1:{self.servers[server][1]}/{path}", data=data) as response:
                text = await response.text()
                seen = json.loads(text) if text else {"method": "-", "data": "-"}
                return f"{response.status}:{seen['method']}:{seen['data']}"
        except asyncio.TimeoutError as e:
            raise ScenarioError("timeout:" + timeout_kind(e)) from None
        except aiohttp.ClientError as e:
            raise ScenarioError(type(e).__name__) from None

    def stats(self, server, reset=False):
        port = self.servers[server][1]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats{'/reset' if reset else ''}", timeout=10) as r:
            return r.read()

    async def reset_stats(self):
        for server in self.servers:
            await asyncio.to_thread(self.stats, server, True)

    async def finish(self, run):
        if self.session:
            await self.session.close()
        await asyncio.sleep(self.unit_s)  # the servers see the connections close
        if not self.pooled:  # see stats_matter()
            return
        for server in self.servers:
            max_open = json.loads(await asyncio.to_thread(self.stats, server))["max_open"]
            # /stats counts the connection asking, and /stats/reset its own: 1 tells nothing.
            run.trace.append(f"---- stats {server} max_open={max_open if max_open > 1 else '0-1'}")



def stop_all():
    for servers in SLOTS:
        for p, _ in servers.values():
            p.terminate()
            p.wait()
    for s in BLACKHOLE[1]:
        s.close()
    BLACKHOLE[0].close()
