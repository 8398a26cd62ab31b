"""The notebook stack (nbformat, papermill), imported without a two-second detour.

jsonschema, which nbformat imports, registers a format checker for each optional package it finds.
rfc3987-syntax (installed with jupyter-events' ``jsonschema[format-nongpl]``) builds its URI grammar
when imported: 2.0 s here, for "iri" format checks nbformat never makes. It is hidden only while
jsonschema imports, and put back at once, so the rest of the process can still import it.
"""
from __future__ import annotations

import sys


def _import_jsonschema() -> None:
    hide = "rfc3987_syntax" not in sys.modules
    if hide:
        sys.modules["rfc3987_syntax"] = None  # an import of it raises ImportError: jsonschema skips the checker
    try:
        import jsonschema  # noqa: F401  (imported for its side effect: its format checkers are chosen now)
    finally:
        if hide:
            del sys.modules["rfc3987_syntax"]


_import_jsonschema()

import nbformat  # noqa: E402
import papermill  # noqa: E402

__all__ = ["nbformat", "papermill"]
