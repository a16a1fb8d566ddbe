"""console.render: safe runbook rendering (core only, no Qt)."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.render import RenderedRunbook, classify_url, render_runbook
from tests import shared

UNSAFE_ELEMENTS = {"script", "iframe", "object", "embed", "form", "input", "link", "meta", "base"}
UNSAFE_ELEMENTS |= {"svg", "math", "frame", "frameset", "video", "audio", "source", "style"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]


@dataclass
class Parsed(HTMLParser):
    elements: list[Element] = field(default_factory=list)
    text: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append(Element(tag, {name: value or "" for name, value in attrs}))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def tags(self, tag: str) -> list[Element]:
        return [element for element in self.elements if element.tag == tag]


def parse(html: str) -> Parsed:
    parsed = Parsed()
    parsed.feed(html)
    parsed.close()
    return parsed


def body_of(rendered: RenderedRunbook) -> Parsed:
    """The body only: the <style> in <head> is the renderer's own stylesheet."""
    return parse(rendered.html.split('<body class="runbook">', 1)[1])


def assert_safe(rendered: RenderedRunbook) -> None:
    parsed = body_of(rendered)
    assert parsed.tags("html") == []
    assert parsed.tags("head") == []
    for element in parsed.elements:
        assert element.tag not in UNSAFE_ELEMENTS, element
        for name, value in element.attrs.items():
            assert not name.startswith("on"), element
            assert name not in ("style", "srcset", "background", "formaction"), element
            if name in ("href", "src"):
                kind, _ = classify_url(value)
                if name == "href":
                    assert kind in ("web", "mail", "tel", "anchor", "relative") or (
                        value.startswith("action:copy/")
                    ), element
                else:
                    assert kind == "relative" or value.lower().startswith("data:image/"), element
    document = parse(rendered.html)
    assert [element.tag for element in document.tags("style")] == ["style"]
    assert document.tags("script") == []


# ------------------------------------------------------------------ safety


def test_script_iframe_remote_image_and_javascript_link_do_nothing() -> None:
    rendered = render_runbook(
        "# T\n\n<script>alert('x')</script>\n\n"
        '<iframe src="https://evil.example/frame"></iframe>\n\n'
        'Look: <img src="https://evil.example/pixel.png" alt="tracker">\n\n'
        "[click](javascript:alert(1))\n"
    )
    assert_safe(rendered)
    parsed = body_of(rendered)
    assert parsed.tags("script") == []
    assert parsed.tags("iframe") == []
    assert parsed.tags("img") == []
    assert "alert('x')" not in rendered.html
    text = "".join(parsed.text)
    assert "[image: tracker — remote image not loaded: https://evil.example/pixel.png]" in text
    assert all("javascript" not in a.attrs.get("href", "") for a in parsed.tags("a"))
    warnings = "\n".join(rendered.warnings)
    assert "removed <script>" in warnings
    assert "removed <iframe>" in warnings
    assert "blocked remote image https://evil.example/pixel.png" in warnings
    assert "blocked link javascript:alert(1)" in warnings
    assert [(link.target, link.kind) for link in rendered.links] == [
        ("javascript:alert(1)", "blocked")
    ]


