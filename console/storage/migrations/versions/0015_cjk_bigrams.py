"""CJK text as character pairs in the word index; the trigram index goes

Revision ID: 0015_cjk_bigrams
Revises: 0014_fts_hashsize
Create Date: 2026-12-07 11:00:00.000000

Japanese, Chinese and Korean runs were found through ``runbooks_trigram``
(0003, 0006). Now the word index has two more columns, ``cjk_names`` and
``cjk_body``, fed what ``console.domain.runbook.cjk_bigrams`` makes of a
runbook's names (title, slug, symptoms, alerts, services, owner) and body:
every CJK run as its overlapping character pairs, then its last character
alone, and the words glued to CJK text ("Pod" of "Podが再起動", which the
tokenizer keeps as one token with it). A query's CJK run is the phrase of its
pairs (one character: a prefix), which finds exactly the runs that hold it,
two-character words included (the trigram index could not; search used LIKE
for them), and a query mixing scripts is one MATCH on one index with one
ranking.

Measured on the 10,000-runbook benchmark library (15 % with Japanese text):
the writer's SQL time for a full import 1.53 s → 1.25 s (the trigram index
wrote a segment of tens of thousands of distinct trigrams per statement), and
the CJK terms' index 6.6 MB → 3.3 MB. The pairs cost the parser 0.19 s, which
it spends while the writer is busy anyway.

``runbooks.has_cjk`` and ``runbooks.cjk_text`` give way to ``cjk_names`` and
``cjk_body`` (stored: the external-content ``delete`` must be handed exactly
what was indexed). The word index is recreated with nine columns and rebuilt
from ``runbooks``; its 32 MB term buffer (0014) is set again.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

revision = "0015_cjk_bigrams"
down_revision = "0014_fts_hashsize"
branch_labels = None
depends_on = None

#: the columns of the word index, in bm25() weight order (console.search.runbooks)
NAMES = ("title", "slug", "symptoms", "alerts", "services", "owner")
WORDS = (*NAMES, "body", "cjk_names", "cjk_body")
#: before this revision (0006)
OLD_WORDS = (*NAMES, "body")
#: the same class as console.domain.runbook.CJK_CLASS (a test pins it)
CJK_CLASS = "[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f]"
HASHSIZE = 32 * 1024 * 1024
TRIGGERS = ("runbooks_fts_ai", "runbooks_fts_ad", "runbooks_fts_au")
_RUN = re.compile(CJK_CLASS + "+")
_SPLIT = re.compile(f"({CJK_CLASS}+)")


def cjk_bigrams(*texts: str | None) -> str:
    """A frozen copy of console.domain.runbook.cjk_bigrams, written plainly (a test
    holds the two to the same tokens): each CJK run's overlapping pairs and its last
    character, then the words glued to the runs (the letters right before and
    after each one, a word between two runs once)."""
    grams: list[str] = []
    for text in texts:
        if not text or text.isascii():
            continue
        parts = _SPLIT.split(text)
        runs = parts[1::2]
        for run in runs:
            grams.extend(map(operator.add, run, run[1:]))
            grams.append(run[-1])
        for number in range(1, len(parts), 2):
            before, after = parts[number - 1], parts[number + 1]
            word = re.search(r"[^\W_]+\Z", before)
            if word is not None and (word.start() > 0 or number == 1):
                grams.append(word.group())
            word = re.match(r"[^\W_]+", after)
            if word is not None:
                grams.append(word.group())
    return " ".join(grams)


def cjk_lines(text: str) -> str:
    """0006's trigram body: the lines of ``text`` holding CJK text (for the downgrade)."""
    return "\n".join(line for line in text.split("\n") if _RUN.search(line))


def _update_cjk_rows(
    sql: str, values: Callable[[list[str | None], str], dict[str, object]]
) -> None:
    """Run ``sql`` for every runbook with CJK text in a name column or the body, with
    its id and ``values(names, body)``."""
    bind = op.get_bind()
    rows = bind.execute(sa.text(f"SELECT id, {', '.join(OLD_WORDS)} FROM runbooks")).fetchall()
    updates = [
        {"id": row_id, **values(names, body)}
        for row_id, *names, body in rows
        if any(text and not text.isascii() and _RUN.search(text) for text in (*names, body))
    ]
    if updates:
        bind.execute(sa.text(sql), updates)


