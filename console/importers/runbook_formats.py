"""The formats runbook collections are kept in, recognised from names and marker files.

A collection is rarely plain Markdown: teams publish it with a site generator,
and each leaves its marks (issue 15). This module says which format a file is
read as, and does what that format needs before the Markdown is parsed:

* **middleman** — ``.html.md``, ``.html.md.erb``, ``.md.erb`` (or a ``config.rb``
  site): ERB tags (``<% %>``, ``<%= %>``, ``<%# %>``) are stripped from text and
  titles; ``last_reviewed_on`` / ``review_in`` are the review dates (aliases).
* **hugo** — TOML front matter between ``+++`` lines, or a ``hugo.toml`` /
  ``hugo.yaml`` / ``config.toml`` + ``content/`` site; ``linkTitle`` and
  ``weight`` are its nav title and order; ``_index.md`` is a section's landing page.
* **jekyll** — a ``_config.yml`` site (``nav_order`` of just-the-docs).
* **mkdocs** / **techdocs** — an ``mkdocs.yml`` (with ``catalog-info.yaml`` beside
  it: Backstage TechDocs), in the folder imported or the one above it; its
  ``nav`` gives titles and order.
* **docusaurus** — ``.mdx`` files or a ``docusaurus.config.*`` site: ``import`` /
  ``export`` lines and JSX tags are stripped from ``.mdx``; ``sidebar_label`` and
  ``sidebar_position`` are the nav title and order; a name starting with ``_``
  is a partial, not a page.
* **github-wiki** — a folder with ``Home.md``, ``_Sidebar.md`` or ``_Footer.md``:
  the sidebar and footer are parts of every page, not runbooks; ``Home.md`` is
  the landing page; ``_Sidebar.md``'s links give titles and order.
* **runme** — fenced blocks with attributes (```` ```sh {"name":"x"} ````).
* **markdown** — none of the above.

Nothing here reads a file's body from disk except the small config files named.
"""

from __future__ import annotations

import logging
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from console.importers.yaml_support import LOAD_ERRORS, SAFE_LOADER, too_deep

log = logging.getLogger(__name__)

MARKDOWN, MIDDLEMAN, HUGO, JEKYLL = "markdown", "middleman", "hugo", "jekyll"
MKDOCS, TECHDOCS, DOCUSAURUS, WIKI, RUNME = (
    "mkdocs",
    "techdocs",
    "docusaurus",
    "github-wiki",
    "runme",
)
#: every format a runbook is recorded with (``runbooks.format``)
FORMATS = (MARKDOWN, MIDDLEMAN, HUGO, JEKYLL, MKDOCS, TECHDOCS, DOCUSAURUS, WIKI, RUNME)

#: file endings read from a folder (``.html.md`` ends in ``.md``)
SUFFIXES = (".md", ".markdown", ".mdx", ".md.erb", ".markdown.erb")
#: endings taken off a file name for its id and its humanised title, longest first
_STRIPPED = (
    ".html.markdown.erb",
    ".html.md.erb",
    ".markdown.erb",
    ".md.erb",
    ".html.markdown",
    ".html.md",
    ".markdown",
    ".mdx",
    ".md",
)
_MIDDLEMAN_NAMES = (".erb", ".html.md", ".html.markdown")
#: names (stem, lower case) of a folder's landing page
LANDING_STEMS = frozenset({"readme", "index", "_index"})
#: a wiki's parts of every page (lower case)
WIKI_PARTS = frozenset({"_sidebar.md", "_footer.md", "_header.md"})
_WIKI_MARKERS = frozenset({"home.md", *WIKI_PARTS})
_MKDOCS = ("mkdocs.yml", "mkdocs.yaml")
_DOCUSAURUS = (
    "docusaurus.config.js",
    "docusaurus.config.ts",
    "docusaurus.config.mjs",
    "docusaurus.config.cjs",
)
_HUGO = ("hugo.toml", "hugo.yaml", "hugo.yml", "hugo.json")
#: Hugo's older config names: a Hugo site when a ``content/`` folder is beside them
_HUGO_OLD = ("config.toml", "config.yaml", "config.yml", "config.json")
#: every name that can mark a site (lower case): one set intersection a folder
MARKERS = frozenset(
    {*_MKDOCS, *_DOCUSAURUS, *_HUGO, *_HUGO_OLD, "_config.yml", "config.rb", *_WIKI_MARKERS}
)
#: config files larger than this are not read (a real mkdocs.yml is a few kB)
MAX_CONFIG_BYTES = 1024 * 1024