@pytest.mark.parametrize(
    ("snippet", "warning"),
    [
        ('<a href="JaVaScRiPt:alert(1)">x</a>', "blocked link JaVaScRiPt:alert(1)"),
        ("<img src=x onerror=alert(1)>", "removed event handler onerror on <img>"),
        ("<svg onload=alert(1)><circle r=1 /></svg>", "removed <svg>"),
        ('<a href="javascript&#58;alert(1)">x</a>', "blocked link javascript:alert(1)"),
        ('<a href="&#106;avascript:alert(1)">x</a>', "blocked link javascript:alert(1)"),
        ('<a href=" javascript:alert(1)">x</a>', "blocked link javascript:alert(1)"),
        ('<a href="java\tscript:alert(1)">x</a>', "blocked link java"),
        ('<a href="vbscript:msgbox(1)">x</a>', "blocked link vbscript:msgbox(1)"),
        ('<a href="data:text/html,<script>alert(1)</script>">x</a>', "blocked link data:"),
        ('<img src="data:text/html;base64,PHNjcmlwdD4=">', "blocked image data:text/html"),
        ('<a href="file:///etc/passwd">x</a>', "blocked link file:///etc/passwd"),
        ('<a href="//evil.example/x">x</a>', "blocked link //evil.example/x"),
        ('<img src="//evil.example/x.png">', "blocked remote image //evil.example/x.png"),
        ('<p style="background: url(https://evil.example/x)">x</p>', "removed style with url()"),
        ('<div onclick="alert(1)">x</div>', "removed event handler onclick on <div>"),
        ("<object data=x.swf></object><embed src=x.swf>", "removed <object>"),
        ('<form action="https://evil.example"><input name=q></form>', "removed <form>"),
        ('<link rel=stylesheet href="https://evil.example/x.css">', "removed <link>"),
        ('<meta http-equiv="refresh" content="0;url=https://evil.example">', "removed <meta>"),
        ('<base href="https://evil.example/">', "removed <base>"),
        ("<style>body{background:url(https://evil.example)}</style>", "removed <style>"),
        ("<math><mi xlink:href=javascript:alert(1)>x</mi></math>", "removed <math>"),
        ("[x](javascript:alert(1))", "blocked link javascript:alert(1)"),
        ("![x](javascript:alert(1))", "blocked image javascript:alert(1)"),
        ("<https://example.com/ok>", None),
    ],
)
def test_attribute_and_scheme_tricks_are_neutralised(snippet: str, warning: str | None) -> None:
    rendered = render_runbook(f"Intro\n\n{snippet}\n\nafter\n")
    assert_safe(rendered)
    assert "alert(1)" not in "".join(
        value
        for element in body_of(rendered).elements
        for value in element.attrs.values()
        if not value.startswith("not opened:")
    )
    if warning is not None:
        assert any(w.startswith(warning) for w in rendered.warnings), rendered.warnings
    assert "after" in rendered.html


def test_png_data_image_kept_and_unknown_tags_shown_as_text() -> None:
    pixel = "data:image/png;base64,iVBORw0KGgo="
    rendered = render_runbook(f"![dot]({pixel})\n\nssh to <hostname> and run it\n")
    assert [img.attrs["src"] for img in body_of(rendered).tags("img")] == [pixel]
    assert "ssh to &lt;hostname&gt; and run it" in rendered.html


def test_links_are_marked_and_listed() -> None:
    rendered = render_runbook(
        "[docs](https://example.com/a?b=1&c=2) [mail](mailto:oncall@example.com) "
        "[call](tel:+441234) [here](#diagnosis) [other](other-runbook.md) "
        "[ftp](ftp://example.com/x) [app](slack://open)\n"
    )
    assert_safe(rendered)
    kinds = [(link.target, link.kind) for link in rendered.links]
    assert kinds == [
        ("https://example.com/a?b=1&c=2", "web"),
        ("mailto:oncall@example.com", "mail"),
        ("tel:+441234", "tel"),
        ("#diagnosis", "anchor"),
        ("other-runbook.md", "relative"),
        ("ftp://example.com/x", "blocked"),
        ("slack://open", "blocked"),
    ]
    anchors = body_of(rendered).tags("a")
    external = [a for a in anchors if "external" in a.attrs.get("class", "")]
    assert [a.attrs["title"] for a in external] == [
        "https://example.com/a?b=1&c=2",
        "mailto:oncall@example.com",
        "tel:+441234",
    ]
    assert "docs ↗</a>" in rendered.html
    assert 'title="not opened: slack://open"' in rendered.html
    assert "blocked link ftp://example.com/x" in rendered.warnings


def test_local_relative_image_kept() -> None:
    rendered = render_runbook("![diagram](img/pool.png)\n")
    assert [img.attrs for img in body_of(rendered).tags("img")] == [
        {"alt": "diagram", "src": "img/pool.png"}
    ]
    assert rendered.warnings == ()


