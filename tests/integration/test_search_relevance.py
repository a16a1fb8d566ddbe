"""Relevance: what a tired responder types over the shared corpus, and the runbook a
person picked as the answer (issue 15: top-1 57 %, top-3 71 % before).

The set is written from the collections' own subjects (alerts, how-tos, incident
process), in a responder's words: lower case, half the alert name, a slip of the
finger, "failing" where the page says "failed". A query is answered when one of
its runbooks (by file name: the same alert runbook lives in several collections)
is in the top 1 / top 3. Ranking must generalise: nothing in console/search knows
these queries or files.

``python -m tests.integration.test_search_relevance`` prints the figures and the
misses.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from console.importers.runbooks import import_runbooks
from console.search.runbooks import search
from console.storage.db import Database, open_database
from tests import shared
from tests.integration.test_runbook_corpus import CORPUS

pytestmark = shared.needs(CORPUS, what="the runbook corpus (the relevance set is judged on it)")

#: (query, the file names a person would accept as the answer)
RELEVANCE: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("disk full", ("NodeFilesystemAlmostOutOfSpace.md", "NodeFilesystemSpaceFillingUp.md")),
    ("etcd no leader", ("etcdNoLeader.md",)),
    ("pod crash looping", ("KubePodCrashLooping.md",)),
    ("node not ready", ("KubeNodeNotReady.md",)),
    ("kubelet down", ("KubeletDown.md",)),
    (
        "client certificate expiring",
        ("KubeletClientCertificateExpiration.md", "KubeClientCertificateExpiration.md"),
    ),
    ("ransomware", ("playbook-ransomware.md",)),
    ("ransomwre", ("playbook-ransomware.md",)),
    ("phishing email", ("playbook-phishing.md",)),
    ("website defaced", ("playbook-defacement.md",)),
    ("incident commander", ("incident_commander.md", "role-1-commander.md")),
    ("severity levels", ("severity_levels.md",)),
    ("post mortem template", ("post_mortem_template.md",)),
    (
        "alertmanager failing to send alerts",
        ("AlertmanagerFailedToSendAlerts.md", "AlertmanagerClusterFailedToSendAlerts.md"),
    ),
    ("prometheus remote write", ("PrometheusRemoteWriteBehind.md",)),
    ("elasticsearch cluster health", ("elasticsearch-cluster-health.html.md",)),
    ("restore elasticsearch from backup", ("elasticsearch-dumps.html.md",)),
    ("clear redis cache", ("clear-the-redis-cache.html.md",)),
    ("purge cache", ("purge-cache.html.md",)),
    ("slack down", ("slack-unavailable.html.md",)),
    ("rotate rds credentials", ("rotating-rds.credentials.html.md",)),
    ("maintenance mode", ("howto-setup-maintenance-mode.html.md",)),
    ("ceph osd disk not responding", ("CephOSDDiskNotResponding.md",)),
    ("virt api down", ("VirtAPIDown.md",)),
    ("persistent volume filling up", ("KubePersistentVolumeFillingUp.md",)),
    ("cpu throttling", ("CPUThrottlingHigh.md",)),
    ("target down", ("TargetDown.md",)),
    ("job failed", ("KubeJobFailed.md",)),
    ("whitehall error ratio", ("whitehall-error-ratio-too-high.html.md",)),
    ("clock skew", ("NodeClockSkewDetected.md",)),
    ("raid disk failed", ("NodeRAIDDiskFailure.md",)),
    ("deployment replicas mismatch", ("KubeDeploymentReplicasMismatch.md",)),
    ("etcd insuficient members", ("etcdInsufficientMembers.md",)),
    ("who is on call", ("whos_oncall.md",)),
    ("external communication", ("external_communication_guidelines.md",)),
    ("email alert api queue latency", ("email-alert-api-high-queue-latency.html.md",)),
    ("thanos rule dropping alerts", ("ThanosRuleQueueIsDroppingAlerts.md",)),
    ("filesystem almost out of space", ("NodeFilesystemAlmostOutOfSpace.md",)),
    ("kubernetes api down", ("KubeAPIDown.md",)),
    ("etcd fsync slow", ("etcdHighFsyncDurations.md",)),
    (
        "out of inodes",
        (
            "NodeFilesystemAlmostOutOfFiles.md",
            "NodeFilesystemFilesFillingUp.md",
            "KubePersistentVolumeInodesFillingUp.md",
        ),
    ),
    ("prometheus not ingesting", ("PrometheusNotIngestingSamples.md",)),
    ("daemonset rollout stuck", ("KubeDaemonSetRolloutStuck.md",)),
    ("alertmanager reload failed", ("AlertmanagerFailedReload.md",)),
    ("hpa maxed out", ("KubeHpaMaxedOut.md",)),
    ("network interface flapping", ("NodeNetworkInterfaceFlapping.md",)),
    ("prometheus opertor reconcile errors", ("PrometheusOperatorReconcileErrors.md",)),
    (
        "kubelet certifcate renewal",
        ("KubeletClientCertificateRenewalErrors.md", "KubeletServerCertificateRenewalErrors.md"),
    ),
    ("security incident", ("security_incident_response.md",)),
    ("statuspage message", ("post-a-statuspage-message.html.md",)),
    ("being on call", ("being_oncall.md",)),
)
#: floor for the top 3 (measured on this set: 90 % before forgiving search, 96 %
#: after; the issue's own set: 71 %). The corpus and the set are fixed, so a drop
#: below it is a regression in ranking, not noise.
TOP3_FLOOR = 0.90
TODAY = date(2026, 11, 23)


@dataclass(frozen=True)
class Judged:
    query: str
    rank: int | None  # 1-based place of the first accepted runbook in the top 10
    top: tuple[str, ...]


def judge(db: Database) -> list[Judged]:
    judged = []
    for query, answers in RELEVANCE:
        hits = search(db, query, today=TODAY, limit=10)
        names = tuple(Path(hit.path).name for hit in hits)
        rank = next((place for place, name in enumerate(names, 1) if name in answers), None)
        judged.append(Judged(query, rank, names[:3]))
    return judged


def share(judged: list[Judged], within: int) -> float:
    return sum(1 for j in judged if j.rank is not None and j.rank <= within) / len(judged)


def corpus_database(folder: Path) -> Database:
    db = open_database(folder / "console.db")
    import_runbooks(db, [CORPUS])
    return db


def test_the_set_is_a_responders_set() -> None:
    assert len(RELEVANCE) >= 35
    assert len({query for query, _ in RELEVANCE}) == len(RELEVANCE)
    for _, answers in RELEVANCE:
        assert answers
        assert all(name.endswith(".md") for name in answers)


def test_the_answers_exist_in_the_corpus() -> None:
    names = {path.name for path in CORPUS.rglob("*.md")}
    missing = [name for _, answers in RELEVANCE for name in answers if name not in names]
    assert not missing


def test_top_three_holds_the_answer(tmp_path: Path) -> None:
    db = corpus_database(tmp_path)
    try:
        judged = judge(db)
    finally:
        db.close()
    misses = [(j.query, j.rank, j.top) for j in judged if j.rank is None or j.rank > 3]
    assert share(judged, 3) >= TOP3_FLOOR, misses


def main() -> int:  # pragma: no cover - a report for people
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        db = corpus_database(Path(folder))
        try:
            judged = judge(db)
        finally:
            db.close()
    for j in judged:
        if j.rank != 1:
            print(f"{j.rank!s:>4}  {j.query!r}: {', '.join(j.top)}")
    print(
        f"{len(judged)} queries: top-1 {share(judged, 1):.0%}, top-3 {share(judged, 3):.0%}, "
        f"top-10 {share(judged, 10):.0%}"
    )
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
