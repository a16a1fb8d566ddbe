"""console.render progressive rendering: chunk boundaries and chunked == whole renders."""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.render import (
    RenderedRunbook,
    RunbookAssembly,
    render_progressively,
    render_runbook,
    split_runbook,
)
from tests.benchmarks.bench_render import large_runbook
from tests.unit.test_render import DECISION_TREE, assert_safe, body_of

WHOLE = 10**9  # a chunk limit no test text reaches: the whole-document render


def rendered_in_chunks(text: str, chunk_chars: int, *, dark: bool = False) -> RenderedRunbook:
    assembly = RunbookAssembly(dark=dark)
    for part in render_progressively(text, dark=dark, chunk_chars=chunk_chars):
        assembly.add(part)
    assert assembly.complete
    return assembly.result()


def chunks(text: str, limit: int = 1) -> list[str]:
    split = split_runbook(text, limit=limit)
    return [split.raw(n) for n in range(len(split))]


def between_tags(html: str) -> str:
    """``html`` with whitespace between tags squeezed: python-markdown strips each
    chunk's output, so a raw HTML block the sanitiser removes at a chunk's edge
    leaves fewer newlines there (never inside a fence: chunks do not split fences)."""
    return re.sub(r">\s+<", ">\n<", html)


def assert_same(chunked: RenderedRunbook, whole: RenderedRunbook) -> None:
    assert between_tags(chunked.html) == between_tags(whole.html)
    assert chunked.toc == whole.toc
    assert chunked.steps == whole.steps
    assert chunked.code_blocks == whole.code_blocks
    assert chunked.links == whole.links
    assert chunked.warnings == whole.warnings


# ------------------------------------------------------------------ boundaries


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("# A\n\ntext\n\n## B\n\nmore\n", ["# A\n\n", "text\n\n", "## B\n\n", "more\n"]),
        # a heading inside a fence, tilde fence, an indented fence in a list item
        (
            "intro\n\n```md\n\n## not a section\n\n```\n",
            ["intro\n\n", "```md\n\n## not a section\n\n```\n"],
        ),
        ("intro\n\n~~~~\n\n# no\n\n```\n\n~~~~\n", ["intro\n\n", "~~~~\n\n# no\n\n```\n\n~~~~\n"]),
        (
            "1. step\n\n    ```bash\n\n    ## no\n    ```\n\n## Yes\n",
            ["1. step\n\n    ```bash\n\n    ## no\n    ```\n\n", "## Yes\n"],
        ),
        # superfences: a less indented line abandons the fence, so does the end; the
        # lines it held are plain text where no chunk starts (one could open a fence)
        (
            "1. step\n\n    ```bash\n\n## h\n\n## A\n",
            ["1. step\n\n    ```bash\n\n## h\n\n", "## A\n"],
        ),
        ("a\n\n```\n\n## h\n\n~~~\nb\n~~~\n", ["a\n\n```\n\n## h\n\n~~~\nb\n~~~\n"]),
        # an HTML comment and a raw HTML block hide their headings
        (
            "a\n\n<!-- x\n\n## no\n\n-->\n\n## Yes\n",
            ["a\n\n<!-- x\n\n## no\n\n-->\n\n", "## Yes\n"],
        ),
        (
            "a\n\n<div>\n\n## no\n\n<div>\n\n</div>\n\nstill\n\n</div>\n\nout\n",
            ["a\n\n<div>\n\n## no\n\n<div>\n\n</div>\n\nstill\n\n</div>\n\n", "out\n"],
        ),
        # never inside a list, a quote, an admonition, an indented code block
        (
            "1. one\n\n2. two\n\n   more\n\n- x\n\n  y\n",
            ["1. one\n\n2. two\n\n   more\n\n- x\n\n  y\n"],
        ),
        ("> a\n\n> b\n", ["> a\n\n> b\n"]),
        (
            '!!! note "T"\n    a\n\n    b\n\nafter\n',
            ['!!! note "T"\n    a\n\n    b\n\n', "after\n"],
        ),
        ("    code\n\n    more\n", ["    code\n\n    more\n"]),
        # ### is not a section; a heading glued to a paragraph is not a boundary
        ("a\n### c\n\n#### d\n", ["a\n### c\n\n", "#### d\n"]),
        # unclosed comment / raw block: the rest is one chunk
        ("a\n\n<!--\n\n## no\n", ["a\n\n<!--\n\n## no\n"]),
        ("a\n\n<details>\n\n## no\n", ["a\n\n<details>\n\n## no\n"]),
        # a raw block line is never a boundary, but what follows its end is
        ("<!-- c -->\n\n## A\n", ["<!-- c -->\n\n", "## A\n"]),
        ("", [""]),
    ],
)
def test_boundaries_respect_fences_comments_html_and_lists(text: str, expected: list[str]) -> None:
    assert chunks(text) == expected


