"""The exception tree: one root, user errors apart from bugs, no bare ValueError raised."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest
import typer

from dpshowcase import errors
from dpshowcase.cli._output import EXIT_USER_ERROR, user_errors
from dpshowcase.errors import (
    DpShowcaseError,
    GuaranteeError,
    InputError,
    InternalError,
    ParameterError,
    SchemaError,
    UserError,
)

SRC = Path(__file__).resolve().parents[2] / "src" / "dpshowcase"
BUILTIN_ERRORS = {"ValueError", "RuntimeError", "KeyError", "Exception"}
"""Raised by dpshowcase only as its own errors. TypeError stays Python's: a call with an
object of the wrong type (a private value built by hand) is a programming mistake."""


def _error_classes() -> list[type[BaseException]]:
    return [
        obj
        for _, obj in inspect.getmembers(errors, inspect.isclass)
        if issubclass(obj, BaseException) and obj.__module__ == errors.__name__
    ]


def _raised_names() -> list[tuple[str, str]]:
    """(file:line, name) of every ``raise Name(...)``/``raise Name`` under src/."""
    found = []
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Raise) and node.exc is not None:
                target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
                if isinstance(target, ast.Name):
                    found.append((f"{path.relative_to(SRC)}:{node.lineno}", target.id))
    return found


def test_one_tree():
    for cls in _error_classes():
        assert issubclass(cls, DpShowcaseError), cls


@pytest.mark.parametrize("cls", [InputError, SchemaError, ParameterError])
def test_user_errors_are_value_errors_and_not_bugs(cls):
    assert issubclass(cls, UserError)
    assert issubclass(cls, ValueError)
    assert not issubclass(cls, InternalError)


def test_a_failed_guarantee_is_a_bug_not_a_user_error():
    assert issubclass(GuaranteeError, InternalError)
    assert issubclass(GuaranteeError, RuntimeError)
    assert not issubclass(GuaranteeError, UserError)
    assert not issubclass(GuaranteeError, ValueError)


def test_the_module_docstring_draws_every_class():
    for cls in _error_classes():
        assert cls.__name__ in (errors.__doc__ or ""), cls


def test_every_error_class_is_raised_somewhere():
    raised = {name for _, name in _raised_names()}
    bases = {DpShowcaseError, UserError}  # caught, never raised themselves
    unused = [c.__name__ for c in _error_classes() if c not in bases and c.__name__ not in raised]
    assert not unused, f"exceptions never raised: {unused}; remove them from errors.py"


def test_the_library_raises_no_bare_value_or_runtime_errors():
    bare = [where for where, name in _raised_names() if name in BUILTIN_ERRORS]
    assert not bare, f"raise a dpshowcase error instead of a builtin one at {bare}"


def test_the_command_line_prints_user_errors_and_lets_bugs_surface():
    with pytest.raises(typer.Exit) as exit_info, user_errors():
        raise ParameterError("epsilon must be positive; pass --epsilon 4.")
    assert exit_info.value.exit_code == EXIT_USER_ERROR
    with pytest.raises(GuaranteeError), user_errors():
        raise GuaranteeError("a combination describes fewer than k records")
