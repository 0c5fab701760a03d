"""The import ladder: Paylinks' own modules import only downwards, and never in a circle.

    entry points   views, admin, API, webhook endpoint, commands, sweeper, console theme
        |
    services       writes (paylinks.services), the webhook inbox and its handlers
        |
    selectors      reads (paylinks.selectors, dashboards.selectors)
        |
    domain         models, gateways, money, permissions, privacy, queueing, labels, crypto,
                   fastsql, colours

Every import counts, including one inside a function (a circle hidden in a function is
still a circle). Within a layer imports are allowed, as long as they form no circle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("paylinks", "dashboards", "theme", "project", "fixtures", "storefront")

ENTRY, SERVICES, SELECTORS, DOMAIN = 4, 3, 2, 1
LAYER_NAMES = {
    ENTRY: "entry points",
    SERVICES: "services",
    SELECTORS: "selectors",
    DOMAIN: "domain",
}

# First matching prefix wins; a prefix matches the module itself and everything below it.
LAYERS: list[tuple[str, int]] = [
    ("paylinks.webhooks.views", ENTRY),
    ("paylinks.webhooks", SERVICES),
    ("paylinks.services", SERVICES),
    # Outgoing messages: services queue them; the mail module itself needs only the domain.
    ("paylinks.notifications", SERVICES),
    ("paylinks.selectors", SELECTORS),
    ("dashboards.selectors", SELECTORS),
    ("paylinks.gateways.sandbox.views", ENTRY),
    ("paylinks.gateways.sandbox.urls", ENTRY),
    ("paylinks.gateways.sandbox.forms", ENTRY),
    ("paylinks.gateways.sandbox.apps", ENTRY),
    ("paylinks.gateways", DOMAIN),
    ("paylinks.models", DOMAIN),
    ("paylinks.money", DOMAIN),
    ("paylinks.labels", DOMAIN),
    ("paylinks.permissions", DOMAIN),
    ("paylinks.privacy", DOMAIN),
    ("paylinks.queueing", DOMAIN),
    ("paylinks.crypto", DOMAIN),
    ("paylinks.fastsql", DOMAIN),
    ("paylinks.qr", DOMAIN),
    ("paylinks.timezones", DOMAIN),
    # Brand colours and their contrast (the pay page's rule, for the sandbox's page).
    ("paylinks.colours", DOMAIN),
    # What every layer logs and counts with (issue 15).
    ("paylinks.logcontext", DOMAIN),
    ("paylinks.metrics", DOMAIN),
]


def layer_of(module: str) -> int:
    for prefix, layer in LAYERS:
        if module == prefix or module.startswith(prefix + "."):
            return layer
    if module in ("paylinks",) or module.endswith(".__init__"):
        return DOMAIN
    return ENTRY  # admin, api, management, auth, middleware, sweeper, theme, project ...


def modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def imports(path: Path, module: str, known: dict[str, Path]) -> set[str]:
    """The project modules ``module`` imports (at module level or inside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*parts, base] if base else parts)
            names = [f"{base}.{alias.name}" for alias in node.names] + [base]
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name != module and not module.startswith(name + "."):
                targets.add(name)
    return targets


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(path, name, known) for name, path in known.items()}


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def upward_imports(edges: dict[str, set[str]]) -> list[str]:
    return sorted(
        f"{source} ({LAYER_NAMES[layer_of(source)]}) imports {target} "
        f"({LAYER_NAMES[layer_of(target)]})"
        for source, targets in edges.items()
        for target in targets
        if layer_of(target) > layer_of(source)
    )


def test_no_import_circles() -> None:
    assert circles(graph()) == []


def test_imports_only_go_down_the_ladder() -> None:
    assert upward_imports(graph()) == []


def test_the_checks_can_fail() -> None:
    """The two checks above see a circle and an upward import when there is one."""
    edges = {
        "paylinks.services.payments": {"paylinks.webhooks.inbox"},
        "paylinks.webhooks.inbox": {"paylinks.services.payments"},
        "paylinks.models.payments": {"paylinks.admin.payments"},
    }
    assert circles(edges) == [["paylinks.services.payments", "paylinks.webhooks.inbox"]]
    assert upward_imports(edges) == [
        "paylinks.models.payments (domain) imports paylinks.admin.payments (entry points)"
    ]


@pytest.mark.parametrize(
    ("module", "layer"),
    [
        ("paylinks.api.public", ENTRY),
        ("paylinks.webhooks.views", ENTRY),
        ("paylinks.webhooks.inbox", SERVICES),
        ("paylinks.services.payments", SERVICES),
        ("paylinks.selectors.links", SELECTORS),
        ("paylinks.gateways.sandbox.engine", DOMAIN),
        ("paylinks.gateways.sandbox.views", ENTRY),
        ("paylinks.models", DOMAIN),
    ],
)
def test_layer_of(module: str, layer: int) -> None:
    assert layer_of(module) == layer
