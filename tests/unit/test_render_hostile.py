"""Unclosed script-like elements in runbook prose (issue 14, item 8).

An unclosed ``<script>``, ``<iframe>``, ``<textarea>`` (and the other elements
whose content a parser reads as raw text) erased the rest of the runbook — its
steps and code blocks — from the view; the only sign was "removed <iframe>".
Now the element goes (with its content up to its paragraph's end) and
everything after it is rendered.
"""

from __future__ import annotations

import re

import pytest

from console.render.markdown import PAGE_TAIL, page_head, render_progressively, render_runbook
from console.render.sanitize import neutralise_raw_html

DANGEROUS = ["script", "iframe", "textarea", "style", "title", "noscript", "xmp", "plaintext"]

AFTER = """

## Resolution

1. Restart the api

   ```bash
   systemctl restart api
   ```

2. Check `curl -fsS https://api.example/health`

```sql
SELECT 1;
```

Final words.
"""


def layouts(tag: str) -> dict[str, str]:
    return {
        "inline": f"# T\n\nSome prose <{tag}> here and more.{AFTER}",
        "block": f"# T\n\nBefore.\n\n<{tag}>\nhidden{AFTER}",
        "attributes, upper case": f'# T\n\nBefore.\n\n<{tag.upper()} src="x" class=y>{AFTER}',
        "tag cut at the line end": f"# T\n\nBefore <{tag} src=\n'x'{AFTER}",
    }


def assert_everything_after_is_there(html: str) -> None:
    assert 'id="step-1"' in html
    assert 'id="step-2"' in html
    assert 'name="code-0"' in html
    assert 'name="code-1"' in html
    assert "systemctl" in html
    assert "SELECT" in html
    assert "Final words." in html


@pytest.mark.parametrize("tag", DANGEROUS)
@pytest.mark.parametrize(
    "layout", ["inline", "block", "attributes, upper case", "tag cut at the line end"]
)
def test_an_unclosed_element_leaves_the_rest_of_the_runbook(tag: str, layout: str) -> None:
    text = layouts(tag)[layout]
    rendered = render_runbook(text)
    body = rendered.html.split("<body", 1)[1]
    assert_everything_after_is_there(body)
    assert re.search(rf"<{tag}\b", body, re.IGNORECASE) is None
    assert [step.number for step in rendered.steps] == [1, 2]
    assert [block.code for block in rendered.steps[0].commands] == ["systemctl restart api"]
    assert len(rendered.code_blocks) == 2
    assert f"removed <{tag}>" in rendered.warnings
    assert "Before" in body or "Some prose" in body  # the text before it stays
    assert "hidden" not in body  # the element's own content (its paragraph) goes


@pytest.mark.parametrize("tag", DANGEROUS)
def test_every_part_of_a_progressive_render_has_what_the_whole_has(tag: str) -> None:
    text = layouts(tag)["block"] + "".join(f"\n## Section {n}\n\nText {n}.\n" for n in range(30))
    parts = list(render_progressively(text, chunk_chars=200))
    assert len(parts) > 3  # the unclosed element no longer makes the rest one chunk
    html = "".join(part.html for part in parts)
    assert_everything_after_is_there(html)
    assert "Text 29." in html
    assert f"removed <{tag}>" in parts[0].warnings
    assert page_head(dark=False) + html + PAGE_TAIL == render_runbook(text).html


def test_closed_elements_go_with_their_content_and_code_keeps_them() -> None:
    text = (
        "Intro <script>alert(1)</script> middle <iframe src=x>fallback</iframe> end.\n\n"
        "Use `<script>` tags sparingly.\n\n"
        "```html\n<script>\nconsole.log(1)\n</script>\n```\n\n"
        "After </textarea> a stray end tag.\n\n"
        "A template: {{ <script> }} stays as written.\n"
    )
    rendered = render_runbook(text)
    body = rendered.html.split("<body", 1)[1]
    assert "Intro" in body
    assert "middle" in body
    assert "end." in body
    assert "alert(1)" not in body
    assert "fallback" not in body
    assert "<iframe" not in body
    assert "&lt;script&gt;" in body  # the code span, shown as written
    assert "console" in body  # the fenced block untouched
    assert [block.code for block in rendered.code_blocks] == ["<script>\nconsole.log(1)\n</script>"]
    assert "After" in body
    assert "a stray end tag." in body
    assert "textarea" not in body
    assert '<code class="template">{{ &lt;script&gt; }}</code> stays as written.' in body


def test_unclosed_comments_do_not_hide_the_rest() -> None:
    for opening in ("Some prose <!-- never closed.", "<!-- never closed"):
        rendered = render_runbook(f"# T\n\n{opening}{AFTER}")
        assert_everything_after_is_there(rendered.html)


def test_a_runbook_without_such_elements_is_left_as_it_is() -> None:
    text = "# T\n\n<kbd>Ctrl</kbd> and <b>bold</b> and a <hostname>.\n" + AFTER
    assert neutralise_raw_html(text) == (text, [])
