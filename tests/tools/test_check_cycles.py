#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
#
# scripts/check-cycles on tiny fake trees: each case writes a user/ of a few
# modules, compiles them with cc into build/user, runs the script and checks
# its exit status and what it names. Run by `make check`.

import os
import subprocess
import sys
import tempfile
import unittest

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "check-cycles")
CC = os.environ.get("CC", "cc")


def tree(files, allow=None):
    """A temporary tree: files {path: text}; every .c compiled into build/."""
    root = tempfile.TemporaryDirectory(prefix="check-cycles-")
    for path, text in files.items():
        full = os.path.join(root.name, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as fh:
            fh.write(text)
    for path in files:
        if path.endswith(".c"):
            obj = os.path.join(root.name, "build", path[:-2] + ".o")
            os.makedirs(os.path.dirname(obj), exist_ok=True)
            subprocess.run([CC, "-c", "-I", os.path.join(root.name, "user/lib"), "-I",
                            os.path.join(root.name, "user/satpd"), os.path.join(root.name, path),
                            "-o", obj], check=True)
    os.makedirs(os.path.join(root.name, "scripts"), exist_ok=True)
    if allow is not None:
        with open(os.path.join(root.name, "scripts/check-cycles.allow"), "w") as fh:
            fh.write(allow)
    return root


def run(root):
    p = subprocess.run([sys.executable, SCRIPT, "--root", root.name], capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


# b calls c, c calls nothing: the base every case changes one thing of.
BASE = {
    "user/lib/a.h": "int a(void);\n",
    "user/lib/a.c": '#include "a.h"\nint a(void) { return 1; }\n',
    "user/satpd/b.h": "int b(void);\n",
    "user/satpd/b.c": '#include "b.h"\n#include "c.h"\n#include "a.h"\nint b(void) { return c() + a(); }\n',
    "user/satpd/c.h": "int c(void);\n",
    "user/satpd/c.c": '#include "c.h"\nint c(void) { return 2; }\n',
}
# c calls b back, without including b.h: a call cycle only.
CALL_BACK = dict(BASE, **{"user/satpd/c.c": "int b(void);\nint c(void) { return b(); }\n"})
# c.h includes b.h: an include cycle only (b.c includes c.h).
INCLUDE_BACK = dict(BASE, **{"user/satpd/c.h": '#include "b.h"\nint c(void);\n'})


class CheckCycles(unittest.TestCase):
    def tree(self, files, allow=None):
        t = tree(files, allow)
        self.addCleanup(t.cleanup)
        return t

    def test_no_cycle_passes(self):
        t = self.tree(BASE)
        rc, out = run(t)
        self.assertEqual(rc, 0, out)
        self.assertIn("no cycle", out)

    def test_call_cycle_names_edges_and_symbols(self):
        rc, out = run(self.tree(CALL_BACK))
        self.assertEqual(rc, 1, out)
        self.assertIn("cycle between 2 modules: user/satpd/b user/satpd/c", out)
        self.assertIn("call    user/satpd/b -> user/satpd/c: c", out)
        self.assertIn("call    user/satpd/c -> user/satpd/b: b", out)

    def test_include_cycle_names_file_and_line(self):
        rc, out = run(self.tree(INCLUDE_BACK))
        self.assertEqual(rc, 1, out)
        self.assertIn("include user/satpd/c -> user/satpd/b: user/satpd/c.h:1", out)
        self.assertIn("include user/satpd/b -> user/satpd/c: user/satpd/b.c:2", out)

    def test_allowed_edge_breaks_the_cycle(self):
        allow = "call user/satpd/c -> user/satpd/b  # a debt, paid later\n"
        rc, out = run(self.tree(CALL_BACK, allow))
        self.assertEqual(rc, 0, out)

    def test_allowing_the_other_edge_of_the_cycle_also_passes(self):
        allow = ("call user/satpd/b -> user/satpd/c  # a debt\n"
                 "include user/satpd/b -> user/satpd/c  # the same\n")
        rc, out = run(self.tree(CALL_BACK, allow))
        self.assertEqual(rc, 0, out)

    def test_stale_allow_line_fails(self):
        allow = "call user/satpd/c -> user/satpd/b  # paid already\n"
        rc, out = run(self.tree(BASE, allow))
        self.assertEqual(rc, 1, out)
        self.assertIn("no longer exists", out)

    def test_allow_line_without_reason_is_refused(self):
        rc, out = run(self.tree(CALL_BACK, "call user/satpd/c -> user/satpd/b\n"))
        self.assertEqual(rc, 1, out)
        self.assertIn("needs a reason", out)

    def test_lib_calling_up_into_the_daemon_fails(self):
        files = dict(BASE, **{"user/lib/a.c": "int c(void);\nint a(void) { return c(); }\n"})
        rc, out = run(self.tree(files))
        self.assertEqual(rc, 1, out)
        self.assertIn("layer: call user/lib/a -> user/satpd/c (c)", out)

    def test_cycle_across_directories_counts(self):
        files = dict(BASE, **{"user/lib/a.c": "int b(void);\nint a(void) { return b(); }\n"})
        rc, out = run(self.tree(files))
        self.assertEqual(rc, 1, out)
        self.assertIn("cycle between 2 modules: user/lib/a user/satpd/b", out)

    def test_include_outside_the_include_path_is_found_by_name(self):
        files = dict(BASE, **{"user/satp/x.c": '#include "c.h"\nint x(void) { return 0; }\n'})
        rc, out = run(self.tree(files))
        self.assertEqual(rc, 1, out)
        self.assertIn("layer: include user/satp/x -> user/satpd/c (user/satp/x.c:1)", out)

    def test_object_of_a_removed_source_is_ignored(self):
        t = self.tree(CALL_BACK)
        os.rename(os.path.join(t.name, "user/satpd/c.c"), os.path.join(t.name, "user/satpd/d.c"))
        rc, out = run(t)
        self.assertEqual(rc, 0, out)

    def test_no_objects_is_an_error(self):
        t = self.tree({"user/satpd/x.h": "int x;\n"})
        rc, out = run(t)
        self.assertEqual(rc, 1, out)
        self.assertIn("build first", out)


if __name__ == "__main__":
    unittest.main()