def _columns(add: tuple[str, ...], drop: tuple[str, ...]) -> None:
    """Add the text columns ``add`` (NOT NULL, '' by default; ``has_cjk`` a boolean)
    to ``runbooks`` and drop ``drop``, in one batch (a copy of the table)."""
    with op.batch_alter_table("runbooks", schema=None) as batch_op:
        for name in add:
            kind, default = (
                (sa.Boolean(), sa.false()) if name == "has_cjk" else (sa.Text(), sa.text("''"))
            )
            batch_op.add_column(sa.Column(name, kind, nullable=False, server_default=default))
        for name in drop:
            batch_op.drop_column(name)


def _drop_triggers() -> None:
    for trigger in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")


def _fts(table: str, columns: tuple[str, ...], tokenizer: str) -> None:
    op.execute(f"DROP TABLE IF EXISTS {table}")
    op.execute(
        f"CREATE VIRTUAL TABLE {table} USING fts5({', '.join(columns)}, content='runbooks', "
        f"content_rowid='id', tokenize='{tokenizer}')"
    )
    op.execute(f"INSERT INTO {table}({table}, rank) VALUES ('hashsize', {HASHSIZE})")


def _word_triggers(columns: tuple[str, ...], extra: tuple[str, str] = ("", "")) -> None:
    """The word index's triggers; ``extra`` = (insert, delete) statements to append."""
    names = ", ".join(columns)

    def values(row: str) -> str:
        return ", ".join(f"{row}.{c}" for c in columns)

    insert = f"INSERT INTO runbooks_fts(rowid, {names}) VALUES (new.id, {values('new')}); "
    delete = (
        f"INSERT INTO runbooks_fts(runbooks_fts, rowid, {names}) "
        f"VALUES ('delete', old.id, {values('old')}); "
    )
    more_insert, more_delete = extra
    watched = ", ".join((*columns, *(("has_cjk", "cjk_text") if more_insert else ())))
    op.execute(
        f"CREATE TRIGGER runbooks_fts_ai AFTER INSERT ON runbooks BEGIN {insert}{more_insert}END"
    )
    op.execute(
        f"CREATE TRIGGER runbooks_fts_ad AFTER DELETE ON runbooks BEGIN {delete}{more_delete}END"
    )
    op.execute(
        f"CREATE TRIGGER runbooks_fts_au AFTER UPDATE OF {watched} ON runbooks "
        f"BEGIN {delete}{more_delete}{insert}{more_insert}END"
    )


def upgrade() -> None:
    _drop_triggers()
    op.execute("DROP TABLE IF EXISTS runbooks_trigram")
    op.execute("DROP TABLE IF EXISTS runbooks_fts")
    _columns(add=("cjk_names", "cjk_body"), drop=("cjk_text", "has_cjk"))
    _update_cjk_rows(
        "UPDATE runbooks SET cjk_names = :names, cjk_body = :body WHERE id = :id",
        lambda names, body: {"names": cjk_bigrams(*names), "body": cjk_bigrams(body)},
    )
    _fts("runbooks_fts", WORDS, "unicode61 remove_diacritics 2")
    op.execute("INSERT INTO runbooks_fts(runbooks_fts) VALUES ('rebuild')")
    _word_triggers(WORDS)


def downgrade() -> None:
    _drop_triggers()
    op.execute("DROP TABLE IF EXISTS runbooks_fts")
    _columns(add=("has_cjk", "cjk_text"), drop=("cjk_body", "cjk_names"))
    _update_cjk_rows(
        "UPDATE runbooks SET has_cjk = 1, cjk_text = :lines WHERE id = :id",
        lambda names, body: {"lines": cjk_lines(body)},
    )
    _fts("runbooks_fts", OLD_WORDS, "unicode61 remove_diacritics 2")
    op.execute("INSERT INTO runbooks_fts(runbooks_fts) VALUES ('rebuild')")
    _fts("runbooks_trigram", OLD_WORDS, "trigram")
    trigram_values = ", ".join(f"runbooks.{c}" for c in NAMES) + ", runbooks.cjk_text"
    op.execute(
        f"INSERT INTO runbooks_trigram(rowid, {', '.join(OLD_WORDS)}) "
        f"SELECT id, {trigram_values} FROM runbooks WHERE has_cjk"
    )
    names = ", ".join(OLD_WORDS)

    def trigram(row: str) -> str:
        return ", ".join(f"{row}.{c}" for c in NAMES) + f", {row}.cjk_text"

    _word_triggers(
        OLD_WORDS,
        (
            f"INSERT INTO runbooks_trigram(rowid, {names}) "
            f"SELECT new.id, {trigram('new')} WHERE new.has_cjk; ",
            f"INSERT INTO runbooks_trigram(runbooks_trigram, rowid, {names}) "
            f"SELECT 'delete', old.id, {trigram('old')} WHERE old.has_cjk; ",
        ),
    )
