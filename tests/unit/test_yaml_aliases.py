"""YAML alias bombs in every kind of file the console reads (issue 14, item 7).

"Billion laughs" is nine lines: each anchor lists the previous one nine times,
so 421 bytes expand to 10^9 values. Before the fix, a runbook's front matter
holding it grew the import past 2 GB, a catalog file past 1 GB. Every YAML is
now read by :mod:`console.safe_yaml`, which refuses it (file and line) before
anything is built; the rest of the import goes on (a pack's checklist template
refuses the pack, as any broken template does).

Memory is a correctness bound here, not a timing: the address space is capped
at 1 GiB above what the process already has while the hostile file is read (so
the old code fails with MemoryError instead of taking the machine down), and
the peak of Python allocations must stay under 200 MB.
"""

from __future__ import annotations

import resource
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml

from console import safe_yaml
from console.domain.errors import InvalidInputError
from console.importers.catalog import import_catalog, load_documents
from console.importers.runbooks import import_runbooks
from console.ops.templates import load_templates
from console.packs import PackError, build_pack, folder_files, import_pack, trust_key
from console.signing import INTERACTIVE, generate_keypair
from console.storage.db import Database
from tests.unit.support import raw_scalar

T = TypeVar("T")

#: the classic document, as a mapping of nine keys (its line N is key N)
LAUGHS = [
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    *(
        f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]"
        for previous, name in zip("abcdefgh", "bcdefghi", strict=True)
    ),
]
#: the first key whose expansion passes the budget: e (1 + 9·(1 + 9·(1 + 9·10)))
#: = 7,381 nodes is still under 10,000; e's 66,430 are not
FIRST_REFUSED = 4  # 0-based: the line of "e:" within LAUGHS

MEMORY_BOUND = 200 * 1024 * 1024


def _address_space_now() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmSize in /proc/self/status")


