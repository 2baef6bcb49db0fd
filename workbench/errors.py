"""The one exception type for bad user input.

Everything a person can get wrong (a missing file, a misspelt column, a corrupt
artifact) raises :class:`InputError` with a message that names the file, row or
column and says what to do. The CLI turns it into exit code 2 and one line.
"""


class InputError(ValueError):
    """Bad input from the user: the message says what is wrong and how to fix it."""
