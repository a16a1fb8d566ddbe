"""Runbook collections as teams keep them (issue 15, items 2-5): the hand-made
collections under tests/fixtures/runbooks, one per format, imported into a real
SQLite file through the library, and what a person then sees of each runbook."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from console.importers.runbook_formats import humanise, strip_erb, strip_mdx, strip_suffix
from console.importers.runbooks import ImportReport, parse_runbook
from console.library import RunbookLibrary
from console.storage.db import Database, open_database
from tests.unit.support import FakeClock

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "runbooks"


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Any]:
    """Import one collection into its own database: (report, rows by file name)."""
    opened: list[Database] = []

    def run(name: str) -> tuple[ImportReport, dict[str, dict[str, Any]]]:
        db = open_database(tmp_path / name / "console.db", clock=FakeClock())
        opened.append(db)
        report = RunbookLibrary(db).import_paths([FIXTURES / name])
        with db.raw_reader() as raw:
            raw.row_factory = _dict_row
            rows = {
                str(Path(row["path"]).relative_to(FIXTURES / name)): row
                for row in raw.execute("SELECT * FROM runbooks")
            }
        return report, rows

    yield run
    for db in opened:
        db.close()


def _dict_row(cursor: Any, row: tuple[Any, ...]) -> dict[str, Any]:
    return {column[0]: value for column, value in zip(cursor.description, row, strict=True)}


def _reasons(items: list[Any]) -> dict[str, str]:
    return {Path(item.path).name: item.reason for item in items}


# ------------------------------------------------------------------ formats


def test_middleman_erb_pages_are_read_with_review_dates_and_no_tags(fresh: Any) -> None:
    report, rows = fresh("middleman")
    assert (report.imported, report.refused, report.formats) == (4, [], {"middleman": 4})
    page = rows["source/manual/alerts/disk-full.html.md.erb"]
    assert page["title"] == "Disk full on a node"
    assert (page["last_reviewed"], page["review_every_days"]) == ("2026-09-01", 120)
    assert page["slug"] == "source-manual-alerts-disk-full"  # no "-html" left in the id
    assert "<%" not in page["body"].replace("<%=", "", 0).replace("`<%= not a tag %>`", "")
    assert "render partial" not in page["body"]
    assert "**This alert pages out of hours.**" in page["body"]
    assert "`<%= not a tag %>`" in page["body"]  # <%% is ERB's escape for <%
    # a heading that is only a template tag is not a title: the next heading is
    assert rows["source/manual/alerts/erb-heading.html.md.erb"]["title"] == (
        "Restart the queue consumers"
    )
    # a setext (underlined) heading; review_in in months
    search = rows["source/manual/search-api.html.md"]
    assert (search["title"], search["review_every_days"]) == ("Search API reindex", 90)
    assert rows["source/manual/review-only.md.erb"]["title"] == "Review only"
    assert rows["source/manual/review-only.md.erb"]["body"].strip() == (
        "Check the dashboards every Monday."
    )


def test_hugo_toml_front_matter_sections_and_archetypes(fresh: Any) -> None:
    report, rows = fresh("hugo")
    assert report.formats == {"hugo": 4}
    assert [(Path(s.path).name, s.reason.split(":")[0]) for s in report.skipped] == [
        ("default.md", "a Hugo archetype")
    ]
    etcd = rows["content/runbooks/etcd-no-leader.md"]
    assert (etcd["title"], etcd["nav_order"], etcd["last_reviewed"]) == (
        "etcd has no leader",
        3,
        "2026-10-01",
    )
    assert json.loads(etcd["services"]) == ["etcd"]
    assert json.loads(etcd["alerts"]) == ["etcdNoLeader"]
    section = rows["content/runbooks/_index.md"]
    assert (section["landing"], section["title"], section["nav_order"]) == (1, "Runbooks", 10)
    assert rows["content/_index.md"]["title"] == "Platform runbooks"
    # invalid TOML: shown, with a warning naming the problem
    bad = rows["content/runbooks/bad-toml.md"]
    assert bad["title"] == "Node not ready"
    assert json.loads(bad["warnings"])[0].startswith("line 2: invalid TOML front matter (")


def test_jekyll_site(fresh: Any) -> None:
    report, rows = fresh("jekyll")
    assert (report.formats, report.landing) == ({"jekyll": 2}, 1)
    cache = rows["runbooks/cache.md"]
    assert (cache["title"], cache["owner"], cache["nav_order"]) == (
        "Redis cache down",
        "team-data",
        2,
    )
    assert json.loads(cache["extra"])["permalink"] == "/runbooks/cache/"
    assert (rows["index.md"]["title"], rows["index.md"]["landing"]) == ("Ops handbook", 1)


def test_mkdocs_nav_gives_titles_and_order(fresh: Any) -> None:
    report, rows = fresh("mkdocs")
    assert report.site_problems == []  # !!python/name and !ENV tags do not stop the nav
    assert report.formats == {"mkdocs": 4}
    titles = {name: (row["title"], row["nav_order"]) for name, row in rows.items()}
    assert titles == {
        "docs/index.md": ("Home", 1),  # no heading: the nav's title
        "docs/ops/restart.md": ("Restart the API", 2),  # only ## headings: the nav's
        "docs/ops/failover.md": ("Database failover", 3),  # its own # heading first
        "docs/ops/not-in-nav.md": ("Not in nav", None),
    }
    assert rows["docs/index.md"]["landing"] == 1


def test_a_docs_folder_imported_alone_finds_the_mkdocs_yml_above_it(tmp_path: Path) -> None:
    copy = tmp_path / "site"
    shutil.copytree(FIXTURES / "mkdocs", copy)
    db = open_database(tmp_path / "data" / "console.db")
    try:
        report = RunbookLibrary(db).import_paths([copy / "docs"])
        assert report.formats == {"mkdocs": 4}
        # the landing page of the folder imported is named after it
        assert RunbookLibrary(db).get("docs-index").title == "Home"
        named = RunbookLibrary(db).import_paths([copy / "docs" / "ops" / "restart.md"])
        assert named.formats == {"mkdocs": 1}
    finally:
        db.close()


def test_backstage_techdocs(fresh: Any) -> None:
    report, rows = fresh("techdocs")
    assert report.formats == {"techdocs": 2}
    assert rows["docs/runbook.md"]["nav_order"] == 2
    assert rows["docs/index.md"]["title"] == "payments-api"


def test_docusaurus_mdx_is_markdown_without_imports_or_jsx(fresh: Any) -> None:
    report, rows = fresh("docusaurus")
    assert report.formats == {"docusaurus": 2}
    assert [(Path(s.path).name, s.reason.split(":")[0]) for s in report.skipped] == [
        ("_shared-warning.mdx", "a Docusaurus partial")
    ]
    intro = rows["docs/intro.mdx"]
    body = intro["body"]
    assert intro["title"] == "Getting started"
    for gone in ("import ", "export ", "<Tabs", "</TabItem>", "<Note", "{/*", "Highlight"):
        assert gone not in body.replace("# <Tabs> inside code stays", ""), gone
    assert "# <Tabs> inside code stays" in body  # code is never touched
    assert "Keep the pager charged." in body
    assert "See the dashboard." in body
    failover = rows["docs/db-failover.md"]
    assert (failover["title"], failover["nav_order"]) == ("Failover", 2)  # sidebar_label
    assert json.loads(failover["extra"]) == {"slug": "/database/failover"}


def test_github_wiki(fresh: Any) -> None:
    report, rows = fresh("wiki")
    assert report.formats == {"github-wiki": 3}
    assert sorted(_reasons(report.skipped)) == ["_Footer.md", "_Sidebar.md"]
    assert all("shown around every page" in r for r in _reasons(report.skipped).values())
    assert (rows["Home.md"]["landing"], rows["Home.md"]["title"]) == (1, "Home")
    # _Sidebar.md's links: titles and order
    assert (rows["Restart-API.md"]["title"], rows["Restart-API.md"]["nav_order"]) == (
        "Restart the API",
        2,
    )
    assert rows["Disk-Full-Alerts.md"]["nav_order"] == 3


def test_runme_fences_with_attributes(fresh: Any) -> None:
    report, rows = fresh("runme")
    assert report.formats == {"runme": 1}
    body = rows["deploy-rollback.md"]["body"]
    assert '```sh {"name":"current-release","interactive":"false"}' in body


# ------------------------------------------------------------------ leniency


def test_plain_markdown_oddities_are_shown_with_warnings(fresh: Any) -> None:
    report, rows = fresh("plain")
    assert _reasons(report.refused) == {
        "binary.md": "binary file (NUL byte at byte offset 8), not Markdown",
        "empty.md": "empty file (nothing to show)",
        "not-text.md": "not text in an encoding we can detect (not UTF-8: byte 0x81 at byte "
        "offset 4; not Windows-1252 either: byte 0x81); save the file as UTF-8",
    }
    warned = {Path(w.path).name for w in report.warnings}
    assert warned == {
        "bad-values.md",
        "bad-yaml.md",
        "latin1.md",
        "list-front-matter.md",
        "open-comment.md",
        "unclosed-fence.md",
        "unclosed-front-matter.md",
    }
    assert len(report.warnings) == 9  # bad-values.md has three
    fence = rows["unclosed-fence.md"]
    assert fence["body"].endswith("kubectl rollout restart deploy/consumer\n```\n")
    assert json.loads(fence["warnings"]) == [
        "line 5: code fence never closed: shown running to the end of the file, as Markdown "
        "renderers show it (add a line ``` where the code ends)"
    ]
    values = rows["bad-values.md"]
    assert (values["title"], values["owner"], values["last_reviewed"]) == (
        "Bad values",
        "team-b",
        None,
    )
    assert rows["latin1.md"]["title"] == "Café service dégradé"
    assert rows["utf16.md"]["title"] == "Größe der Warteschlange"
    assert rows["disk-full_alerts.md"]["title"] == "Disk full alerts"
    readme = rows["payments-api/README.md"]
    assert (readme["landing"], readme["title"]) == (1, "Payments api")
    assert rows["payments-api/index.md"]["landing"] == 1
    assert json.loads(rows["utf16.md"]["warnings"]) == []


def test_warnings_stay_listed_on_a_reimport(fresh: Any, tmp_path: Path) -> None:
    first, _ = fresh("plain")
    db = open_database(tmp_path / "plain" / "console.db")
    try:
        again = RunbookLibrary(db).import_paths([FIXTURES / "plain"])
        assert (again.imported, again.unchanged) == (0, first.imported)
        assert again.warnings == first.warnings
        assert again.formats == first.formats
        document = RunbookLibrary(db).get("unclosed-fence")
        assert document.warnings[0].startswith("line 5: code fence never closed")
        assert (document.format, document.landing) == ("markdown", False)
    finally:
        db.close()


# ------------------------------------------------------------------ never a silent nothing


def test_a_folder_with_nothing_recognised_says_what_it_holds(fresh: Any) -> None:
    report, rows = fresh("nothing")
    assert rows == {}
    [nothing] = report.nothing_found
    assert dict(nothing.found) == {".rst": 2, ".png": 1, ".txt": 1, "(no ending)": 1}
    assert nothing.describe().endswith(
        "nothing recognised as a runbook (read are *.md, *.markdown, *.mdx, *.md.erb, "
        "*.markdown.erb); found instead: 2 .rst, 1 (no ending), 1 .png, 1 .txt"
    )


def test_an_empty_folder_says_so(tmp_path: Path, db: Database) -> None:
    (tmp_path / "empty").mkdir()
    report = RunbookLibrary(db).import_paths([tmp_path / "empty"])
    assert [n.describe() for n in report.nothing_found] == [
        f"{tmp_path / 'empty'}: nothing recognised as a runbook: the folder holds no files"
    ]


def test_a_file_named_explicitly_is_read_or_refused_with_a_reason(db: Database) -> None:
    named = [
        FIXTURES / "wiki" / "_Sidebar.md",  # passed over in a folder, read when named
        FIXTURES / "docusaurus" / "docs" / "_shared-warning.mdx",
        FIXTURES / "middleman" / "source" / "manual" / "review-only.md.erb",
        FIXTURES / "nothing" / "runbook.rst",
    ]
    report = RunbookLibrary(db).import_paths(named)
    assert report.imported == 3
    assert report.skipped == []
    assert _reasons(report.refused) == {
        "runbook.rst": "not a Markdown file: its name does not end in .md, .markdown, .mdx, "
        ".md.erb, .markdown.erb (rename it if it is Markdown)"
    }


# ------------------------------------------------------------------ titles and helpers


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("disk-full_alerts", "Disk full alerts"),
        ("PostgreSQL-Replication", "PostgreSQL Replication"),
        ("__init__", "Init"),
    ],
)
def test_humanise(name: str, expected: str) -> None:
    assert humanise(name) == expected


def test_a_heading_of_any_level_beats_the_file_name() -> None:
    parsed = parse_runbook(b"intro\n\n### Drain the node\n", path="/r/drain.md", root="/r")
    assert parsed.title == "Drain the node"
    fenced = parse_runbook(b"```\n# not a heading\n```\n", path="/r/x-y.md", root="/r")
    assert fenced.title == "X y"


def test_strip_suffix_and_erb_and_mdx_helpers() -> None:
    assert strip_suffix("a.html.md.erb") == "a"
    assert strip_suffix("b.MDX") == "b"
    assert strip_erb("a <%= x %>b<%# c\n d %> <%% e") == "a b <% e"
    assert strip_mdx("import X from 'x'\n\n<X a={1} />\ntext\n") == "\n\ntext\n"


def test_a_billion_laughs_mkdocs_nav_is_cut_short(tmp_path: Path, db: Database) -> None:
    """YAML aliases can make a 1 kB mkdocs.yml name one list 2^40 times: the safe
    loader refuses the alias bomb (console/safe_yaml.py), so its nav is not read and
    says why, while the pages still import with their own titles."""
    levels = ["a0: &a0 [index.md, index.md]"]
    levels += [f"a{n}: &a{n} [*a{n - 1}, *a{n - 1}]" for n in range(1, 40)]
    site = tmp_path / "laughs"
    (site / "docs").mkdir(parents=True)
    (site / "mkdocs.yml").write_text(
        "site_name: x\nanchors:\n" + "".join(f"  {line}\n" for line in levels) + "nav: *a39\n"
    )
    (site / "docs" / "index.md").write_text("Welcome.\n")
    report = RunbookLibrary(db).import_paths([site])
    assert (report.formats, report.refused) == ({"mkdocs": 1}, [])
    assert RunbookLibrary(db).get("docs-index").nav_order is None
    said = [problem for problem in report.site_problems if "mkdocs.yml" in problem]
    assert said, report.site_problems
    assert "alias" in said[0]
