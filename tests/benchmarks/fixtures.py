"""Shared benchmark helpers: results, timing, statistics and fixture builders.

Everything here is Qt-free so the core benchmarks (and later benchmarks that
reuse :func:`build_large_incident`) never pay for importing PySide6.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import math
import os
import random
import re
import shutil
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from console.domain.incident import EntryKind, Severity
from console.domain.runbook import RunbookError
from console.importers.runbooks import FOLDER_NOTES, SUFFIXES, import_runbooks, parse_runbook
from console.ops.workspace import Workspace
from console.paths import database_path
from console.storage.db import Database, open_database
from console.storage.models import TIMESTAMP_FORMAT
from tests import shared

log = logging.getLogger("tests.benchmarks")

#: RESPONDER_CONSOLE_BENCH_QUICK=1 shrinks every benchmark (smoke test, CI).
QUICK_ENV = "RESPONDER_CONSOLE_BENCH_QUICK"
BENCH_ACTOR = "bench"


def quick_mode() -> bool:
    return os.environ.get(QUICK_ENV, "").strip() not in ("", "0")


# ------------------------------------------------------------------ results


@dataclass(frozen=True)
class Target:
    """What "good enough" means: ``metric`` (``"ratio"`` or ``"value"``) must be ≤ ``max``."""

    metric: str
    max: float

    def met_by(self, value: float | None, ratio: float | None) -> bool:
        measured = ratio if self.metric == "ratio" else value
        return measured is not None and measured <= self.max

    def as_json(self) -> dict[str, Any]:
        return {"metric": self.metric, "max": self.max}


@dataclass(frozen=True)
class BenchResult:
    """One JSON line: name, value, unit, floor, ratio (+ target, samples, detail)."""

    name: str
    value: float | None
    unit: str
    floor: float | None
    target: Target | None = None
    samples: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.value is None or self.floor is None or self.floor <= 0:
            return None
        return self.value / self.floor

    def as_json(self) -> dict[str, Any]:
        ratio = self.ratio
        line: dict[str, Any] = {
            "name": self.name,
            "value": _round(self.value),
            "unit": self.unit,
            "floor": _round(self.floor),
            "ratio": _round(ratio),
        }
        if self.target is not None:
            line["target"] = self.target.as_json()
            line["meets_target"] = self.target.met_by(self.value, ratio)
        if self.samples is not None:
            line["samples"] = self.samples
        if self.detail:
            line["detail"] = self.detail
        return line


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


# ------------------------------------------------------------ timing, stats


def now_ms() -> float:
    """A monotonic clock in milliseconds (perf_counter)."""
    return time.perf_counter_ns() / 1e6


@contextlib.contextmanager
def stopwatch() -> Iterator[list[float]]:
    """``with stopwatch() as elapsed: ...`` then ``elapsed[0]`` is the time in ms."""
    elapsed: list[float] = []
    start = time.perf_counter_ns()
    try:
        yield elapsed
    finally:
        elapsed.append((time.perf_counter_ns() - start) / 1e6)


def time_ms(fn: Callable[[], object]) -> float:
    start = time.perf_counter_ns()
    fn()
    return (time.perf_counter_ns() - start) / 1e6


def percentile(samples: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100), linear interpolation between ranks (numpy's default)."""
    if not samples:
        raise ValueError("percentile of no samples")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is not within 0..100")
    ordered = sorted(samples)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(samples: Sequence[float]) -> float:
    return percentile(samples, 50)


def summary(samples: Sequence[float]) -> dict[str, float]:
    """min / p50 / p90 / p99 / max of ``samples``, rounded for the JSON detail."""
    return {
        "min": round(min(samples), 4),
        "p50": round(percentile(samples, 50), 4),
        "p90": round(percentile(samples, 90), 4),
        "p99": round(percentile(samples, 99), 4),
        "max": round(max(samples), 4),
    }


# -------------------------------------------------------------- temp folders