def test_authored_html_cannot_forge_renderer_anchors_or_copy_links() -> None:
    rendered = render_runbook(
        '<a name="step-1" href="action:copy/0">copy</a> <span id="code-0">x</span>\n'
    )
    parsed = body_of(rendered)
    assert all(
        element.attrs.get("name") != "step-1" and element.attrs.get("id") != "code-0"
        for element in parsed.elements
    )
    assert 'href="action:copy' not in rendered.html
    assert "blocked link action:copy/0" in rendered.warnings


def test_allowed_formatting_html_survives() -> None:
    rendered = render_runbook(
        "<details><summary>More</summary>\n\n<b>bold</b> <kbd>Ctrl</kbd> "
        "<sup>1</sup>\n\n</details>\n"
    )
    assert_safe(rendered)
    for tag in ("b", "kbd", "sup"):
        assert body_of(rendered).tags(tag), tag


def test_unclosed_fence_and_unclosed_script_do_not_crash() -> None:
    rendered = render_runbook("# T\n\n```bash\nkubectl get pods\n")
    assert "kubectl get pods" in rendered.html
    rendered = render_runbook("before\n\n<script>alert(1)\n\nafter\n")
    assert_safe(rendered)
    assert "alert(1)" not in rendered.html


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.sampled_from(
            [
                *list("<>/=\"' \n\t#*-_`~[]()!:&;{}%.|1aAjsvcript"),
                "<script>",
                "</script>",
                "javascript:",
                "<img src=",
                "onerror=",
                "```",
                "!!! ",
                "\ue000",
                "\ue002",
                "\x02",
                "{{<",
                ">}}",
                "<svg",
                "<iframe",
                "1. ",
                "## ",
            ]
        ),
        max_size=120,
    ).map("".join)
)
def test_arbitrary_text_never_raises_nor_yields_script(text: str) -> None:
    rendered = render_runbook(text)
    parsed = body_of(rendered)
    assert parsed.tags("script") == []
    assert parsed.tags("iframe") == []
    assert_safe(rendered)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_any_unicode_text_renders(text: str) -> None:
    assert_safe(render_runbook(text))


# -------------------------------------------------------------- formatting


def test_admonitions_become_tables() -> None:
    rendered = render_runbook(
        '!!! warning "Check the replica first"\n    Failover **loses** writes.\n\n'
        '??? note\n    Collapsible details.\n\n???+ tip "Open"\n    Shown.\n'
    )
    assert_safe(rendered)
    tables = body_of(rendered).tags("table")
    assert [t.attrs["class"] for t in tables] == [
        "admonition warning",
        "admonition note",
        "admonition tip",
    ]
    assert all(t.attrs.get("bgcolor", "").startswith("#") for t in tables)
    assert "Check the replica first" in rendered.html
    assert "<strong>loses</strong>" in rendered.html
    assert "Collapsible details." in rendered.html
    assert "div" not in {element.tag for element in body_of(rendered).elements}


def test_tables() -> None:
    rendered = render_runbook("| Metric | Limit |\n|:--|--:|\n| conns | 100 |\n")
    parsed = body_of(rendered)
    assert parsed.tags("table")[0].attrs["class"] == "grid"
    assert [th.attrs.get("align") for th in parsed.tags("th")] == ["left", "right"]
    assert [td.attrs.get("align") for td in parsed.tags("td")] == ["left", "right"]


def test_fenced_code_is_highlighted_indexed_and_copyable() -> None:
    rendered = render_runbook(
        "Intro\n\n```python\nprint('<b>hi</b>')\n```\n\n~~~\nplain < text\n~~~\n"
    )
    assert_safe(rendered)
    assert [(b.index, b.language, b.code) for b in rendered.code_blocks] == [
        (0, "python", "print('<b>hi</b>')"),
        (1, "", "plain < text"),
    ]
    parsed = body_of(rendered)
    assert parsed.tags("b") == []  # code is escaped, not markup
    assert any(span.attrs.get("class") == "nb" for span in parsed.tags("span"))  # print
    assert "&lt;b&gt;hi&lt;/b&gt;" in rendered.html
    assert "plain &lt; text" in rendered.html
    names = [a.attrs["name"] for a in parsed.tags("a") if "name" in a.attrs]
    assert names == ["code-0", "code-1"]
    copies = [a.attrs["href"] for a in parsed.tags("a") if "href" in a.attrs]
    assert copies == ["action:copy/0", "action:copy/1"]
    assert rendered.links == ()  # copy actions are not links


