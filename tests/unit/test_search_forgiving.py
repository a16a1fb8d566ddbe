"""Search that forgives (issue 15 item 6): slips, word forms, names first, alert
names — over real SQLite files with the real importer."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from console.importers.runbooks import import_runbooks
from console.search.forgiving import Vocabulary, edit_distance, stem
from console.search.runbooks import FEW, name_words, search, search_runbooks
from console.storage.db import Database

TODAY = date(2026, 11, 23)
FILLER = "The on-call engineer reads the dashboards and the logs before acting. " * 6


def write(folder: Path, name: str, text: str) -> None:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def library(db: Database, tmp_path: Path) -> Database:
    folder = tmp_path / "runbooks"
    write(
        folder,
        "postgres/patroni-failover.md",
        "# Patroni failover\n\nPromote a replica with patronictl when the leader is lost.\n",
    )
    write(
        folder,
        "security/ransomware.md",
        "# Ransomware\n\nIsolate the hosts; do not pay. Ransomware spreads over shares.\n",
    )
    write(
        folder,
        "storage/disk-full.md",
        "# Disk full\n\nFree space: rotate the logs, grow the volume.\n",
    )
    for number in range(2):  # long pages holding the words of the title many times
        write(
            folder,
            f"handbook/chapter-{number}.md",
            "# Handbook chapter\n\n"
            + ("Disk usage and full backups; a full disk fills the logs. " * 20)
            + FILLER,
        )
    write(
        folder,
        "jobs/nightly.md",
        "# Nightly export\n\nWhen the export job reports a failure, rerun it.\n",
    )
    write(  # named by its path only: an id of its own, a title that says little
        folder,
        "queues/consumer-lag-rising.md",
        "---\nid: q-17\ntitle: Troubleshooting\n---\n"
        "Scale the consumer group when the lag keeps rising.\n",
    )
    for number in range(2):  # long unrelated pages holding the three words often
        write(
            folder,
            f"reports/quarterly-{number}.md",
            "# Quarterly report\n\n"
            + ("Rising costs; the consumer survey; lag in hiring. " * 6)
            + FILLER,
        )
    write(folder, "k8s/KubePodCrashLooping.md", "# Pod restarts\n\nRead the previous logs.\n")
    write(
        folder,
        "alerts/only-front-matter.md",
        "---\nalerts: [KubeQuotaAlmostFull]\n---\n# Quota planning\n\nRaise the quota.\n",
    )
    report = import_runbooks(db, [folder])
    assert report.refused == []
    return db


# ------------------------------------------------------------------ the parts


def test_the_forms_of_a_word_share_a_stem() -> None:
    assert {stem(w) for w in ("fail", "fails", "failed", "failing", "failure", "failures")} == {
        "fail"
    }
    assert {stem(w) for w in ("expire", "expires", "expired", "expiring", "expiration")} == {
        "expir"
    }
    assert {stem(w) for w in ("connect", "connection", "connections", "connected")} == {"connect"}
    assert stem("running") == stem("runs") == "run"
    assert stem("status") == "status"  # not a plural
    assert stem("pod") == "pod"


def test_edit_distance_counts_a_swap_as_one_slip() -> None:
    assert edit_distance("patroin", "patroni", 2) == 1
    assert edit_distance("ransomwre", "ransomware", 2) == 1
    assert edit_distance("abcdef", "badcfe", 2) == 3  # three swaps: beyond the bound
    assert edit_distance("short", "a much longer word", 2) == 3


def test_vocabulary_corrects_within_the_allowed_slips() -> None:
    vocab = Vocabulary.of(
        [("patroni", 3), ("ransomware", 2), ("leader", 9), ("certificate", 5), ("pod", 40)]
    )
    assert vocab.correct("patroin") == "patroni"
    assert vocab.correct("ransomwre") == "ransomware"
    assert vocab.correct("certifcaet") == "certificate"  # two slips in a long word
    assert vocab.correct("laeder") == "leader"
    assert vocab.correct("laedre") is None  # two slips in a six-letter word: too far
    assert vocab.correct("pdo") is None  # under five letters: never corrected
    assert vocab.correct("leader") is None  # known
    many = Vocabulary.of([("latency", 1), ("latence", 30)])
    assert many.correct("latencx") == "latence"  # a tie goes to the commoner word


def test_name_words_split_camel_case_and_keep_inside_the_folder() -> None:
    words = name_words(
        "KubePodCrashLooping", "kube-pod", "/data/k8s/alerts/VirtAPIDown.html.md", "/data/k8s"
    )
    assert {"kube", "pod", "crash", "looping", "virt", "api", "down", "alerts"} <= words
    assert "data" not in words  # the imported folder's own path is not a name
    assert "md" not in words


# ------------------------------------------------------------------ search


def test_a_slip_is_corrected_and_said(library: Database) -> None:
    for typed, meant, slug_part in (
        ("patroin", "patroni", "patroni"),
        ("patroin failover", "patroni failover", "patroni"),
        ("ransomwre", "ransomware", "ransomware"),
        ("check ransomwre ", "check ransomware", "ransomware"),
    ):
        found = search_runbooks(library, typed, today=TODAY)
        assert found.corrected == meant, typed
        assert found.hits, typed
        assert slug_part in found.hits[0].slug
    found = search_runbooks(library, "Ransomwre", today=TODAY)
    assert found.corrected == "Ransomware"  # as the runbook's title writes it
    found = search_runbooks(library, "kubepodcrashloopng", today=TODAY)
    assert found.corrected == "KubePodCrashLooping"  # as its file name writes it


def test_no_correction_when_the_exact_words_find_enough(library: Database) -> None:
    found = search_runbooks(library, "logs", today=TODAY)
    assert len(found.hits) >= FEW
    assert found.corrected is None
    found = search_runbooks(library, "patroni", today=TODAY)
    assert found.corrected is None
    assert found.hits[0].slug.endswith("patroni-failover")


def test_a_word_still_being_typed_is_not_corrected(library: Database) -> None:
    found = search_runbooks(library, "ransomw", today=TODAY)  # a prefix of a word
    assert found.corrected is None
    assert found.hits
    assert "ransomware" in found.hits[0].slug


def test_short_words_and_far_words_find_nothing_rather_than_a_guess(library: Database) -> None:
    assert search_runbooks(library, "zzzzzzzz", today=TODAY).hits == []
    assert search_runbooks(library, "zzzzzzzz", today=TODAY).corrected is None


def test_word_forms_match_each_other(library: Database) -> None:
    # the page says "failure"; the responder types "failing" / "failed"
    for typed in ("export failing", "export failed", "failing"):
        hits = search(library, typed + " ", today=TODAY)
        assert hits, typed
        assert hits[0].slug.endswith("nightly"), typed
        assert "[[failure]]" in hits[0].snippet, hits[0].snippet


def test_the_runbook_named_by_the_query_ranks_first(library: Database) -> None:
    hits = search(library, "disk full", today=TODAY)
    assert hits[0].slug.endswith("disk-full")
    chapters = [h for h in hits if "chapter" in h.slug]
    assert len(chapters) == 2  # the long pages are found, after it
    assert search(library, "full disk ", today=TODAY)[0].slug.endswith("disk-full")
    hits = search(library, "consumer lag rising", today=TODAY)
    assert hits[0].slug == "q-17", [h.slug for h in hits]


def test_an_alert_named_only_in_front_matter_is_found(library: Database) -> None:
    hits = search(library, "KubeQuotaAlmostFull", today=TODAY)
    assert [h.title for h in hits] == ["Quota planning"]


def test_a_word_then_a_mixed_script_term_is_no_syntax_error(
    library: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # FTS5 refuses an implicit AND before a parenthesis: the exact query was an
    # FTS5 syntax error ("FTS5 refused" in the log) before terms were AND-ed
    write(tmp_path / "runbooks", "k8s/restart.md", "# Patroni on k8s\n\nPodが再起動する。\n")
    import_runbooks(library, [tmp_path / "runbooks"])
    with caplog.at_level("WARNING", logger="console.search.runbooks"):
        hits = search(library, "patroni Podが再起動", today=TODAY)
    assert "FTS5 refused" not in caplog.text
    assert hits[0].title == "Patroni on k8s"


def test_the_vocabulary_follows_an_import(library: Database, tmp_path: Path) -> None:
    assert search_runbooks(library, "kafak", today=TODAY).hits == []
    write(
        tmp_path / "runbooks", "queues/kafka.md", "# Kafka consumer lag\n\nScale the consumers.\n"
    )
    import_runbooks(library, [tmp_path / "runbooks"])
    found = search_runbooks(library, "kafak", today=TODAY)
    assert found.corrected == "kafka"
    assert found.hits[0].slug.endswith("kafka")


def test_word_forms_fill_the_page_after_the_exact_words(library: Database, tmp_path: Path) -> None:
    for number in range(FEW):
        write(
            tmp_path / "runbooks",
            f"probes/probe-{number}.md",
            f"# Probe {number}\n\nThe readiness probe keeps failing.\n",
        )
    import_runbooks(library, [tmp_path / "runbooks"])
    hits = search(library, "failing ", today=TODAY)
    slugs = [h.slug for h in hits]
    assert len(slugs) == FEW + 1, slugs
    assert all("probe" in slug for slug in slugs[:FEW])  # the words as typed first
    assert slugs[FEW].endswith("nightly")  # then "failure"
    assert len(search(library, "failing ", today=TODAY, limit=FEW)) == FEW  # a full page


def test_cjk_text_is_never_corrected_or_widened(library: Database) -> None:
    found = search_runbooks(library, "インシデンド", today=TODAY)  # one character off
    assert found.corrected is None
    assert found.hits == []


def test_two_words_a_name_writes_as_one_still_name_it(library: Database, tmp_path: Path) -> None:
    folder = tmp_path / "runbooks"
    write(folder, "rota/whos_oncall.md", "---\nid: rota-7\ntitle: Rota\n---\nWho is on call.\n")
    for number in range(2):
        write(
            folder,
            f"minutes/meeting-{number}.md",
            "# Meeting minutes\n\n" + ("Who joins the call on Monday is on the list. " * 8),
        )
    import_runbooks(library, [folder])
    hits = search(library, "who is on call", today=TODAY)
    assert hits[0].slug == "rota-7", [h.slug for h in hits]