@contextlib.contextmanager
def temp_folder(prefix: str = "rc-bench-") -> Iterator[Path]:
    """A private temp folder, removed afterwards (set RESPONDER_CONSOLE_BENCH_KEEP=1 to keep)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield folder
    finally:
        if os.environ.get("RESPONDER_CONSOLE_BENCH_KEEP"):
            log.info("kept %s", folder)
        else:
            shutil.rmtree(folder, ignore_errors=True)


# ---------------------------------------------------------- fixture builders


@dataclass(frozen=True)
class LargeIncident:
    folder: Path
    incident_id: int
    entries: int


def entry_text(seq: int) -> str:
    """A realistic note of 80-200 characters (deterministic per seq)."""
    base = (
        f"#{seq}: checked payments-gateway p99 latency and error budget; "
        "PSP status page green, retry storm from checkout-api suspected"
    )
    return base + " ." * (seq % 30)


def format_ts(value: datetime) -> str:
    """Exactly what ``UTCDateTime`` stores: fixed-width ISO-8601 UTC text."""
    return value.astimezone(UTC).strftime(TIMESTAMP_FORMAT)


def build_large_incident(
    folder: Path,
    n: int,
    *,
    title: str = "Benchmark: 100k-entry incident",
    declared_ago: timedelta = timedelta(minutes=30),
    batch: int = 20_000,
) -> LargeIncident:
    """Add an ACTIVE incident with ``n`` timeline entries (seq 1..n) to the workspace in ``folder``.

    The folder may be empty (the database is created and migrated) or hold a
    workspace already (e.g. the demo one). The incident is declared through
    :class:`~console.ops.incidents.IncidentService` (so it has its declared
    entry as seq 1, its outbox row and checklist exactly as the app writes
    them), then entries 2..n are bulk-inserted with raw ``sqlite3``
    ``executemany`` in the storage format SQLAlchemy uses (UUIDs as 32 hex
    characters, timestamps as ``TIMESTAMP_FORMAT`` text, ``data`` as JSON),
    and ``last_seq`` is set to ``n``. With the default ``declared_ago`` (30
    minutes) it is the most recently declared incident of the demo workspace.
    """
    if n < 1:
        raise ValueError("an incident has at least its declared entry")
    declared_at = datetime.now(UTC) - declared_ago
    workspace = Workspace.open(folder, actor=BENCH_ACTOR)
    try:
        outcome = workspace.incidents.declare(title, Severity.SEV2, declared_at=declared_at)
        assert outcome.incident is not None
        incident_id = outcome.incident.id
    finally:
        workspace.close()
    # Spread the entries evenly between the declaration and now: all in the past.
    step = declared_ago / max(n, 1)
    recorded = format_ts(declared_at)
    connection = sqlite3.connect(database_path(folder), isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = NORMAL")  # a fixture, not the app
        connection.execute("BEGIN IMMEDIATE")
        sql = (
            "INSERT INTO timeline_entries (uuid, incident_id, seq, kind, occurred_at, "
            "recorded_at, author, text, data, supersedes, source, remote_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, '{}', NULL, 'local', NULL)"
        )
        note = EntryKind.NOTE.value
        for start in range(2, n + 1, batch):
            stop = min(start + batch, n + 1)
            connection.executemany(
                sql,
                (
                    (
                        uuid.uuid4().hex,
                        incident_id,
                        seq,
                        note,
                        format_ts(declared_at + step * seq),
                        recorded,
                        BENCH_ACTOR,
                        entry_text(seq),
                    )
                    for seq in range(start, stop)
                ),
            )
        connection.execute("UPDATE incidents SET last_seq = ? WHERE id = ?", (n, incident_id))
        connection.execute("COMMIT")
        # No ANALYZE: the app never runs it, so the planner must do without statistics.
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    log.info("built incident %d with %d entries in %s", incident_id, n, folder)
    return LargeIncident(folder=folder, incident_id=incident_id, entries=n)


def build_demo_with_large_incident(folder: Path, n: int) -> LargeIncident:
    """The demo workspace plus an ``n``-entry incident, the most recently declared active one."""
    from console.demo import ensure_demo

    workspace = Workspace.open(folder, actor=BENCH_ACTOR)
    try:
        ensure_demo(workspace)
    finally:
        workspace.close()
    large = build_large_incident(folder, n)
    workspace = Workspace.open(folder, actor=BENCH_ACTOR)
    try:
        newest = workspace.queries.incidents(active_only=True)[0]
    finally:
        workspace.close()
    if newest.id != large.incident_id:
        raise RuntimeError(
            f"incident {newest.id}, not the large one ({large.incident_id}), is the most "
            "recently declared active incident: the window would not show it"
        )
    return large


# ------------------------------------------------- runbook library (10k files)

#: The shared corpus of real runbooks (807 Markdown files); the env var overrides.
RUNBOOKS_FULL = 10_000
RUNBOOKS_QUICK = 200

SERVICES = (
    "checkout-api", "payments-gateway", "orders-api", "inventory-svc", "search-indexer",
    "auth-service", "user-profile", "notification-worker", "kafka-broker", "postgres-main",
    "redis-cache", "ingress-nginx", "cart-service", "shipping-api", "billing-worker",
    "recommendation-engine", "media-transcoder", "email-sender", "fraud-detector", "ledger-db",
    "session-store", "api-gateway", "cdn-edge", "metrics-pipeline", "log-shipper",
    "etcd-cluster", "vault", "dns-resolver", "object-store", "batch-scheduler",
    "feature-flags", "graphql-bff", "mobile-bff", "pricing-engine", "tax-calculator",
    "geo-locator", "image-resizer", "webhook-dispatcher", "audit-log", "backup-runner",
)  # fmt: skip
ALERTS = (
    "NodeFilesystemSpaceFillingUp", "KubePodCrashLooping", "KubePodNotReady",
    "KubeDeploymentReplicasMismatch", "KubeletDown", "TargetDown", "etcdNoLeader",
    "etcdHighNumberOfFailedGRPCRequests", "CPUThrottlingHigh", "KubeMemoryOvercommit",
    "PrometheusRemoteWriteBehind", "AlertmanagerFailedToSendAlerts", "KafkaConsumerLagHigh",
    "PostgresConnectionPoolExhausted", "RedisMemoryHigh", "CertificateExpiringSoon",
    "HighErrorRate5xx", "LatencyP99High", "NodeDiskPressure", "NodeNotReady", "KubeJobFailed",
    "KubePersistentVolumeFillingUp", "KubeAPIErrorBudgetBurn", "DNSResolutionFailures",
    "ReplicationLagHigh", "OOMKilledContainers", "IngressCertificateExpired", "QueueBacklogGrowing",
)  # fmt: skip
TEAMS = (
    "payments", "platform", "data", "storefront", "identity", "sre", "messaging",
    "observability", "security", "mobile", "search", "infra",
)  # fmt: skip
ENVIRONMENTS = ("prod-eu-west-1", "prod-us-east-1", "prod-ap-northeast-1", "staging", "dr-site")
SYMPTOMS = (
    "connection pool timeout", "certificate expired", "disk full", "consumer lag growing",
    "pods OOMKilled", "etcd has no leader", "5xx spike", "DNS resolution failures",
    "replication lag", "high p99 latency", "crash loop backoff", "queue backlog",
    "memory leak after deploy", "connection refused from upstream", "TLS handshake errors",
)  # fmt: skip
TITLE_TEMPLATES = (
    "{title}",
    "{title} ({service})",
    "{service}: {title}",
    "Runbook — {title} on {service}",
    "How to handle {title} in {env}",
    "{title} [{team}]",
    "{alert}: {title}",
)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
_FENCE = re.compile(r"^ *(`{3,}|~{3,})")
_H1 = re.compile(r"^#(?!#)\s+(.+?)\s*#*\s*$")


@dataclass(frozen=True)
class BaseRunbook:
    """One source runbook to make variants of: front matter, title, body blocks."""

    stem: str
    meta: dict[str, Any]
    title: str
    preamble: str
    sections: tuple[str, ...]  # each starts with a "## " heading outside any fence


@dataclass(frozen=True)
class RunbookLibrary:
    """A folder of ``files`` runbooks made from ``bases`` source runbooks."""

    folder: Path
    files: int
    bytes: int
    source: str  # "corpus" or "synthetic"
    bases: int
    build_ms: float
    note: str | None = None

    def describe(self) -> dict[str, Any]:
        described: dict[str, Any] = {
            "files": self.files,
            "mib": round(self.bytes / 1024 / 1024, 1),
            "source": self.source,
            "base_runbooks": self.bases,
            "build_ms": round(self.build_ms, 1),
        }
        if self.note:
            described["note"] = self.note
        return described


@dataclass
class ImportedLibrary:
    """The library imported once into a database (shared by the runbook benchmarks)."""

    library: RunbookLibrary
    db: Database
    import_ms: float
    imported: int
    refused: int


_runbook_root: Path | None = None
_runbook_library: RunbookLibrary | None = None
_imported_library: ImportedLibrary | None = None


def corpus_folder() -> Path:
    return shared.CORPUS


def runbook_work_folder() -> Path:
    """One temp folder for every runbook benchmark of this run, removed at exit."""
    global _runbook_root
    if _runbook_root is None:
        _runbook_root = Path(tempfile.mkdtemp(prefix="rc-bench-runbooks-"))
        atexit.register(_remove_runbook_root, _runbook_root)
    return _runbook_root


def _remove_runbook_root(folder: Path) -> None:
    if os.environ.get("RESPONDER_CONSOLE_BENCH_KEEP"):
        log.info("kept %s", folder)
    else:
        shutil.rmtree(folder, ignore_errors=True)


def runbook_library() -> RunbookLibrary:
    """The 10,000-runbook folder (200 in quick mode), built once per harness run."""
    global _runbook_library
    if _runbook_library is None:
        count = RUNBOOKS_QUICK if quick_mode() else RUNBOOKS_FULL
        _runbook_library = build_runbook_library(runbook_work_folder() / "library", count)
    return _runbook_library


def imported_runbook_library() -> ImportedLibrary:
    """:func:`runbook_library` imported once (not timed by anyone) into a shared database."""
    global _imported_library
    if _imported_library is None:
        library = runbook_library()
        folder = runbook_work_folder() / "shared-db"
        db = open_database(folder / "console.db")
        atexit.register(db.close)  # runs before the folder's removal (LIFO)
        log.info("importing %d runbooks into the shared database", library.files)
        with stopwatch() as elapsed:
            report = import_runbooks(db, [library.folder])
        adopt_imported_library(
            ImportedLibrary(library, db, elapsed[0], report.imported, len(report.refused))
        )
    assert _imported_library is not None
    return _imported_library


def adopt_imported_library(imported: ImportedLibrary) -> bool:
    """Offer a database holding a full import of :func:`runbook_library` for sharing.

    Returns False (and the caller keeps ownership) when one is shared already.
    """
    global _imported_library
    if _imported_library is not None:
        return False
    _imported_library = imported
    return True


def load_base_runbooks(corpus: Path) -> list[BaseRunbook]:
    """Every corpus runbook the importer accepts, split into front matter, preamble, sections."""
    bases: list[BaseRunbook] = []
    for path in sorted(corpus.rglob("*")):
        relative = path.relative_to(corpus)
        if (
            not path.name.lower().endswith(SUFFIXES)
            or path.name.lower() in FOLDER_NOTES
            or any(part.startswith(".") for part in relative.parts)
            or not path.is_file()
        ):
            continue
        data = path.read_bytes()
        try:
            parsed = parse_runbook(data, path=str(path), root=str(corpus))
        except RunbookError:
            continue  # the corpus has a few deliberately broken files
        if parsed.warnings:
            continue  # imported with a warning (an unclosed fence, a Hugo archetype)
        base = split_runbook(path.name.split(".")[0], data.decode("utf-8-sig"))
        if base is not None:
            bases.append(base)
    return bases


def split_runbook(stem: str, text: str) -> BaseRunbook | None:
    """Front matter, title, preamble and ``## `` sections (fence-aware); None if unusable."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    meta: dict[str, Any] = {}
    match = _FRONT_MATTER.match(text)
    if match:
        loaded = yaml.safe_load(match.group(1)) if match.group(1).strip() else {}
        if loaded is not None and not isinstance(loaded, dict):
            return None
        meta = {str(k): v for k, v in (loaded or {}).items()}
        text = text[match.end() :]
    if "<!--" in text:
        blocks = [text]  # comments may hide fences: never cut such a body
    else:
        blocks = []
        current: list[str] = []
        fence: str | None = None
        for line in text.split("\n"):
            opened = _FENCE.match(line)
            if fence is None and opened:
                fence = opened.group(1)
            elif fence is not None and line.strip().startswith(fence[0] * len(fence)):
                if set(line.strip()) == {fence[0]}:
                    fence = None
            elif fence is None and line.startswith("## ") and current:
                blocks.append("\n".join(current))
                current = []
            current.append(line)
        blocks.append("\n".join(current))
        if fence is not None:
            return None
    title = str(meta.get("title") or "").strip()
    if not title:
        for line in blocks[0].split("\n"):
            heading = _H1.match(line)
            if heading:
                title = heading.group(1)
                break
    title = title or stem.replace("_", " ").replace("-", " ")
    return BaseRunbook(stem, meta, title, blocks[0], tuple(blocks[1:]))


