"""The shape of the code, read from the source with `ast` (nothing is imported to check it):

- no import cycles between the modules of src/refunddesk;
- imports go down the layers of DESIGN.md's flow (channels → actions → cases, billing,
  policy), never up, and never from one channel into another;
- no private API: Django's private attributes, allauth's `internal` packages, or another
  package's private `_module` or `_name`.

What counts as an import: every `import` and `from … import` statement anywhere in a
module: at the top, inside a function, and under `if TYPE_CHECKING:`. A cycle hidden in a
function is still a cycle (it breaks the day the function runs first, and neither module
can be understood without the other), and a type a module names is a thing it knows about.
`from package import name` imports the module `package.name` when there is one, else
`package`. The parent packages Python runs on the way (`a/__init__.py` for `a.b`) are not
counted: a package that gathers its modules (cases/actions/__init__.py) would otherwise be
in a cycle with each of them.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import refunddesk

ROOT = Path(refunddesk.__file__).parent
PACKAGE = "refunddesk"


# -- the layers ---------------------------------------------------------------------------------

# Lowest first. A module may import modules of its own layer's part of the code and of any
# layer below; importing upward fails. Within a layer, one app may import another only
# where SIDEWAYS allows it.
LAYERS = (
    "rules", "base", "frame", "billing", "reference", "cases", "services", "actions",
    "applying", "channels", "entry points",
)

# Where each part of src/refunddesk sits: a dotted name under `refunddesk` (an app, or a
# module of it that sits elsewhere than its app) → (layer, why). The longest name that
# holds a module decides; NAMED_PLACES below come first.
PLACES: dict[str, tuple[str, str]] = {
    "policy": ("rules", "the money rules: pure Python, no Django, no I/O, no clock "
                        "(DESIGN rule 1); it imports nothing of RefundDesk but itself"),
    "": ("base", "the package itself"),
    "paths": ("base", "where files live; settings reads it"),
    "settings": ("base", "Django's settings: read by everything, import nothing of ours "
                         "but paths"),
    "core": ("frame", "the site's frame: users, staff roles, middleware, rate limits, "
                      "TOTP, the read-only administration; what every app stands on"),
    "billing": ("billing", "the mirror of the merchant's billing system; cases point at "
                           "its orders and lines"),
    "calendars.models": ("reference", "the business calendars an admin keeps; SLA clocks "
                                      "(cases/sla.py) count in them"),
    "calendars.reading": ("reference", "the combined calendar the business-day arithmetic "
                                       "reads, for cases/sla.py"),
    "policies.models": ("reference", "published refund policy versions, which every case "
                                     "names"),
    "policies.store": ("reference", "a case's policy by its reference, read by the SLA "
                                    "clocks and the assessment"),
    "cases": ("cases", "the case and its audit: models, states, events, actors, "
                       "permissions, SLA clocks, assessment, presentation of a quote"),
    "payouts": ("services", "money going back: payouts, gateways, planning; actions enqueue "
                            "them (DESIGN: the flow)"),
    "notifications": ("services", "e-mail and webhooks from an outbox that actions write "
                                  "to"),
    "inbox": ("services", "staff notices (in the console and by e-mail), told by actions; "
                          "the console shows them, so it is not a channel itself"),
    "recourse": ("services", "where a customer may turn after a final no; the case page, "
                             "/track and the closing e-mail show it"),
    "replies": ("services", "canned replies staff insert into messages"),
    "reports": ("services", "dashboards and exports over cases and payouts"),
    "policies": ("services", "refund policy versions: editing, comparing, the lab, "
                             "publishing"),
    "calendars": ("services", "keeping the business calendars (the console's page)"),
    "intake.models": ("services", "inbound mail as records: the outbox's automatic replies "
                                  "point at them"),
    "compensation": ("actions", "a mass compensation run opens cases through "
                                "cases/actions"),
    "intake": ("actions", "inbound mail turned into cases through cases/actions, and the "
                          "staff's triage of the rest (the console's mail page). The door "
                          "itself is entry points: the periodic IMAP poll and the MTA "
                          "pipe command"),
    "cases.actions": ("actions", "every change of a case: one function each (DESIGN rule 2); "
                                 "they enqueue payouts and notifications (DESIGN: the flow)"),
    "payouts.actions": ("actions", "finance's changes of payouts, and the cases they move"),
    "billing.actions": ("actions", "changes of billing records on a person's behalf "
                                   "(auto-renewal off, a refunded service ended), audited "
                                   "with their actor"),
    "cases.sweeping": ("actions", "the deadline sweep runs case actions"),
    "cases.service_end": ("actions", "approving a refund ends a service: billing's action "
                                     "and the customer's e-mail"),
    "payouts.runner": ("actions", "the worker paying payouts, then settling cases"),
    "payouts.notices": ("actions", "a gateway's notice settles payouts and cases"),
    "core.role_changes": ("actions", "changing a staff member's roles: audited, and the "
                                     "admins e-mailed"),
    "api.models": ("actions", "API keys as records; the console's key page manages them"),
    "api.keys": ("actions", "making and revoking API keys, from the API and the console"),
    "api.permissions": ("actions", "who may manage API keys"),
    "applying": ("applying", "the refund application the customer's portal and the "
                             "agent's assisted application share, below both"),
    "portal": ("channels", "the customers' web pages"),
    "console": ("channels", "the staff's web pages"),
    "api": ("channels", "the REST API"),
    "payouts.views": ("channels", "the gateways' webhooks: providers call in here"),
    "payouts.urls": ("channels", "the addresses of the gateways' webhooks"),
    "urls": ("entry points", "the site's addresses: every channel"),
    "wsgi": ("entry points", "the web server's entry"),
    "cli": ("entry points", "the `refunddesk` command"),
    "core.periodic": ("entry points", "the worker's clock: runs every app's sweeps"),
}

# Places by a module's own name, wherever it is.
NAMED_PLACES: dict[str, tuple[str, str]] = {
    "admin": ("channels", "Django's administration (/admin/) is staff web pages"),
    "management.commands": ("entry points", "the `refunddesk` commands"),
    "demo*": ("entry points", "the demo's data, made by the `demo` command"),
}

# Imports between two apps of one layer: (importer, imported) → why. Nothing else sideways:
# in particular, channels never import each other (what two share lives below them). The
# entry points, at the top, use one another freely (the demo command runs every app's demo).
SIDEWAYS: dict[tuple[str, str], str] = {
    ("inbox", "notifications"): "a notice is also e-mailed, through the outbox",
    ("notifications", "inbox"): "the staff's e-mail says what their notice says",
    ("inbox", "payouts"): "a notice can be about a payout (one that failed, for finance)",
    ("notifications", "payouts"): "the paid e-mail lists the payouts; webhooks carry them",
    ("notifications", "recourse"): "the final no's e-mail says where to turn",
    ("notifications", "intake"): "the automatic reply answers an inbound mail (its record)",
    ("policies", "inbox"): "a published version is told to the staff",
    ("reports", "payouts"): "reports count payouts",
    ("cases", "billing"): "a refund ends its service by billing's action (cases/service_end)",
    ("payouts", "cases"): "payout actions and settlement move cases by cases/actions",
    ("compensation", "cases"): "a run opens cases by cases/actions",
    ("intake", "cases"): "a mail opens or joins a case by cases/actions",
}


@dataclass(frozen=True)
class Place:
    layer: str
    part: str  # the PLACES or NAMED_PLACES key that placed the module
    app: str

    @property
    def rank(self) -> int:
        return LAYERS.index(self.layer)


def _named(module: str) -> str | None:
    parts = module.split(".")[1:]
    if "management" in parts and "commands" in parts:
        return "management.commands"
    if any(part.startswith("demo") for part in parts):
        return "demo*"
    if parts and parts[-1] == "admin":
        return "admin"
    return None


@cache
def place(module: str) -> Place:
    rest = module.removeprefix(PACKAGE).lstrip(".")
    first = rest.split(".")[0]
    app = first if first and (ROOT / first).is_dir() else ""  # settings, urls, …: the root's
    named = _named(module)
    if named is not None:
        return Place(NAMED_PLACES[named][0], named, app)
    candidates = [key for key in PLACES
                  if rest == key or (key and rest.startswith(key + "."))]
    if not candidates:
        raise LookupError(f"{module} has no place: add its app to PLACES in "
                          "tests/test_architecture.py, in the layer it belongs to")
    key = max(candidates, key=len)
    return Place(PLACES[key][0], key, app)


# -- reading the imports ------------------------------------------------------------------------

@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # ours: the module imported; others: the dotted name as written
    names: tuple[str, ...]  # what `from … import` took (empty for `import`)
    path: Path
    line: int

    @property
    def is_ours(self) -> bool:
        return self.target == PACKAGE or self.target.startswith(PACKAGE + ".")

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT.parents[1])}:{self.line}"


@cache
def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _package_of(module: str) -> str:
    return module if modules()[module].name == "__init__.py" else module.rpartition(".")[0]


def _ours(name: str) -> str:
    """The module of ours that `name` is or is in."""
    while name not in modules() and "." in name:
        name = name.rpartition(".")[0]
    return name


@cache
def imports() -> tuple[Import, ...]:
    found = []
    for module, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    target = alias.name
                    if target == PACKAGE or target.startswith(PACKAGE + "."):
                        target = _ours(target)
                    found.append(Import(module, target, (), path, node.lineno))
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = _package_of(module).split(".")
                    base = base[:len(base) - node.level + 1]
                    written = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    written = node.module or ""
                names = tuple(alias.name for alias in node.names)
                if not (written == PACKAGE or written.startswith(PACKAGE + ".")):
                    found.append(Import(module, written, names, path, node.lineno))
                    continue
                submodules = [f"{written}.{name}" for name in names
                              if f"{written}.{name}" in modules()]
                found.extend(Import(module, target, (), path, node.lineno)
                             for target in submodules)
                rest = tuple(name for name in names if f"{written}.{name}" not in modules())
                if rest:
                    found.append(Import(module, _ours(written), rest, path, node.lineno))
    return tuple(found)


def _ours_between_modules() -> dict[str, dict[str, Import]]:
    graph: dict[str, dict[str, Import]] = defaultdict(dict)
    for found in imports():
        if found.is_ours and found.target != found.source:
            graph[found.source].setdefault(found.target, found)
    return graph


def _cycles(graph: dict[str, dict[str, Import]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph.get(node, {}):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(modules()):
        if node not in index:
            visit(node)
    return components


def _one_loop(graph: dict[str, dict[str, Import]], members: list[str]) -> list[Import]:
    """A shortest way from the component's first module back to itself, as its imports."""
    start, inside = members[0], set(members)
    came_from: dict[str, Import] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for other, found in sorted(graph.get(node, {}).items()):
                if other not in inside or other in came_from:
                    continue
                came_from[other] = found
                if other == start:
                    loop = [found]
                    while loop[0].source != start:
                        loop.insert(0, came_from[loop[0].source])
                    return loop
                following.append(other)
        frontier = following
    raise AssertionError("a component without a loop")


