"""Tables of the worker room (worker/): the scheduler's persisted job store.

apscheduler_jobs  APScheduler 3.x `SQLAlchemyJobStore`'s table, mirrored column for column so that
                  our migration creates it (the job store's own `create(checkfirst=True)` then
                  finds it) and the models match the migrated schema. One row per scheduled
                  source: its next run time (UTC epoch seconds) and the pickled job (trigger, etc.),
                  so a restarted worker keeps its place in every schedule.

Run locks, pauses and blocked accounts live in `source_state` (keys "lock", "control",
"blocked:<account>"), not here.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, LargeBinary, Table, Unicode
from sqlmodel import SQLModel

JOBS_TABLE = "apscheduler_jobs"

# Exactly apscheduler.jobstores.sqlalchemy.SQLAlchemyJobStore's definition (APScheduler 3.11).
apscheduler_jobs = Table(
    JOBS_TABLE,
    SQLModel.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)