@dataclass(frozen=True)
class NavEntry:
    title: str | None
    order: int


@dataclass(frozen=True)
class Site:
    """A site generator's folder: its format and what its config says about pages."""

    kind: str
    folder: str
    #: absolute page path → its nav entry
    nav: Mapping[str, NavEntry] = field(default_factory=dict)
    #: what could not be read of its config (the import lists them)
    problems: tuple[str, ...] = ()


def strip_suffix(name: str) -> str:
    """``disk-full.html.md.erb`` → ``disk-full``: the name without its Markdown endings."""
    lower = name.lower()
    for suffix in _STRIPPED:
        if lower.endswith(suffix):
            return name[: -len(suffix)]
    return name


def is_markdown_name(name: str) -> bool:
    return name.lower().endswith(SUFFIXES)


def format_of_name(name: str) -> str | None:
    """The format a file name alone says (lower-case ``name``), else None."""
    if name.endswith(_MIDDLEMAN_NAMES):
        return MIDDLEMAN
    if name.endswith(".mdx"):
        return DOCUSAURUS
    return None


def is_landing(name: str, fmt: str) -> bool:
    """A folder's README / index page, Hugo's ``_index.md``, a wiki's Home."""
    stem = strip_suffix(name).lower()
    return stem in LANDING_STEMS or (fmt == WIKI and stem == "home")


def humanise(stem: str) -> str:
    """``disk-full_alerts`` → ``Disk full alerts``: what a person would call the file."""
    words = re.sub(r"[-_\s]+", " ", stem).strip()
    return words[:1].upper() + words[1:] if words else stem


# ------------------------------------------------------------------ template tags

_ERB = re.compile(r"<%(?!%).*?%>", re.S)
_TEMPLATE_TAGS = re.compile(r"<%(?!%).*?%>|\{\{<.*?>\}\}|\{\{%.*?%\}\}|\{\{.*?\}\}|\{%.*?%\}", re.S)


def strip_erb(text: str) -> str:
    """ERB tags removed (``<%%`` is ERB's escape for a literal ``<%``)."""
    if "<%" not in text:
        return text
    return _ERB.sub("", text).replace("<%%", "<%")


def clean_title(text: str) -> str:
    """A heading or title without template tags (ERB, Hugo, Liquid, Jinja) and with
    its spaces collapsed; empty when nothing else was there."""
    if "<%" in text or "{" in text:
        text = _TEMPLATE_TAGS.sub("", text)
    return " ".join(text.split())


# ------------------------------------------------------------------ MDX

_FENCE_LINE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_ESM = re.compile(r"^(?:import|export)\b")
_JSX_TAG = re.compile(r"</?[A-Z][\w.]*(?:\s[^<>]*?)?/?>|<>|</>")
_JSX_OPEN_START = re.compile(r"^\s*<[A-Z][\w.]*(?:\s[^<>]*)?$")
_MDX_COMMENT = re.compile(r"\{/\*.*?\*/\}", re.S)