def test_sections_are_packed_and_preferred_over_paragraph_breaks() -> None:
    section = "## S\n\n" + "word " * 30 + "\n\nsecond paragraph\n\n"
    text = section * 6
    split = split_runbook(text, limit=len(section) * 2 + 10)
    assert len(split) == 3
    assert all(split.raw(n).startswith("## S") for n in range(len(split)))
    assert "".join(split.raw(n) for n in range(len(split))) == text
    # a section larger than the limit falls back to blank lines between paragraphs
    big = "## Big\n\n" + "".join(f"paragraph {n} text text\n\n" for n in range(40))
    split = split_runbook(big, limit=200)
    assert len(split) > 3
    assert all(len(split.raw(n)) <= 200 for n in range(len(split)))
    assert all(split.raw(n).startswith("paragraph") for n in range(1, len(split)))


def test_first_part_covers_the_first_screen_of_the_benchmark_runbook() -> None:
    text = large_runbook(200_000)
    parts = render_progressively(text)
    first = next(parts)
    assert 8_000 <= first.source_end <= 16_000
    assert first.number == 0
    assert not first.last
    assert "<h1" in first.html
    assert first.code_blocks[0].index == 0
    rest = list(parts)
    assert rest[-1].last
    assert rest[-1].source_end == len(text)
    assert [p.number for p in rest] == list(range(1, len(rest) + 1))


# ------------------------------------------------------------ chunked == whole


def test_numbering_through_chunks_equals_the_whole_render() -> None:
    text = DECISION_TREE * 3 + large_runbook(20_000)
    whole = rendered_in_chunks(text, WHOLE)
    for limit in (1, 300, 2_000):
        assert_same(rendered_in_chunks(text, limit), whole)
    assert whole == render_runbook(text)  # render_runbook is the assembled parts
    numbers = [s.number for s in whole.steps]
    assert numbers == list(range(1, len(numbers) + 1))
    assert [b.index for b in whole.code_blocks] == list(range(len(whole.code_blocks)))
    anchors = [entry.anchor for entry in whole.toc]
    assert len(set(anchors)) == len(anchors)  # "Diagnosis", "Diagnosis_1", …
    copies = re.findall(r'href="action:copy/(\d+)"', whole.html)
    assert copies == [str(n) for n in range(len(whole.code_blocks))]


def test_code_after_a_step_joins_it_across_a_paragraph_break() -> None:
    text = (
        "## Diagnosis\n\n1. Check the pool.\n\n"
        + "".join(f"Note {n}: keep calm.\n\n" for n in range(10))
        + "```bash\npsql -c 'select 1'\n```\n"
    )
    parts = list(render_progressively(text, chunk_chars=60))
    assert len(parts) > 3
    assert parts[0].steps[0].commands == ()  # not known yet when the step is shown
    chunked = rendered_in_chunks(text, 60)
    assert [c.code for c in chunked.steps[0].commands] == ["psql -c 'select 1'"]
    assert_same(chunked, rendered_in_chunks(text, WHOLE))


def test_reference_links_resolve_across_chunks() -> None:
    text = (
        "# Top\n\nSee the [dashboard][dash] and [Runbook Index].\n\n"
        + "".join(f"## Section {n}\n\ntext\n\n" for n in range(5))
        + '## Links\n\n[dash]: https://grafana.example.com/d/1 "Dashboard"\n'
        "[runbook index]: other.md\n[dash]: https://grafana.example.com/d/2\n"
    )
    chunked = rendered_in_chunks(text, 30)
    assert [(link.target, link.kind) for link in chunked.links] == [
        ("https://grafana.example.com/d/2", "web"),  # the last definition wins, as in markdown
        ("other.md", "relative"),
    ]
    assert "[dash]" not in chunked.html
    assert_same(chunked, rendered_in_chunks(text, WHOLE))


def test_reference_definitions_reach_a_last_chunk_left_open() -> None:
    # an unclosed comment runs to the end: the definitions go before it, not inside it
    text = "[x]: https://example.com/x\n\n## A\n\n[x]\n\n<!--\n## not\n[x]\n"
    split = split_runbook(text, limit=1)
    assert split.open_end
    assert split.raw(len(split) - 1) == "[x]\n\n<!--\n## not\n[x]\n"
    assert split.source(len(split) - 1).startswith("[x]: https://example.com/x\n")
    assert_same(rendered_in_chunks(text, 1), rendered_in_chunks(text, WHOLE))


