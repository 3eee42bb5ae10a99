"""The preset policies shipped with RefundDesk, one TOML file each.

The one place in `policy/` that reads files: its own package resources, never the
merchant's data. Everything else in the package is computation on values passed in.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from refunddesk.policy.schema import Policy, PolicyError, policy_from_toml

PRESETS_DIR = Path(__file__).parent


@cache
def preset_ids() -> tuple[str, ...]:
    # Files of the installed package: they change only with a new release (and a restart),
    # and every assessment asks.
    return tuple(sorted(path.stem for path in PRESETS_DIR.glob("*.toml")))


@cache
def load_preset(preset_id: str) -> Policy:
    path = PRESETS_DIR / f"{preset_id}.toml"
    if not path.is_file():
        raise PolicyError([f"{preset_id}: no such preset (there are: "
                           f"{', '.join(preset_ids())})"])
    return _load(path)


def load_policy(id_or_path: str) -> Policy:
    """A preset by id ("tencent-cloud") or a policy file by path."""
    if (PRESETS_DIR / f"{id_or_path}.toml").is_file():
        return load_preset(id_or_path)
    path = Path(id_or_path)
    if not path.is_file():
        raise PolicyError([f"{id_or_path}: neither a preset ({', '.join(preset_ids())}) "
                           "nor a policy file"])
    return _load(path)


def _load(path: Path) -> Policy:
    try:
        return policy_from_toml(path.read_text(encoding="utf-8"))
    except PolicyError as error:
        raise PolicyError([f"{path.name}: {problem}" for problem in error.problems]) from None