def test_dark_variant_uses_dark_colours() -> None:
    light = render_runbook("```sh\nls\n```\n")
    dark = render_runbook("```sh\nls\n```\n", dark=True)
    assert "background-color: #ffffff" in light.html
    assert "background-color: #0d1117" in dark.html
    assert 'bgcolor="#161b22"' in dark.html
    for html in (light.html, dark.html):
        style = html.split("<style>", 1)[1].split("</style>", 1)[0]
        assert "flex" not in style
        assert "grid-template" not in style
        assert "url(" not in style


def test_toc_and_heading_anchors() -> None:
    rendered = render_runbook(
        "# Pool exhausted\n\n## Diagnosis\n\n### Check `pg_stat_activity`\n\n## Step 1\n"
    )
    assert [tuple(entry) for entry in rendered.toc] == [
        (1, "Pool exhausted", "pool-exhausted"),
        (2, "Diagnosis", "diagnosis"),
        (3, "Check pg_stat_activity", "check-pg_stat_activity"),
        (2, "Step 1", "section-step-1"),  # never collides with the step-N anchors
    ]
    parsed = body_of(rendered)
    for _level, _title, anchor in rendered.toc:
        assert any(element.attrs.get("id") == anchor for element in parsed.elements)
        assert any(a.attrs.get("name") == anchor for a in parsed.tags("a"))


def test_template_placeholders_are_preserved_verbatim() -> None:
    source = (
        'See {{< ref "db-failover.md" >}} and {{% notice info %}}.\n\n'
        'Set {{ .Values.max_conn_per_pod }} then {% include "common/escalate.md" %} '
        "and {# note #}; `{{ .Values.inline }}` stays code.\n\n"
        "```yaml\nreplicas: {{ .Values.replicas }}\n```\n\n"
        "## {{ .Release.Name }} health\n"
    )
    rendered = render_runbook(source)
    assert_safe(rendered)
    codes = [c for c in body_of(rendered).tags("code") if c.attrs.get("class") == "template"]
    assert len(codes) == 6
    html = rendered.html
    for literal in (
        '{{&lt; ref "db-failover.md" &gt;}}',
        "{{% notice info %}}",
        "{{ .Values.max_conn_per_pod }}",  # underscores not turned into emphasis
        '{% include "common/escalate.md" %}',
        "{# note #}",
        "<code>{{ .Values.inline }}</code>",
    ):
        assert literal in html, literal
    assert rendered.code_blocks[0].code == "replicas: {{ .Values.replicas }}"
    assert rendered.toc[0].title == "{{ .Release.Name }} health"
    assert "<em>" not in html
    assert "\ue000" not in html


def test_template_in_link_target_is_not_followed() -> None:
    rendered = render_runbook('[failover]({{< ref "db-failover.md" >}})\n')
    assert_safe(rendered)
    assert [(link.target, link.kind) for link in rendered.links] == [
        ('{{< ref "db-failover.md" >}}', "template")
    ]
    assert body_of(rendered).tags("a") == []


# ------------------------------------------------------------------ steps

DECISION_TREE = """\
# Database connection pool exhausted

## Symptoms

1. Not a step: symptoms are not followed.

## Diagnosis

1. Count the connections:

    ```sql
    SELECT count(*) FROM pg_stat_activity;
    ```

2. If the count is above 90% of `max_connections`, go to step 4.
3. If it is below, go to step 6.

### Deeper

1. Check the pooler:

    ```bash
    kubectl -n data logs deploy/pgbouncer --tail=50
    ```

    - If it restarts, go to step 6.

## RESOLUTION

1. Restart the noisy client:
   ```bash
   kubectl -n shop rollout restart deploy/orders-api
   ```
2. Confirm the count drops.

## Rollback

1. Scale the pooler back:

    ```bash
    kubectl -n data scale deploy/pgbouncer --replicas=2
    ```

## Escalation

1. Page the data team (not a step).

```text
free-standing block
```
"""


