"""Finding catalog services by what a person types: the one lookup the incident
operations (``declare --service``) and the catalog reads (``blast-radius``) share.

A name is matched, case-insensitively, as a full reference
(``component:default/orders-api``), as ``namespace/name``, or as a bare name.
Several entities may share a name (Backstage's example catalog has a Component
*and* an API called ``petstore``): the kind first in
:data:`~console.domain.catalog.KIND_PREFERENCE` wins, so a bare name means the
running thing, not its API.
"""

from __future__ import annotations

import difflib
import sqlite3
from collections.abc import Sequence

from console.domain.catalog import KIND_PREFERENCE, ServiceNode
from console.domain.errors import NotFoundError

#: the columns :func:`node_from_row` reads, in order (table alias ``s``)
NODE_COLUMNS = (
    "s.id, s.ref, s.kind, s.namespace, s.name, s.title, s.owner, s.system, s.tier, "
    "s.lifecycle, s.spec_type"
)
SUGGESTIONS = 5


def node_from_row(row: Sequence[object]) -> ServiceNode:
    (row_id, ref, kind, namespace, name, title, owner, system, tier, lifecycle, spec_type) = row
    assert isinstance(row_id, int)
    return ServiceNode(
        id=row_id,
        ref=str(ref),
        kind=str(kind),
        namespace=str(namespace),
        name=str(name),
        title=_text(title),
        owner=_text(owner),
        system=_text(system),
        tier=_text(tier),
        lifecycle=_text(lifecycle),
        spec_type=_text(spec_type),
    )


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def find_service(raw: sqlite3.Connection, typed: str) -> ServiceNode:
    """The service ``typed`` names, or :class:`NotFoundError` with close names."""
    wanted = typed.strip()
    if not wanted:
        raise NotFoundError("no service named: the name is empty")
    lowered = wanted.lower()
    if ":" in lowered:
        kind, _, rest = lowered.partition(":")
        key = f"{kind}:{rest}" if "/" in rest else f"{kind}:default/{rest}"
        rows = raw.execute(f"SELECT {NODE_COLUMNS} FROM services s WHERE s.ref = ?", (key,))
    elif "/" in lowered:
        namespace, _, name = lowered.partition("/")
        rows = raw.execute(
            f"SELECT {NODE_COLUMNS} FROM services s "
            "WHERE s.namespace = ? COLLATE NOCASE AND s.name = ? COLLATE NOCASE",
            (namespace, name),
        )
    else:
        rows = raw.execute(
            f"SELECT {NODE_COLUMNS} FROM services s WHERE s.name = ? COLLATE NOCASE", (wanted,)
        )
    found = [node_from_row(row) for row in rows]
    if found:
        return min(found, key=_preference)
    raise NotFoundError(_not_found(raw, wanted))


def find_services(raw: sqlite3.Connection, typed: Sequence[str]) -> list[ServiceNode]:
    """Each name's service, in the order given, duplicates dropped."""
    found: dict[str, ServiceNode] = {}
    for name in typed:
        node = find_service(raw, name)
        found.setdefault(node.ref, node)
    return list(found.values())


def _preference(node: ServiceNode) -> tuple[int, int, str]:
    rank = KIND_PREFERENCE.index(node.kind) if node.kind in KIND_PREFERENCE else 99
    default_first = 0 if node.namespace.lower() == "default" else 1
    return rank, default_first, node.ref


def _not_found(raw: sqlite3.Connection, wanted: str) -> str:
    names = [row[0] for row in raw.execute("SELECT DISTINCT name FROM services")]
    if not names:
        return (
            f"no service {wanted!r}: the service catalog is empty (import one with "
            "'responder-console import catalog PATH')"
        )
    close = difflib.get_close_matches(wanted.lower(), [n.lower() for n in names], SUGGESTIONS)
    by_lower = {n.lower(): n for n in names}
    hint = f"; did you mean {', '.join(by_lower[c] for c in close)}?" if close else ""
    return f"no service {wanted!r} in the catalog{hint}"
