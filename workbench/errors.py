"""The one exception type for bad user input, and the one way to show any error in a line.

Everything a person can get wrong (a missing file, a misspelt column, a corrupt
artifact) raises :class:`InputError` with a message that names the file, row or
column and says what to do. The CLI turns it into exit code 2 and one line; the panels
show any exception in the words of :func:`describe_error`.
"""


class InputError(ValueError):
    """Bad input from the user: the message says what is wrong and how to fix it."""


def describe_error(exc: BaseException, *, with_type: bool = False) -> str:
    """``exc`` as one readable line. An :class:`InputError` says what to do, so its message
    stands alone unless ``with_type``; anything else is named by its type, since "list
    index out of range" alone does not say what went wrong."""
    message = " ".join(str(exc).split())
    if isinstance(exc, InputError) and not with_type:
        return message or type(exc).__name__
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__