def test_steps_are_numbered_across_sections() -> None:
    rendered = render_runbook(DECISION_TREE)
    assert_safe(rendered)
    assert [(s.number, s.section) for s in rendered.steps] == [
        (1, "Diagnosis"),
        (2, "Diagnosis"),
        (3, "Diagnosis"),
        (4, "Diagnosis"),
        (5, "RESOLUTION"),
        (6, "RESOLUTION"),
        (7, "Rollback"),
    ]
    assert rendered.steps[1].text == ("If the count is above 90% of max_connections, go to step 4.")
    assert rendered.steps[3].text == "Check the pooler: If it restarts, go to step 6."
    parsed = body_of(rendered)
    assert [li.attrs["id"] for li in parsed.tags("li") if "id" in li.attrs] == [
        f"step-{n}" for n in range(1, 8)
    ]
    assert [ol.attrs.get("start") for ol in parsed.tags("ol")] == [None, "1", "4", "5", "7", None]


def test_code_blocks_link_to_their_steps() -> None:
    rendered = render_runbook(DECISION_TREE)
    assert [(b.index, b.step) for b in rendered.code_blocks] == [
        (0, 1),
        (1, 4),
        (2, 5),
        (3, 7),
        (4, None),
    ]
    by_step = {s.number: [c.code for c in s.commands] for s in rendered.steps}
    assert by_step == {
        1: ["SELECT count(*) FROM pg_stat_activity;"],
        2: [],
        3: [],
        4: ["kubectl -n data logs deploy/pgbouncer --tail=50"],
        5: ["kubectl -n shop rollout restart deploy/orders-api"],
        6: [],
        7: ["kubectl -n data scale deploy/pgbouncer --replicas=2"],
    }
    assert rendered.code_blocks[4].code == "free-standing block"


def test_no_step_sections_means_no_steps() -> None:
    rendered = render_runbook("# Notes\n\n1. one\n2. two\n")
    assert rendered.steps == ()


# ------------------------------------------------------------------ corpus


@shared.needs(shared.CORPUS, what="the runbook corpus")
def test_corpus_runbooks_render_safely() -> None:
    folder = shared.CORPUS
    files = sorted(folder.rglob("*.md"))
    if not files:
        pytest.skip(f"the corpus at {folder} has no .md files")
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        try:
            rendered = render_runbook(text)
            assert_safe(rendered)
        except Exception as error:
            raise AssertionError(f"{path}: {error}") from error


def test_code_written_after_a_step_belongs_to_that_step() -> None:
    # The plain-Markdown layout of runbooks/: the command follows the step's list
    # item instead of being indented inside it.
    text = (
        "## Diagnosis\n\n"
        "1. Check the pool.\n\n"
        "```bash\npsql -c 'select 1'\n```\n\n"
        "Expected: one row.\n\n"
        "2. Check the disk.\n\n"
        "```bash\ndf -h\n```\n\n"
        "## Escalation\n\n"
        "```text\nnot a step command\n```\n"
    )
    rendered = render_runbook(text)
    assert [s.number for s in rendered.steps] == [1, 2]
    assert [c.code.strip() for c in rendered.steps[0].commands] == ["psql -c 'select 1'"]
    assert [c.code.strip() for c in rendered.steps[1].commands] == ["df -h"]
    assert [b.step for b in rendered.code_blocks] == [1, 2, None]


def test_step_text_is_plain_text() -> None:
    rendered = render_runbook("## Resolution\n\n1. Kill it (replace `<pid>`) & wait.\n")
    assert rendered.steps[0].text == "Kill it (replace <pid>) & wait."
