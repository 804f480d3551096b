"""Parses Swift files with tree-sitter's Swift grammar (PyPI tree-sitter-swift); exits 1 on
any syntax error. Used by scripts/check-swift.

The grammar does not model conditional compilation around attributes: uniffi wraps
declarations in ``#if swift(>=5.8)`` / ``@_documentation(visibility: private)`` / ``#endif``.
Exactly those lines are left out before parsing. Nor does it read the empty tuple ``()`` as an
expression, which uniffi writes for the return of a callback method without a result
(``let writeReturn = { () }``, a closure returning ``Void``): exactly that line is parsed as the
same closure spelled ``{ () -> () in }``. Everything else is parsed as written. A copy with one
keyword broken must fail, or the check itself is broken.
"""

from __future__ import annotations

import re
import sys

import tree_sitter_swift
from tree_sitter import Language, Parser

PARSER = Parser(Language(tree_sitter_swift.language()))
SKIP = re.compile(rb"^\s*(#if swift\(>=5\.8\)|@_documentation\(visibility: private\)|#endif)\s*$")
VOID_RETURN = re.compile(rb"^(\s*let writeReturn = )\{ \(\) \}\s*$")


def errors(source: bytes) -> list[tuple[int, bytes]]:
    lines = source.split(b"\n")
    kept = [
        b"" if SKIP.match(line) else VOID_RETURN.sub(rb"\1{ () -> () in }", line) for line in lines
    ]
    tree = PARSER.parse(b"\n".join(kept))
    found: list[tuple[int, bytes]] = []

    def walk(node) -> None:
        if node.type == "ERROR" or node.is_missing:
            row = node.start_point[0]
            found.append((row + 1, lines[row] if row < len(lines) else b""))
            return
        for child in node.children:
            walk(child)

    walk(tree.root_node)
    return found


def main(paths: list[str]) -> int:
    status = 0
    for path in paths:
        source = open(path, "rb").read()
        found = errors(source)
        if found:
            status = 1
            print(f"swift: {path}: {len(found)} syntax errors", file=sys.stderr)
            for row, line in found[:10]:
                print(f"  line {row}: {line.decode(errors='replace').strip()}", file=sys.stderr)
            continue
        broken = source.replace(b"func ", b"fnuc ", 1)
        if broken != source and not errors(broken):
            print(f"swift: {path}: a broken copy parses too; the check proves nothing", file=sys.stderr)
            return 1
        lines = source.count(b"\n")
        print(f"swift: {path} parses ({lines} lines)")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
