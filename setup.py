"""The build's one optional step: with REFUNDDESK_COMPILE=1 the policy engine's hot path
(reading order facts, assessing, the money arithmetic) is compiled to C with mypyc, which
doubles the assessments per second (docs/deploy.md, "A compiled policy engine").

Everything else is in pyproject.toml. Without the variable nothing is compiled: an editable
development install stays plain Python, so an edited module is never shadowed by a stale
compiled copy of itself.
"""

import os

from setuptools import setup

# The modules on the path of every assessment, pure Python checked by `mypy --strict`
# (mypyc compiles what mypy understands). The policy schema stays interpreted: it is
# pydantic's, and read once per published version.
COMPILED = [
    "src/refunddesk/policy/assessment.py",
    "src/refunddesk/policy/consumption.py",
    "src/refunddesk/policy/durations.py",
    "src/refunddesk/policy/engine.py",
    "src/refunddesk/policy/facts.py",
    "src/refunddesk/policy/facts_fields.py",
    "src/refunddesk/policy/facts_reading.py",
    "src/refunddesk/policy/money.py",
    "src/refunddesk/policy/prepared.py",
]


def compiled_modules() -> list:
    if os.environ.get("REFUNDDESK_COMPILE") != "1":
        return []
    from mypyc.build import mypycify

    # The project's mypy configuration loads the Django plugin, which a build environment
    # need not have; these modules need none of it. Libraries the build environment lacks
    # (pydantic, for the schema the engine is handed) are seen as Any, as interpreted
    # code would see them.
    return mypycify(["--config-file", os.devnull, "--ignore-missing-imports",
                     "--python-version", "3.11", *COMPILED], group_name="refunddesk_policy")


setup(ext_modules=compiled_modules())
