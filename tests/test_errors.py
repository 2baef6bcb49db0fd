"""Tests for workbench.errors: one readable line for any exception."""

from __future__ import annotations

import pytest

from workbench.errors import InputError, describe_error


def test_an_input_error_stands_alone_unless_the_type_is_asked_for():
    exc = InputError("data.csv: no column 'text';\n  use --text-col")
    assert describe_error(exc) == "data.csv: no column 'text'; use --text-col"
    assert describe_error(exc, with_type=True) == (
        "InputError: data.csv: no column 'text'; use --text-col"
    )


@pytest.mark.parametrize("with_type", [False, True])
def test_any_other_error_is_named_by_its_type(with_type):
    exc = IndexError("list index out of range")
    assert describe_error(exc, with_type=with_type) == "IndexError: list index out of range"


@pytest.mark.parametrize("exc", [InputError(""), KeyError()])
@pytest.mark.parametrize("with_type", [False, True])
def test_an_error_without_a_message_is_its_type(exc, with_type):
    assert describe_error(exc, with_type=with_type) == type(exc).__name__