# -- the tests ----------------------------------------------------------------------------------

def test_when_the_modules_are_read_then_none_imports_itself_through_others():
    graph = _ours_between_modules()
    problems = []
    for members in _cycles(graph):
        loop = _one_loop(graph, members)
        problems.append(f"A cycle among {', '.join(members)}; for one:\n" + "\n".join(
            f"    {found.where}: {found.source} imports {found.target}" for found in loop))
    assert not problems, (
        "Import cycles (move what both sides need below both):\n" + "\n".join(problems))


def test_when_the_modules_are_read_then_every_one_has_a_place_in_a_layer():
    unplaced = []
    for module in modules():
        try:
            place(module)
        except LookupError as error:
            unplaced.append(str(error))
    assert not unplaced, "\n".join(unplaced)


def test_when_a_module_imports_another_of_ours_then_it_is_in_its_layer_or_below():
    problems = []
    for found in imports():
        if not found.is_ours or found.target == found.source:
            continue
        source, target = place(found.source), place(found.target)
        if target.rank > source.rank:
            problems.append(
                f"{found.where}: {found.source} ({source.layer}) imports {found.target} "
                f"({target.layer}): a layer never imports one above it")
        elif (target.rank == source.rank and target.app != source.app
              and source.layer != "entry points" and (source.app, target.app) not in SIDEWAYS):
            problems.append(
                f"{found.where}: {found.source} imports {found.target}, another app of "
                f"the {source.layer} layer: move what both need below them, or add "
                f"({source.app!r}, {target.app!r}) to SIDEWAYS with why"
                + (" (channels never import each other)" if source.layer == "channels"
                   else ""))
    assert not problems, "Imports against the layers:\n" + "\n".join(problems)


