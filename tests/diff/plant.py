"""plant.py -- bugs planted in a copy of the library, to prove the differential tester can fail.

`tests/diff/run --self-test` builds the interpreter once per plant, with one library file copied
and edited, and runs a fixed set of scenarios: every plant must make some trace differ. The working
tree is never touched. An edit whose anchor text is gone (the library changed) is an
error that names this file, so the self-test cannot pass by planting nothing.
"""

import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# name -> (what it breaks, file, anchor text, replacement)
EDITS = {
    "gather-completion-order": (
        "gather returns its results in completion order instead of input order",
        "common/src/combine.c",
        "    g->remaining--;\n",
        "    g->remaining--;\n"
        "    { /* PLANTED: move the child that finished to the next slot of the result */\n"
        "        int k = 0, slot = g->n - g->remaining - 1;\n"
        "        while (g->children[k] != child)\n"
        "            k++;\n"
        "        g->children[k] = g->children[slot];\n"
        "        g->children[slot] = child;\n"
        "    }\n"),
    "wait-cancels-pending": (
        "wait with a timeout cancels the futures still pending when it returns",
        "common/src/combine.c",
        "            sets->pending[sets->n_pending++] = futures[i];\n",
        "            sets->pending[sets->n_pending++] = futures[i];\n"
        "        if (!cw_future_done(futures[i]) && timeout_ms != CW_NO_TIMEOUT) /* PLANTED */\n"
        "            cw_future_cancel(futures[i]);\n"),
    "group-keeps-running": (
        "a task group's first failure does not cancel the other tasks",
        "common/src/group.c",
        "    abort_tasks(g);\n    if (!g->exiting",
        "    /* PLANTED: the others keep running */\n    if (!g->exiting"),
    "timeout-stays-cancel": (
        "a timeout scope that expired reports the cancellation, not CW_ETIMEDOUT",
        "common/src/timeout.c",
        "        rc = CW_ETIMEDOUT;\n",
        "        rc = body_rc; /* PLANTED */\n"),
    "get-with-body-is-post": (
        "a GET with a body is sent as libcurl's POST",
        "common/src/http_request.c",
        '    bool named = strcmp(r->method, r->body ? "POST" : "GET") != 0;\n',
        '    bool named = strcmp(r->method, "GET") != 0; /* PLANTED */\n'),
    "redirect-drops-body": (
        "a PUT, PATCH, DELETE or GET with a body becomes a GET without it on a 301 or 302",
        "common/src/http_request.c",
        "    if ((status == 303 && !head) || ((status == 301 || status == 302) && post)) {\n",
        "    if ((status == 303 && !head) || status == 301 || status == 302) { /* PLANTED */\n"),
}
PLANTS = {name: edit[0] for name, edit in EDITS.items()}
# The scenario features a plant needs to be seen (the structured scenarios: run --structured; the
# HTTP scenarios: run --http).
NEEDS = {"group-keeps-running": "group", "timeout-stays-cancel": "scope",
         "get-with-body-is-post": "http", "redirect-drops-body": "http"}


def build(name, tmp, build_dir="build"):
    """Plant `name` in a copy of its file, compile that file alone, and link the interpreter with it
    before the library (so the library's own copy of that object is not used); return its path."""
    _, path, anchor, replacement = EDITS[name]
    text = open(os.path.join(ROOT, path)).read()
    if text.count(anchor) != 1:
        raise SystemExit(f"self-test: cannot plant '{name}': {path} no longer holds the text it edits "
                         f"(update tests/diff/plant.py)")
    source = os.path.join(tmp, os.path.basename(path))
    open(source, "w").write(text.replace(anchor, replacement))
    cc = os.environ.get("CC", "cc")
    pkg = lambda flag: subprocess.run(["pkg-config", flag, "libuv", "libcurl"],  # noqa: E731
                                      capture_output=True, text=True, check=True).stdout.split()
    obj, interp = source[:-2] + ".o", os.path.join(tmp, "interp")
    try:
        compile_and_link(cc, path, source, interp, obj, build_dir, pkg)
    except subprocess.CalledProcessError:
        raise SystemExit(f"self-test: '{name}' planted in {path} does not build (update tests/diff/plant.py)")
    return interp


def compile_and_link(cc, path, source, interp, obj, build_dir, pkg):
    subprocess.run([cc, "-std=c11", "-D_GNU_SOURCE", "-g", "-O1", "-I" + os.path.join(ROOT, "common/include"),
                    "-I" + os.path.join(ROOT, os.path.dirname(path)), *pkg("--cflags"), "-c", source, "-o", obj],
                   check=True)
    subprocess.run([cc, os.path.join(build_dir, "obj/tests/diff/interp.o"), obj, os.path.join(build_dir, "lib/libcwfixture.a"),
                    os.path.join(build_dir, "lib/libcw.a"), *pkg("--libs"), "-lhttp_parser", "-lpthread", "-o", interp], check=True)