@pytest.mark.parametrize(
    "snippet",
    [
        "<script>alert(1)</script>",
        "<iframe src=https://evil.example></iframe>",
        "![t](https://evil.example/t.png)",
        "[x](javascript:alert(1))",
        "<script>\nalert(1)\n\n## Inside\n\n</script>\n",
    ],
)
def test_safety_holds_in_every_part(snippet: str) -> None:
    text = "".join(f"## Section {n}\n\n{snippet}\n\n" for n in range(6))
    parts = list(render_progressively(text, chunk_chars=40))
    assert len(parts) >= 2
    for part in parts:
        assert "alert(1)" not in part.html.replace("not opened: javascript:alert(1)", "")
        assert "<script" not in part.html
        assert "<iframe" not in part.html
        assert 'src="https://evil' not in part.html
    chunked = rendered_in_chunks(text, 40)
    assert_safe(chunked)
    assert_same(chunked, rendered_in_chunks(text, WHOLE))


BLOCKS = [
    "# Title",
    "## Diagnosis",
    "## Resolution",
    "## Notes",
    "### Deeper",
    "## Diagnosis",
    "Plain paragraph with `code` and {{ .Values.x }}.",
    "1. First step\n2. Second step, go to step 1",
    "1. Step with code:\n\n    ```bash\n    ls -l\n    ```",
    "- bullet\n\n  continued",
    "```sql\nSELECT 1;\n\n## not a heading\n```",
    "~~~\n# nor this\n~~~",
    "```\nunclosed",
    "<!-- a comment\n\n## hidden\n-->",
    "<div>\n\n## raw\n\n</div>",
    "<details><summary>More</summary>\n\n<b>bold</b>\n\n</details>",
    '!!! warning "Careful"\n    body\n\n    more body',
    "> quote\n\n> more quote",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "[ref link][r1] and [r2]",
    "[r1]: https://example.com/r1",
    '[r2]: other.md "Other"',
    "<script>alert(1)</script>",
    "[js](javascript:alert(1)) ![img](https://evil.example/i.png)",
    "    indented code\n\n    more",
    "Para\n## glued heading",
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.sampled_from(BLOCKS), min_size=1, max_size=14),
    st.sampled_from(["\n\n", "\n", "\n\n\n"]),
    st.integers(min_value=1, max_value=120),
)
def test_any_chunking_renders_like_the_whole_document(
    blocks: list[str], separator: str, limit: int
) -> None:
    text = separator.join(blocks) + "\n"
    split = split_runbook(text, limit=limit)
    assert "".join(split.raw(n) for n in range(len(split))) == text
    for cut in split.cuts[1:-1]:
        assert text[cut - 1] == "\n"  # whole lines only
    assert_same(rendered_in_chunks(text, limit), rendered_in_chunks(text, WHOLE))


def test_parts_carry_their_anchors_and_progress() -> None:
    text = DECISION_TREE
    parts = list(render_progressively(text, chunk_chars=200))
    assert [round(p.progress, 3) for p in parts][-1] == 1.0
    assert all(a.progress < b.progress for a, b in itertools.pairwise(parts))
    anchors = frozenset().union(*(p.anchors() for p in parts))
    assert {"diagnosis", "step-1", "step-7", "code-0", "code-4"} <= anchors
    names = set(re.findall(r'name="([^"]+)"', "".join(p.html for p in parts)))
    assert anchors <= names
    assert body_of(rendered_in_chunks(text, 200)).tags("script") == []


def test_render_cache_is_a_bounded_lru_keyed_by_content_and_theme() -> None:
    from console.render import RenderCache, render_key

    cache = RenderCache(entries=2)
    texts = ["# a\n", "# b\n", "# c\n"]
    renders = {text: render_runbook(text) for text in texts}
    assert render_key("# a\n", False) != render_key("# a\n", True)
    cache.put(render_key(texts[0], False), renders[texts[0]])
    cache.put(render_key(texts[1], False), renders[texts[1]])
    assert cache.get(render_key(texts[0], False)) is renders[texts[0]]  # now the newest
    cache.put(render_key(texts[2], False), renders[texts[2]])
    assert len(cache) == 2
    assert cache.get(render_key(texts[1], False)) is None  # the least recently used went
    assert cache.get(render_key(texts[0], True)) is None


def test_placeholders_after_an_unclosed_fence_are_protected_in_whole_and_in_parts() -> None:
    """Found by the property test: a fence nothing closes is text (superfences), so a
    placeholder after it is shown as a template whether the document is cut or not."""
    from console.render.markdown import protect_templates

    text = (
        "```\nunclosed\n\n1. Step with code:\n\n    ```bash\n    ls -l\n    ```\n\n"
        "```\nunclosed\n\nPlain paragraph with `code` and {{ .Values.x }}.\n\n"
        "1. Step with code:\n\n    ```bash\n    ls -l\n    ```"
    )
    templates: list[str] = []
    protected = protect_templates(text, templates)
    assert templates == ["{{ .Values.x }}"]
    assert "{{" not in protected
    whole = render_runbook(text).html
    assert '<code class="template">{{ .Values.x }}</code>' in whole