def strip_mdx(body: str) -> str:
    """An ``.mdx`` page as Markdown: ``import``/``export`` statements and JSX tags
    (``<Tabs>``, ``<TabItem value="x">``, ``<Admonition />``) removed outside code
    fences, and ``{/* comments */}``. What the components wrap stays."""
    out: list[str] = []
    fence: str | None = None
    skipping: str | None = None  # "esm" or "tag": a statement or tag over lines
    depth = 0
    for line in _MDX_COMMENT.sub("", body).split("\n"):
        if fence is not None:
            out.append(line)
            stripped = line.strip()
            if stripped.startswith(fence) and set(stripped) == {fence[0]}:
                fence = None
            continue
        if skipping == "esm":
            depth += line.count("{") + line.count("(") - line.count("}") - line.count(")")
            if depth <= 0 and (re.search(r"""from\s+['"]|['"];?\s*$|;\s*$""", line) or not line):
                skipping = None
            continue
        if skipping == "tag":
            if ">" in line:
                skipping = None
            continue
        opened = _FENCE_LINE.match(line)
        if opened:
            fence = opened.group(1)
            out.append(line)
            continue
        if _ESM.match(line):
            depth = line.count("{") + line.count("(") - line.count("}") - line.count(")")
            complete = depth <= 0 and re.search(r"""from\s+['"]|['"];?\s*$|;\s*$|\}\s*$""", line)
            if not complete:
                skipping = "esm"
            continue
        if _JSX_OPEN_START.match(line):
            skipping = "tag"
            continue
        if "<" in line:
            stripped_tags = _JSX_TAG.sub("", line)
            if stripped_tags != line and not stripped_tags.strip():
                out.append("")
                continue
            line = stripped_tags
        out.append(line)
    return "\n".join(out)


# ------------------------------------------------------------------ sites


def detect_site(folder: str, names: Mapping[str, str]) -> Site | None:
    """The site whose marker files are in ``folder`` (``names``: lower-case name →
    name as listed, only the names in :data:`MARKERS`), else None."""
    if not names:
        return None
    for marker in _MKDOCS:
        if marker in names:
            return _mkdocs_site(folder, names[marker], techdocs=False)
    if any(marker in names for marker in _DOCUSAURUS):
        return Site(DOCUSAURUS, folder)
    if any(marker in names for marker in _HUGO):
        return Site(HUGO, folder)
    if any(n in names for n in _HUGO_OLD) and os.path.isdir(os.path.join(folder, "content")):
        return Site(HUGO, folder)
    if "_config.yml" in names:
        return Site(JEKYLL, folder)
    if "config.rb" in names and os.path.isdir(os.path.join(folder, "source")):
        return Site(MIDDLEMAN, folder)
    if any(marker in names for marker in _WIKI_MARKERS):
        sidebar = next((names[n] for n in ("_sidebar.md",) if n in names), None)
        return Site(WIKI, folder, nav=_wiki_nav(folder, sidebar) if sidebar else {})
    return None


def site_above(folder: str) -> Site | None:
    """The site of the folder above an imported one (``docs/`` imported, its
    ``mkdocs.yml`` one level up), when its config places pages in ``folder``."""
    parent = os.path.dirname(folder.rstrip(os.sep))
    if not parent or parent == folder:
        return None
    try:
        listed = os.listdir(parent)
    except OSError:
        return None
    names = {n.lower(): n for n in listed if n.lower() in MARKERS and n.lower() not in WIKI_PARTS}
    names.pop("home.md", None)  # a wiki is the folder itself, never the one above
    site = detect_site(parent, names)
    if site is not None and site.kind in (MKDOCS, TECHDOCS):
        inside = folder.rstrip(os.sep) + os.sep
        if not any(page.startswith(inside) for page in site.nav):
            return None  # its pages are elsewhere: this folder is not its docs_dir
    return site


class _TolerantLoader(SAFE_LOADER):  # type: ignore[misc,valid-type]
    """The safe loader, with every tag it does not know read as null: an mkdocs.yml
    names Python objects (``!!python/name:material.extensions.emoji.twemoji``) and
    environment variables (``!ENV``) that only MkDocs itself resolves."""


def _unknown_tag(_loader: Any, _suffix: str, _node: Any) -> None:
    return None


_TolerantLoader.add_multi_constructor("", _unknown_tag)


def _read_config(path: str) -> str:
    with open(path, "rb") as handle:
        data = handle.read(MAX_CONFIG_BYTES + 1)
    if len(data) > MAX_CONFIG_BYTES:
        raise ValueError(f"larger than {MAX_CONFIG_BYTES // 1024} kB")
    return data.decode("utf-8-sig")


