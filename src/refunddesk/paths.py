"""Where RefundDesk keeps its files: the var/ directory (database, secret key, uploads)."""

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
_SOURCE_ROOT = PACKAGE_DIR.parents[1]


def default_var_dir() -> Path:
    # A source checkout keeps var/ beside pyproject.toml so `make run` finds the same
    # database whatever directory a command is typed in; an installed package uses the
    # current directory unless REFUNDDESK_VAR_DIR says otherwise.
    if (_SOURCE_ROOT / "pyproject.toml").exists():
        return _SOURCE_ROOT / "var"
    return Path.cwd() / "var"


VAR_DIR = Path(os.environ.get("REFUNDDESK_VAR_DIR") or default_var_dir()).resolve()
