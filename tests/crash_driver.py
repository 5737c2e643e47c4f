"""The process the crash-safety tests kill: it loads the code first, says `ready`, waits for a line on stdin and
only then runs its action, so the kill points fall inside the action rather than inside Python's start-up.

    python -m tests.crash_driver cli ARGS...        the console script `serialtrace ARGS...`
    python -m tests.crash_driver replace STOCK N    up to N instant replacements, one transaction each
"""

from __future__ import annotations

import sys

# Everything the actions import lazily, loaded before `ready` so the timed part is the action alone.
from serialtrace.cli import main as cli_main
from serialtrace.config import business_today
from serialtrace.labelling import runner as _runner  # noqa: F401
from serialtrace.runtime import Runtime
from serialtrace.trace import importer as _importer  # noqa: F401
from serialtrace.warranty import service as warranty_service

DESK_USER = "desk"


def replace_loop(stock_batch: str, count: int) -> int:
    """Hand out replacements for the oldest registered claims, each from the first unit of `stock_batch` still in
    stock, as the desk does it (claims replace): one claim, one transaction."""
    from sqlalchemy import select

    from serialtrace.accounts import queries as accounts_queries
    from serialtrace.trace.models import Batch, Unit
    from serialtrace.warranty.models import Claim

    rt = Runtime.from_env()
    for _ in range(count):
        with rt.transaction() as s:
            claim_id = s.scalar(select(Claim.id).where(Claim.state == "registered").order_by(Claim.id).limit(1))
            if claim_id is None:
                return 0
            serial = s.scalar(select(Unit.serial).join(Batch, Batch.id == Unit.batch_id)
                              .where(Batch.number == stock_batch, Unit.status == "in_stock")
                              .order_by(Unit.id).limit(1))
            warranty_service.replace_unit(s, claim_id=claim_id, replacement_serial=serial,
                                          author=accounts_queries.find_user(s, DESK_USER), on_desk=claim_id % 2 == 0,
                                          today=business_today(rt.settings),
                                          return_days=rt.settings.warranty_return_days)
    return 0


def main(argv: list[str]) -> int:
    """Wait for the go line, then run the action named by argv[0]."""
    print("ready", flush=True)
    sys.stdin.readline()
    if argv[0] == "replace":
        return replace_loop(argv[1], int(argv[2]))
    # Click's standalone mode ends the process with the command's exit code, as the console script does.
    cli_main.main(args=argv[1:], prog_name="serialtrace")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