def synthetic_base_runbooks(count: int = 120) -> list[BaseRunbook]:
    """Stand-ins when the corpus is absent: varied alert runbooks from templates."""
    bases = []
    for n in range(count):
        alert = ALERTS[n % len(ALERTS)]
        service = SERVICES[(n * 7) % len(SERVICES)]
        symptom = SYMPTOMS[(n * 5) % len(SYMPTOMS)]
        preamble = (
            f"# {alert}\n\n{alert} fires when {service} shows {symptom} for more than "
            f"{5 + n % 25} minutes.\n"
        )
        sections = (
            f"## Meaning\n\nThe {alert} alert means {symptom} on {service}; users see "
            "errors or slow pages.\n",
            f"## Impact\n\nCustomers of {service} may get timeouts. Severity SEV-{1 + n % 4}.\n",
            "## Diagnosis\n\n1. Check the pods:\n\n    ```bash\n"
            f"    kubectl -n {TEAMS[n % len(TEAMS)]} get pods -l app={service}\n"
            "    ```\n\n2. Look at the dashboard for saturation.\n",
            f"## Mitigation\n\nRoll back the last deploy of {service}, or scale it out:\n\n"
            f"```bash\nkubectl -n prod scale deploy/{service} --replicas={3 + n % 6}\n```\n",
        )
        bases.append(BaseRunbook(alert, {}, alert, preamble, sections))
    return bases