def test_when_the_layers_are_read_then_every_allowance_sideways_is_still_used():
    used = set()
    for found in imports():
        if found.is_ours:
            source, target = place(found.source), place(found.target)
            if (source.rank == target.rank and source.app != target.app
                    and source.layer != "entry points"):
                used.add((source.app, target.app))
    unused = sorted(set(SIDEWAYS) - used)
    assert not unused, f"SIDEWAYS allows what no import does any more; remove: {unused}"


def test_when_the_pure_rules_are_read_then_they_import_no_django():
    found = [f"{found.where}: {found.target}" for found in imports()
             if place(found.source).layer == "rules"
             and (found.target == "django" or found.target.startswith("django."))]
    assert not found, "policy/ imports Django (DESIGN rule 1):\n" + "\n".join(found)


# Django's private machinery, which changes without notice between releases:
# _result_cache, _prefetch_done, _prefetched_objects_cache, _prefetch_related_lookups, …
PRIVATE_ATTRIBUTES = ("_result_cache", "_prefetch")

# Private API src/ may use anyway: (file, the private thing as reported) → why. Nothing
# here may run: only what the type checker alone reads.
PRIVATE_API_ALLOWED: dict[tuple[str, str], str] = {
    ("src/refunddesk/core/admin.py", "django.contrib.admin.options (_FieldOpts, _FieldsetSpec)"):
        "django-stubs' types of ModelAdmin.fieldsets, which Django does not name publicly; "
        "imported under TYPE_CHECKING, never at run time",
}