@contextmanager
def _capped_memory() -> Iterator[None]:
    """At most 1 GiB more address space while inside; the old limits after."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = _address_space_now() + 1024 * 1024 * 1024
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def bounded(call: Callable[[], T]) -> T:
    """``call()`` under the memory cap; assert its allocations peaked under 200 MB."""
    tracemalloc.start()
    try:
        with _capped_memory():
            result = call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < MEMORY_BOUND, f"peak {peak / 1024 / 1024:.0f} MB"
    return result


# ------------------------------------------------------------------ the loader


@pytest.mark.parametrize("loader", [safe_yaml.SAFE_LOADER, safe_yaml.PureSafeLoader])
def test_billion_laughs_is_refused_with_its_line_before_it_is_built(loader: Any) -> None:
    text = "\n".join(["title: x", *LAUGHS]) + "\n"
    with pytest.raises(safe_yaml.AliasExpansionError) as caught:
        bounded(lambda: yaml.load(text, Loader=loader))
    mark = caught.value.problem_mark
    assert mark is not None
    assert mark.line == 1 + FIRST_REFUSED
    assert "alias bomb" in str(caught.value)
    assert safe_yaml.yaml_error_reason(text).startswith(f" on line {2 + FIRST_REFUSED}: aliases")


def test_merges_and_small_anchors_keep_working() -> None:
    text = (
        "defaults: &defaults {owner: team-a, lifecycle: production, tags: [a, b]}\n"
        "services:\n"
        + "".join(f"  - {{<<: *defaults, name: s{n}}}\n" for n in range(300))
        + "ports: &ports [80, 443]\nother: *ports\n"
    )
    loaded = safe_yaml.load(text)
    assert loaded["services"][299] == {
        "owner": "team-a",
        "lifecycle": "production",
        "tags": ["a", "b"],
        "name": "s299",
    }
    assert loaded["other"] == [80, 443]
    # 61 copies of a 101-node list: ~6,100 nodes more than the file holds, within the
    # budget (counted once per document, by either loader)
    near = "x: &x [" + ", ".join(["1"] * 100) + "]\ny: [" + ", ".join(["*x"] * 61) + "]\n"
    for loader in (safe_yaml.SAFE_LOADER, safe_yaml.PureSafeLoader):
        assert len(yaml.load(near, Loader=loader)["y"]) == 61


def test_the_budget_is_the_files_not_each_documents() -> None:
    # a document of 7,381 expanded nodes is under the budget; two in one file are not
    document = "\n".join(LAUGHS[:FIRST_REFUSED]) + "\n"
    assert len(load_documents(document.encode(), "one.yaml")) == 1
    stream = "---\n".join([document] * 2)
    # the second document's "d:" (its 4th line, the file's 9th) passes the budget
    with pytest.raises(ValueError, match=r"invalid YAML on line 9: aliases \(\*name\) here"):
        load_documents(stream.encode(), "two.yaml")


@pytest.mark.parametrize(
    ("text", "line"),
    [("a: &a [1, *a]\n", 1), ("x: 1\nb: &b {k: [*b]}\n", 2)],
)
def test_an_alias_to_its_own_container_is_refused(text: str, line: int) -> None:
    for loader in (safe_yaml.SAFE_LOADER, safe_yaml.PureSafeLoader):
        with pytest.raises(safe_yaml.AliasExpansionError, match="loop"):
            yaml.load(text, Loader=loader)
    assert safe_yaml.yaml_error_reason(text).startswith(f" on line {line}: an alias")


# ------------------------------------------------------------------ runbooks


def test_a_runbook_bomb_is_refused_with_file_and_line_and_the_rest_imports(
    db: Database, tmp_path: Path
) -> None:
    folder = tmp_path / "runbooks"
    folder.mkdir()
    bomb = folder / "bomb.md"
    bomb.write_text("---\ntitle: Bomb\n" + "\n".join(LAUGHS) + "\n---\n# Bomb\n", encoding="utf-8")
    (folder / "good.md").write_text(
        "---\ntitle: Good\nservices: [api]\nx: &x {a: 1}\ny: *x\n---\n# Good\n\n1. Step\n",
        encoding="utf-8",
    )

    report = bounded(lambda: import_runbooks(db, [folder]))

    [refused] = report.refused
    assert refused.path == str(bomb)
    # front matter starts on line 2: title, then a..i on lines 3..11
    assert refused.reason.startswith(f"invalid YAML front matter on line {3 + FIRST_REFUSED}:")
    assert "alias bomb" in refused.reason
    assert report.imported == 1
    assert raw_scalar(db.path, "SELECT count(*) FROM runbooks") == 1
    assert raw_scalar(db.path, "SELECT title FROM runbooks") == "Good"


# ------------------------------------------------------------------ catalogs


def test_a_catalog_bomb_is_refused_with_file_and_line_and_the_rest_imports(
    db: Database, tmp_path: Path
) -> None:
    folder = tmp_path / "catalog"
    folder.mkdir()
    (folder / "a-good.yaml").write_text(
        "catalog: 1\n"
        "defaults: &defaults {owner: team-a, system: shop}\n"
        "services:\n"
        "  - {<<: *defaults, name: api, depends-on: [db]}\n"
        "  - {<<: *defaults, name: db, kind: resource}\n",
        encoding="utf-8",
    )
    bomb = folder / "b-bomb.yaml"
    bomb.write_text(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\n"
        "metadata:\n  name: bomb\n  annotations:\n"  # stored as JSON: 10^9 strings before
        + "".join(f"    {line}\n" for line in LAUGHS)
        + "spec: {type: service, owner: t}\n",
        encoding="utf-8",
    )

    report = bounded(lambda: import_catalog(db, [folder]))

    [refused] = report.refused
    assert refused.path == str(bomb)
    assert refused.reason.startswith(f"invalid YAML on line {6 + FIRST_REFUSED}: aliases")
    assert sorted(raw_scalar(db.path, "SELECT group_concat(name) FROM services").split(",")) == [
        "api",
        "db",
    ]


# ------------------------------------------------------------------ checklist templates


def test_a_checklist_template_bomb_is_refused_with_file_and_line(tmp_path: Path) -> None:
    good = (
        "version: 1\ntemplates:\n  - id: a\n    items: &items [x, y]\n"
        "  - id: b\n    items: *items\n"
    )
    (tmp_path / "a.yaml").write_text(good, encoding="utf-8")
    assert [t.id for t in load_templates(tmp_path)] == ["a", "b"]

    bomb = tmp_path / "b.yaml"
    bomb.write_text(
        "version: 1\nlaughs:\n" + "".join(f"  {line}\n" for line in LAUGHS) + "templates: []\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidInputError) as caught:
        bounded(lambda: load_templates(tmp_path))
    message = str(caught.value)
    assert message.startswith(f"{bomb}: not valid YAML on line {3 + FIRST_REFUSED}: aliases")


# ------------------------------------------------------------------ packs


def test_a_pack_carrying_bombs_is_refused_or_lists_them_by_file_and_line(
    db: Database, tmp_path: Path
) -> None:
    """A pack's runbooks and catalog go through the importers (a bomb is one refused
    file in the report); its checklist templates must all load, so a bomb there
    refuses the whole pack with the file and line and changes nothing."""
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    public, secret = generate_keypair("pw", INTERACTIVE)
    trust_key(db, public, now)
    data = tmp_path / "pack-data"
    data.mkdir()
    source = tmp_path / "source"
    (source / "runbooks").mkdir(parents=True)
    (source / "runbooks" / "good.md").write_text("# Good\n\n1. Step\n", encoding="utf-8")
    (source / "runbooks" / "bomb.md").write_text(
        "---\ntitle: Bomb\n" + "\n".join(LAUGHS) + "\n---\n# Bomb\n", encoding="utf-8"
    )
    (source / "catalog").mkdir()
    (source / "catalog" / "bomb.yaml").write_text(
        "catalog: 1\nlaughs:\n" + "".join(f"  {line}\n" for line in LAUGHS) + "services: []\n",
        encoding="utf-8",
    )

    pack = build_pack(
        tmp_path / "one.pack", folder_files(source), secret, version=1, publisher="SRE", now=now
    ).path
    report = bounded(lambda: import_pack(db, data, pack, now=now))
    reasons = dict(report.refused)
    assert reasons["runbooks/bomb.md"].startswith(
        f"invalid YAML front matter on line {3 + FIRST_REFUSED}:"
    )
    assert reasons["catalog/bomb.yaml"].startswith(
        f"invalid YAML on line {3 + FIRST_REFUSED}: aliases"
    )
    assert report.runbooks == 1

    (source / "templates" / "checklists").mkdir(parents=True)
    (source / "templates" / "checklists" / "team.yaml").write_text(
        "version: 1\nlaughs:\n" + "".join(f"  {line}\n" for line in LAUGHS) + "templates: []\n",
        encoding="utf-8",
    )
    second = build_pack(
        tmp_path / "two.pack", folder_files(source), secret, version=2, publisher="SRE", now=now
    ).path
    before = raw_scalar(db.path, "SELECT group_concat(version) FROM pack_installs")
    with pytest.raises(PackError, match=rf"team.yaml: not valid YAML on line {3 + FIRST_REFUSED}"):
        bounded(lambda: import_pack(db, data, second, now=now))
    assert raw_scalar(db.path, "SELECT group_concat(version) FROM pack_installs") == before
