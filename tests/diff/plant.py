"""plant.py -- bugs planted in a copy of the library, to prove the differential tester can fail.

`tests/diff/run --self-test` builds the interpreter once per plant, against a copy of common/ with
one small edit, and runs a fixed set of scenarios: every plant must make some trace differ. The
working tree is never touched. An edit whose anchor text is gone (the library changed) is an
error that names this file, so the self-test cannot pass by planting nothing.
"""

import os
import shutil
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
        "        if (!cw_future_done(futures[i]) && timer) /* PLANTED */\n"
        "            cw_future_cancel(futures[i]);\n"),
}
PLANTS = {name: edit[0] for name, edit in EDITS.items()}


def build(name, tmp):
    """Copy the sources into tmp, plant `name`, build the interpreter there; return its path."""
    _, path, anchor, replacement = EDITS[name]
    for part in ("Makefile", "common", "tests/diff", "tools/check_deps"):
        src, dst = os.path.join(ROOT, part), os.path.join(tmp, part)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        (shutil.copytree if os.path.isdir(src) else shutil.copy2)(src, dst)
    target = os.path.join(tmp, path)
    text = open(target).read()
    if text.count(anchor) != 1:
        raise SystemExit(f"self-test: cannot plant '{name}': {path} no longer holds the text it edits "
                         f"(update tests/diff/plant.py)")
    open(target, "w").write(text.replace(anchor, replacement))
    # -O0: the copy is built once and thrown away, so compile fast.
    subprocess.run(["make", "-s", "-C", tmp, "-j2", "CFLAGS=-g -O0", "BUILD=build", "build/tests/diff/interp"],
                   check=True)
    return os.path.join(tmp, "build/tests/diff/interp")
