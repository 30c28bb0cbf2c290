"""Tables of the mailbox room (mailbox/): every mail read, raw, with what became of it.

mail_message  one row per distinct mail (per account and content hash): the raw bytes, where it
              arrived (folder, UIDVALIDITY, UID), whether it was taken in (processed) or set aside
              (quarantined) and why, by which parser version, and whether its move out of the
              folder it sits in is done. Watermarks live in source_state (source mail:NAME, key
              folder:<name>), written in the same transaction as the row.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from store.types import UTCDateTime


class MailMessageRow(SQLModel, table=True):
    __tablename__ = "mail_message"
    __table_args__ = (
        # A crash replay, a rescan after a UIDVALIDITY change or a second copy adds nothing.
        UniqueConstraint("account", "sha256", name="uq_mail_message_content"),
        Index("ix_mail_message_state", "account", "state"),
        Index("ix_mail_message_pending", "account", "moved_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    account: str = Field(max_length=120)  # the mailbox's name in config.yaml
    folder: str = Field(max_length=200)  # where it arrived
    # UIDs and UIDVALIDITY are unsigned 32-bit numbers: past a signed INTEGER.
    uid_validity: int = Field(sa_type=BigInteger)
    uid: int = Field(sa_type=BigInteger)  # its UID in `folder` at arrival
    sha256: str = Field(max_length=64)  # of `raw`
    message_id: str | None = Field(default=None, max_length=500, index=True)
    sender: str = Field(default="", max_length=320)
    subject: str = Field(default="", sa_type=Text)
    size: int = Field(sa_type=BigInteger)  # as the server reported it (RFC822.SIZE)
    raw: bytes = Field(sa_type=LargeBinary)
    # False: the mail was over the size limit and only its header was kept.
    complete: bool = True
    received_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # INTERNALDATE
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # Date header
    state: str = Field(max_length=20)  # processed / quarantined
    reason: str | None = Field(default=None, sa_type=Text)  # why it is quarantined
    # bad_input / layout_changed / needs_template / parser_error / ingest_failed
    error_kind: str | None = Field(default=None, max_length=20)
    template: str | None = Field(default=None, max_length=80)
    parser: str = Field(max_length=80)  # "mail.NAME/VERSION" that read (or failed to read) it
    observation_count: int = 0
    problem_count: int = 0
    attempts: int = 1  # reads: the first, then each `mail reprocess`
    location: str = Field(max_length=200)  # the folder it is in, as far as we know ("" unknown)
    moved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # None: its move is due
    run_id: int | None = Field(default=None, index=True)
    first_seen_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