def _mkdocs_site(folder: str, name: str, *, techdocs: bool) -> Site:
    path = os.path.join(folder, name)
    kind = TECHDOCS if _has_catalog_info(folder) else MKDOCS
    try:
        source = _read_config(path)
        deep = too_deep(source)
        if deep is not None:
            raise ValueError(deep)
        config = yaml.load(source, Loader=_TolerantLoader)
    except (OSError, UnicodeDecodeError, ValueError, *LOAD_ERRORS) as error:
        problem = f"{path}: its nav was not read ({_short(error)}); titles come from the pages"
        return Site(kind, folder, problems=(problem,))
    if not isinstance(config, dict):
        return Site(kind, folder)
    docs_dir = config.get("docs_dir") if isinstance(config.get("docs_dir"), str) else "docs"
    base = os.path.normpath(os.path.join(folder, str(docs_dir)))
    nav: dict[str, NavEntry] = {}
    _walk_nav(config.get("nav"), base, nav)
    return Site(kind, folder, nav=nav)


def _has_catalog_info(folder: str) -> bool:
    return any(
        os.path.isfile(os.path.join(folder, n)) for n in ("catalog-info.yaml", "catalog-info.yml")
    )


#: nav entries visited at most: YAML aliases can make a small file name the same
#: list billions of times (a "billion laughs" nav)
MAX_NAV_ENTRIES = 20_000


def _walk_nav(items: object, base: str, nav: dict[str, NavEntry]) -> None:
    """Depth first, in order: ``- Title: page.md``, ``- page.md``, ``- Section: [...]``
    (at most :data:`MAX_NAV_ENTRIES` entries visited)."""
    stack: list[tuple[str | None, object]] = [(None, items)]
    visited = 0
    while stack and visited < MAX_NAV_ENTRIES:
        title, item = stack.pop()
        visited += 1
        if isinstance(item, str):
            _nav_page(title, item, base, nav)
        elif isinstance(item, list):
            stack.extend((None, child) for child in reversed(item[:MAX_NAV_ENTRIES]))
        elif isinstance(item, dict):
            entries = list(item.items())[:MAX_NAV_ENTRIES]
            stack.extend((str(key), value) for key, value in reversed(entries))


def _nav_page(title: str | None, target: str, base: str, nav: dict[str, NavEntry]) -> None:
    if "://" in target or not is_markdown_name(target.split("#")[0]):
        return
    page = os.path.normpath(os.path.join(base, target.split("#")[0]))
    if page not in nav:
        nav[page] = NavEntry(clean_title(title) if title else None, len(nav) + 1)


_WIKI_LINK = re.compile(r"\[\[([^\]|]+)(?:\|([^\]]+))?\]\]|\[([^\]]+)\]\(([^)\s]+)\)")


def _wiki_nav(folder: str, sidebar: str) -> dict[str, NavEntry]:
    """``_Sidebar.md``'s links in order: ``[[Title|Page]]``, ``[[Page]]``, ``[Title](Page)``."""
    try:
        text = _read_config(os.path.join(folder, sidebar))
    except (OSError, UnicodeDecodeError, ValueError):
        return {}
    nav: dict[str, NavEntry] = {}
    for match in _WIKI_LINK.finditer(text):
        if match.group(1):
            first, second = match.group(1).strip(), match.group(2)
            # GitHub: [[Title|Page]]; some wikis write [[Page|Title]]: the page is what exists
            title, page = (first, second.strip()) if second else (None, first)
        else:
            title, page = match.group(3).strip(), match.group(4).strip()
        if "://" in page:
            continue
        page = page.split("#")[0].removesuffix(".md").replace(" ", "-")
        if not page:
            continue
        path = os.path.join(folder, page + ".md")
        if match.group(1) and match.group(2) and not os.path.exists(path):
            other = os.path.join(folder, match.group(1).strip().replace(" ", "-") + ".md")
            if os.path.exists(other):
                path, title = other, match.group(2).strip()
        if path not in nav:
            nav[path] = NavEntry(title, len(nav) + 1)
    return nav


def _short(error: BaseException) -> str:
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text[:160]


def load_toml(source: str) -> dict[str, Any]:
    """TOML front matter (Hugo). ValueError with the parser's words when invalid."""
    try:
        return tomllib.loads(source)
    except tomllib.TOMLDecodeError as error:
        raise ValueError(str(error)) from None
    except RecursionError:
        raise RecursionError("nested too deeply") from None