@dataclass(frozen=True)
class Finding:
    file: str
    line: int
    name: str  # the private thing
    text: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.text}"


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _private_attributes() -> Iterator[Finding]:
    for module, path in modules().items():
        file = str(path.relative_to(ROOT.parents[1]))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            # obj._result_cache, and getattr(obj, "_prefetched_objects_cache")
            name = (node.attr if isinstance(node, ast.Attribute)
                    else node.value if isinstance(node, ast.Constant)
                    and isinstance(node.value, str) else "")
            if name.startswith(PRIVATE_ATTRIBUTES):
                yield Finding(file, node.lineno, name,
                              f"{module} uses Django's private {name}")


def _private_imports() -> Iterator[Finding]:
    for found in imports():
        file, parts = str(found.path.relative_to(ROOT.parents[1])), found.target.split(".")
        if parts[0] == "allauth" and "internal" in parts:
            yield Finding(file, found.line, found.target,
                          f"{found.source} imports allauth's internal {found.target}")
            continue
        private = [index for index, part in enumerate(parts) if _is_private(part)]
        names = [name for name in found.names if _is_private(name)]
        if not (private or names):
            continue
        what = found.target + (f" ({', '.join(names)})" if names else "")
        if not found.is_ours:
            yield Finding(file, found.line, what, f"{found.source} imports the private {what}")
            continue
        # Private to its package: only the package's own modules may take it.
        owner = ".".join(parts[:private[0]]) if private else _package_of(found.target)
        if not (found.source == owner or found.source.startswith(owner + ".")):
            yield Finding(file, found.line, what,
                          f"{found.source} imports {what}, private to {owner}")


def test_when_src_is_read_then_it_uses_no_private_api():
    findings = [*_private_attributes(), *_private_imports()]
    found = [str(finding) for finding in findings
             if (finding.file, finding.name) not in PRIVATE_API_ALLOWED]
    assert not found, "Private API in src/:\n" + "\n".join(found)
    unused = set(PRIVATE_API_ALLOWED) - {(finding.file, finding.name) for finding in findings}
    assert not unused, f"PRIVATE_API_ALLOWED allows what src/ no longer does; remove: {unused}"