def runbook_variant(base: BaseRunbook, i: int) -> tuple[str, str]:
    """(relative path, text) of variant ``i``: new title, front matter, names, section order."""
    rng = random.Random(i)
    service = SERVICES[(i * 7 + i // len(SERVICES)) % len(SERVICES)]
    other = SERVICES[(i * 13 + 5) % len(SERVICES)]
    alert = ALERTS[(i * 11 + i // 97) % len(ALERTS)]
    team = TEAMS[(i * 3 + i // 41) % len(TEAMS)]
    env = ENVIRONMENTS[i % len(ENVIRONMENTS)]
    symptom = SYMPTOMS[(i * 5 + i // 13) % len(SYMPTOMS)]
    title = TITLE_TEMPLATES[(i + i // 7) % len(TITLE_TEMPLATES)].format(
        title=base.title, service=service, env=env, team=team, alert=alert
    )
    meta = dict(base.meta)
    meta.update(
        {
            "title": title,
            "services": [service, other] if i % 3 else [service],
            "alerts": [alert],
            "owner": team,
            "symptoms": [symptom],
            "last_reviewed": (date(2026, 11, 1) - timedelta(days=(i * 37) % 700)).isoformat(),
            "review_every_days": (30, 90, 180)[i % 3],
            "severity_hint": f"SEV{1 + i % 4}",
        }
    )
    if i % 2:
        meta["id"] = f"{slug_of(base.stem)}-{i:05d}"
    else:
        meta.pop("id", None)  # the slug then comes from the (unique) file path
    sections = list(base.sections)
    if len(sections) > 1 and rng.random() < 0.7:
        rng.shuffle(sections)
    context = (
        f"> **Service:** `{service}` ({env}) · **Alert:** `{alert}` · **Owner:** {team}\n\n"
        f"When `{alert}` fires for {service} in {env}, responders usually see {symptom}; "
        f"check {other} as well before escalating.\n"
    )
    if i % 9 == 0:
        context += f"\nインシデント対応メモ: {service} の障害時は {team} チームに連絡する。\n"
    if i % 11 == 0:
        context += f"\nThe {service} C++ client retries on SEV-1 incidents only.\n"
    preamble = base.preamble.rstrip("\n")
    body = "\n\n".join([preamble, context.rstrip("\n"), *(s.rstrip("\n") for s in sections)])
    front = yaml.dump(
        meta, Dumper=_DUMPER, sort_keys=False, allow_unicode=True, default_flow_style=None
    )
    relative = f"{team}/{service}/{i:05d}-{base.stem}.md"
    return relative, f"---\n{front}---\n\n{body}\n"


def slug_of(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "runbook"


def build_runbook_library(folder: Path, count: int) -> RunbookLibrary:
    """Write ``count`` runbook variants of the corpus (or synthetic ones) under ``folder``."""
    corpus = corpus_folder()
    with stopwatch() as elapsed:
        note = None
        bases = load_base_runbooks(corpus) if corpus.is_dir() else []
        source = "corpus"
        if not bases:
            source = "synthetic"
            bases = synthetic_base_runbooks()
            note = (
                f"the runbook corpus was not found at {corpus} (set {shared.SETTING}): the library "
                f"is {count} variants of {len(bases)} synthetic template runbooks (English "
                "only, short, uniform), so these numbers are NOT comparable with corpus runs"
            )
            log.warning("%s", note)
        total = 0
        made: set[Path] = set()
        for i in range(count):
            relative, text = runbook_variant(bases[i % len(bases)], i)
            path = folder / relative
            if path.parent not in made:
                path.parent.mkdir(parents=True, exist_ok=True)
                made.add(path.parent)
            data = text.encode("utf-8")
            path.write_bytes(data)
            total += len(data)
        # On disk before anything is timed: the write-back of 40 MB of new files
        # otherwise lands in the first benchmark that syncs (an import's commits wait
        # behind it on ext4, 0.2-0.3 s), while one that only reads never sees it.
        os.sync()
    log.info(
        "built %d runbooks (%.1f MiB) from %d %s runbooks in %.1f s",
        count,
        total / 1024 / 1024,
        len(bases),
        source,
        elapsed[0] / 1000,
    )
    return RunbookLibrary(folder, count, total, source, len(bases), elapsed[0], note)


# ------------------------------------------------- service catalog (2,000 services)

CATALOG_SERVICES = 2_000
CATALOG_EDGES = 8_000
CATALOG_QUICK = (120, 480)
#: the tiers of a large shop, top (customer-facing) to bottom (data stores, third
#: parties), with the share of services in each; edges go down one or two tiers
CATALOG_TIERS = (
    ("web", 0.06, "component"),
    ("bff", 0.07, "component"),
    ("gateway", 0.05, "component"),
    ("domain", 0.30, "component"),
    ("core", 0.22, "component"),
    ("platform", 0.12, "component"),
    ("store", 0.14, "resource"),
    ("vendor", 0.04, "resource"),
)
CATALOG_WORDS = (
    "orders", "payments", "cart", "catalog", "search", "pricing", "inventory", "shipping",
    "accounts", "auth", "profile", "reviews", "recommend", "media", "notify", "ledger",
    "fraud", "tax", "returns", "loyalty", "promo", "geo", "session", "audit", "billing",
)  # fmt: skip


@dataclass(frozen=True)
class SyntheticCatalog:
    path: Path
    services: int
    edges: int
    #: the most depended-on data store: the worst case for a blast radius
    hub: str

    def describe(self) -> dict[str, Any]:
        return {"services": self.services, "edges": self.edges, "hub": self.hub}


def write_synthetic_catalog(
    path: Path, services: int = CATALOG_SERVICES, edges: int = CATALOG_EDGES, seed: int = 4
) -> SyntheticCatalog:
    """A ``catalog: 1`` file with ``services`` services and exactly ``edges`` distinct
    dependencies, tiered like a large shop (edges go down one or two tiers, biased
    towards a few popular shared services, as real graphs are), deterministic per seed."""
    rng = random.Random(seed)
    tiers: list[list[str]] = []
    kinds: dict[str, str] = {}
    made = 0
    for index, (tier, share, kind) in enumerate(CATALOG_TIERS):
        count = (
            services - made if index == len(CATALOG_TIERS) - 1 else max(1, round(services * share))
        )
        names = [f"{tier}-{rng.choice(CATALOG_WORDS)}-{made + i:04d}" for i in range(count)]
        for name in names:
            kinds[name] = kind
        tiers.append(names)
        made += count
    chosen: set[tuple[str, str]] = set()
    possible = sum(
        len(tiers[t]) * sum(len(tiers[u]) for u in range(t + 1, min(t + 3, len(tiers))))
        for t in range(len(tiers) - 1)
    )
    if edges > possible:
        raise ValueError(f"{edges} edges do not fit in {services} tiered services")
    while len(chosen) < edges:
        top = rng.randrange(len(tiers) - 1)
        below = min(len(tiers) - 1, top + rng.choice((1, 1, 1, 2)))
        targets = tiers[below]
        # popularity: a quarter of the edges land on the first tenth of a tier
        if rng.random() < 0.25:
            target = targets[rng.randrange(max(1, len(targets) // 10))]
        else:
            target = rng.choice(targets)
        chosen.add((rng.choice(tiers[top]), target))
    depends: dict[str, list[str]] = {}
    for dependent, dependency in sorted(chosen):
        depends.setdefault(dependent, []).append(dependency)
    teams = [f"team-{word}" for word in CATALOG_WORDS]
    document = {
        "catalog": 1,
        "teams": [{"name": team} for team in teams],
        "services": [
            {
                "name": name,
                "kind": kinds[name],
                "owner": teams[i % len(teams)],
                **({"depends_on": depends[name]} if name in depends else {}),
            }
            for i, name in enumerate(n for tier in tiers for n in tier)
        ],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.dump(document, Dumper=_DUMPER, sort_keys=False), encoding="utf-8")
    incoming: dict[str, int] = {}
    for _dependent, dependency in chosen:
        incoming[dependency] = incoming.get(dependency, 0) + 1
    stores = tiers[-2]
    hub = max(stores, key=lambda name: (incoming.get(name, 0), name))
    return SyntheticCatalog(path=path, services=services, edges=edges, hub=hub)


def catalog_size() -> tuple[int, int]:
    return CATALOG_QUICK if quick_mode() else (CATALOG_SERVICES, CATALOG_EDGES)


@dataclass(frozen=True)
class CatalogWorkspace:
    """A data folder holding the synthetic catalog, imported (not timed)."""

    folder: Path
    catalog: SyntheticCatalog
    import_ms: float

    def describe(self) -> dict[str, Any]:
        return {**self.catalog.describe(), "import_ms": round(self.import_ms, 1)}


_catalog_workspace: CatalogWorkspace | None = None


def catalog_workspace() -> CatalogWorkspace:
    """The 2,000-service catalog (quick mode: 120) in a workspace, built once per run
    and shared by the catalog benchmarks; removed at exit."""
    global _catalog_workspace
    if _catalog_workspace is None:
        from console.importers.catalog import import_catalog

        root = Path(tempfile.mkdtemp(prefix="rc-bench-catalog-"))
        atexit.register(_remove_runbook_root, root)
        services, edges = catalog_size()
        catalog = write_synthetic_catalog(root / "catalog.yaml", services, edges)
        folder = root / "data"
        db = open_database(database_path(folder))
        try:
            with stopwatch() as elapsed:
                report = import_catalog(db, [catalog.path])
        finally:
            db.close()
        if report.refused or report.dependencies != edges:
            raise RuntimeError(f"the synthetic catalog did not import cleanly: {report.summary()}")
        log.info("catalog: %d services, %d edges imported in %.0f ms", services, edges, elapsed[0])
        _catalog_workspace = CatalogWorkspace(folder, catalog, elapsed[0])
    return _catalog_workspace
