"""The "my claims" filters (registered by me, assigned to me) read an index at 20,000 claims, on both databases."""

from __future__ import annotations

from sqlalchemy import inspect


def test_claim_author_and_assignee_are_indexed_in_the_migrated_database(engine):
    indexed = {tuple(ix["column_names"]) for ix in inspect(engine).get_indexes("claim")}
    assert {("author_id",), ("assignee_id",)} <= indexed
