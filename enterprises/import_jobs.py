"""Import jobs: a staff upload checked (dry run) and imported in the background, with progress.

`start_import` stores the file and enqueues the check; `confirm_import` moves a checked job to
importing and enqueues the import. The task bodies (`check_job`, `import_job`) call profile_files.py.

Exactly once in effect: the import writes its rows and the job's final state in one transaction,
holding a per-job lock; a second delivery of the task (double submit, retry, redelivery after a worker
died) waits for the lock, then finds the job no longer importing and does nothing. A worker that dies
mid-import leaves nothing written and the job importing; the redelivered task imports from the start.
Progress is written over a second connection so that pollers see it while the import's transaction
is still open (PostgreSQL; on SQLite, a single writer, it is seen when the job ends).
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import connection, connections, transaction
from django.utils import timezone

from enterprises import profile_files
from enterprises.models import ImportJob, Source
from policies import aftercommit

SAMPLE_ROWS = 100  # rows of the check shown on the job page when no row has an error
LOCK_NAMESPACE = 4_001  # pg_advisory_xact_lock(namespace, job id)
Status = ImportJob.Status


def start_import(
    *, content: bytes, filename: str, actor: AbstractBaseUser | None, source: str = Source.REGISTER
) -> ImportJob:
    """Store the upload as a job and check it in the background (after commit)."""
    job = ImportJob.objects.create(
        created_by=actor if actor is not None and actor.is_authenticated else None,
        filename=filename[:255],
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        source=source,
    )
    transaction.on_commit(lambda: aftercommit.send("enterprises.check_import", [job.pk]))
    return job


def confirm_import(*, job_id: int) -> bool:
    """Start importing a checked job; False (and nothing enqueued) when it is not waiting for that,
    e.g. the second click of a double submit."""
    started = ImportJob.objects.filter(pk=job_id, status=Status.READY).update(
        status=Status.IMPORTING, stage="", done=0, total=0
    )
    if started:
        transaction.on_commit(lambda: aftercommit.send("enterprises.run_import", [job_id]))
    return bool(started)


class _Progress:
    """Writes (stage, done, total) of a job where other connections see it at once."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        # SQLite has one writer: a second connection would wait for the import's own transaction
        self.separate = (
            connections.create_connection("default") if connection.vendor == "postgresql" else None
        )

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self.separate is None:
            ImportJob.objects.filter(pk=self.job_id).update(stage=stage, done=done, total=total)
            return
        with self.separate.cursor() as cursor:  # autocommit: visible to pollers now
            cursor.execute(
                f"UPDATE {ImportJob._meta.db_table} SET stage = %s, done = %s, total = %s WHERE id = %s",
                [stage, done, total, self.job_id],
            )

    def close(self) -> None:
        if self.separate is not None:
            self.separate.close()


def _found(preview: profile_files.ImportPreview) -> dict[str, Any]:
    """The job fields describing a check's result."""
    rows = [
        {"line": row.line, "credit_code": row.credit_code, "name": row.name, "action": row.action,
         "errors": list(row.errors)}
        for row in preview.rows
    ]  # fmt: skip
    return {
        "rows": len(rows),
        "creates": sum(row["action"] == "create" for row in rows),
        "updates": sum(row["action"] == "update" for row in rows),
        "file_errors": list(preview.errors),
        "row_errors": [row for row in rows if row["errors"]],
        "sample": rows[:SAMPLE_ROWS],
    }


def check_job(job_id: int) -> None:
    """The dry run of a job being checked: READY when every row passes, INVALID otherwise."""
    job = ImportJob.objects.filter(pk=job_id, status=Status.VALIDATING).first()
    if job is None:
        return  # already checked (a repeated delivery) or deleted
    progress = _Progress(job_id)
    try:
        preview = profile_files.preview_import(bytes(job.content), job.filename, progress=progress)
    finally:
        progress.close()
    rows = len(preview.rows)
    outcome: dict[str, Any] = {"status": Status.READY, "stage": "validate", "done": rows, "total": rows}
    if not preview.ok:  # a file that failed the check is not kept
        outcome |= {"status": Status.INVALID, "content": b"", "finished_at": timezone.now()}
    ImportJob.objects.filter(pk=job_id, status=Status.VALIDATING).update(**outcome, **_found(preview))


def import_job(job_id: int) -> None:
    """Import a confirmed job: every row or none (checked again: data may have changed since)."""
    progress = _Progress(job_id)
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:  # one delivery at a time per job
                    cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, job_id])
            job = ImportJob.objects.filter(pk=job_id, status=Status.IMPORTING).first()
            if job is None:
                return  # imported already, or never confirmed
            preview = profile_files.apply_import(
                bytes(job.content), job.filename, actor=job.created_by, source=job.source, progress=progress
            )
            rows = len(preview.rows)
            ImportJob.objects.filter(pk=job_id).update(
                status=Status.DONE if preview.ok else Status.INVALID,
                stage="write" if preview.ok else "validate",
                done=rows,
                total=rows,
                content=b"",
                finished_at=timezone.now(),
                **_found(preview),
            )
    except Exception as error:
        # nothing was written; the job says why (the task decides whether to retry)
        ImportJob.objects.filter(pk=job_id, status=Status.IMPORTING).update(
            error=f"{type(error).__name__}: {error}"[:2000]
        )
        raise
    finally:
        progress.close()


def fail_job(*, job_id: int, error: str) -> None:
    """Give up on a job whose task failed for good (the file stays for a new attempt by upload)."""
    ImportJob.objects.filter(pk=job_id, status__in=ImportJob.RUNNING).update(
        status=Status.FAILED, error=error[:2000], finished_at=timezone.now()
    )
