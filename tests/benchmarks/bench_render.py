"""Runbook rendering benchmark: the first screen of a 1 MB runbook, progressively rendered."""

from __future__ import annotations

import time

import markdown

from console.render import RenderedPart, render_progressively, render_runbook, split_runbook
from tests.benchmarks.fixtures import BenchResult, Target, log, median, quick_mode, time_ms

#: One section of a realistic runbook (~2.3 KB): steps with nested fences, a table,
#: an admonition, links, raw HTML and template placeholders.
SECTION = """\
## Diagnosis {n}

!!! warning "Check the replica before failing over"
    A failover with replication lag **loses** committed writes.

1. Count the connections on `postgres-main` (limit {{{{ .Values.max_connections }}}}):

    ```sql
    SELECT datname, count(*) FROM pg_stat_activity GROUP BY datname ORDER BY 2 DESC;
    ```

2. If the count is above 90% of `max_connections`, go to step {n}.
3. Check the pooler logs for `server_login_retry`:

    ```bash
    kubectl -n data logs deploy/pgbouncer --tail=200 | grep -c server_login_retry
    ```

| Metric | Normal | Alert |
|:--|--:|--:|
| connections | 120 | 450 |
| p99 latency | 40 ms | 900 ms |

See the [dashboard](https://grafana.example.com/d/pg?var-db=main&from=now-1h) and
{{{{< ref "db-failover.md" >}}}}; ask in <b>#data-oncall</b> or [page](mailto:data@example.com).

## Resolution {n}

1. Restart the noisy client:

    ```bash
    kubectl -n shop rollout restart deploy/orders-api
    kubectl -n shop rollout status deploy/orders-api --timeout=5m
    ```

2. Raise the pool size temporarily:

    ```yaml
    pgbouncer:
      default_pool_size: 40   # was 20
      max_client_conn: 2000
    ```

3. Confirm the error rate drops below 1% within 10 minutes; otherwise escalate to the
   data team with the output of steps above. Replace <hostname> with the primary.

"""

FULL_BYTES = 1_000_000
QUICK_BYTES = 20_000


def large_runbook(size: int) -> str:
    """A deterministic runbook of about ``size`` characters."""
    parts = ["# Database connection pool exhausted\n\n"]
    total = sum(map(len, parts))
    n = 0
    while total < size:
        n += 1
        section = SECTION.format(n=n)
        parts.append(section)
        total += len(section)
    return "".join(parts)


def first_part_ms(text: str) -> tuple[float, RenderedPart]:
    """Time to the first renderable part (the first screen) of ``text``."""
    start = time.perf_counter()
    first = next(iter(render_progressively(text)))
    return (time.perf_counter() - start) * 1000.0, first


def render_large() -> BenchResult:
    """value: median ms to the first renderable part (the first screen) of a 1 MB
    runbook from ``render_progressively``; floor: plain ``markdown.markdown`` (no
    extensions, no sanitising) of the whole text, as before, so the ratio stays honest.
    detail: the full render (``render_runbook``), the number of parts, the first
    part's size."""
    quick = quick_mode()
    text = large_runbook(QUICK_BYTES if quick else FULL_BYTES)
    runs = 3 if quick else 5
    rendered = render_runbook(text)  # warm-up: imports, lexers, regex caches
    markdown.markdown(text)
    values: list[float] = []
    floors: list[float] = []
    fulls: list[float] = []
    first: RenderedPart | None = None
    for _ in range(runs):  # interleaved so all see the same machine state
        floors.append(time_ms(lambda: markdown.markdown(text)))
        value, first = first_part_ms(text)
        values.append(value)
        fulls.append(time_ms(lambda: render_runbook(text)))
        log.info(
            "render_large: floor %.1f ms, first part %.1f ms, full %.1f ms",
            floors[-1],
            values[-1],
            fulls[-1],
        )
    assert first is not None
    return BenchResult(
        name="render_large",
        value=median(values),
        unit="ms",
        floor=median(floors),
        target=Target("value", 150.0),
        samples=runs,
        detail={
            "input_chars": len(text),
            "output_chars": len(rendered.html),
            "parts": len(split_runbook(text)),
            "first_part_source_chars": first.source_end,
            "first_part_html_chars": len(first.html),
            "full_render_ms": round(median(fulls), 1),
            "steps": len(rendered.steps),
            "code_blocks": len(rendered.code_blocks),
            "links": len(rendered.links),
            "value_runs_ms": [round(v, 2) for v in values],
            "full_runs_ms": [round(f, 2) for f in fulls],
            "floor_runs_ms": [round(f, 2) for f in floors],
        },
    )
