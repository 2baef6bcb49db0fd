"""Public names a package imports on first use (PEP 562), so that ``import workbench`` and
every ``--help`` of the CLI start without torch, scikit-learn, shap or plotly."""

from __future__ import annotations

import importlib
from typing import Any


def lazy_attribute(package: str, sources: dict[str, str], name: str) -> Any:
    """``name`` imported from the module of ``package`` that ``sources`` names for it, else
    the submodule ``package.name`` (as when the package imported all of them); an
    ``AttributeError`` for anything else, as for a missing attribute."""
    if name in sources:
        return getattr(importlib.import_module(f"{package}.{sources[name]}"), name)
    try:
        return importlib.import_module(f"{package}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"{package}.{name}":
            raise  # the submodule exists but something it imports does not
        raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
