-- Files: resumable uploads in staging, the files of runs (validated, then archived), and the job queue.

-- One tus upload: bytes arriving for one declared file of one run.
CREATE TABLE uploads (
    id TEXT PRIMARY KEY,
    owner_id BIGINT NOT NULL REFERENCES users (id),
    run_id BIGINT NOT NULL REFERENCES objects (id),
    file_name TEXT NOT NULL,
    length BIGINT NOT NULL,
    received BIGINT NOT NULL,
    -- receiving | received | validating | valid | invalid | archived | cancelled | expired
    state TEXT NOT NULL,
    multipart_id TEXT,
    parts TEXT NOT NULL,
    part_size BIGINT NOT NULL,
    spooled BIGINT NOT NULL,
    expires_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX uploads_owner ON uploads (owner_id, state);
CREATE INDEX uploads_run ON uploads (run_id, file_name);

-- The current file of each declared file of a run: where its bytes are, their checksums, and the
-- validation report. storage_key moves from staging to runs/... when the run is archived.
CREATE TABLE files (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id BIGINT NOT NULL REFERENCES objects (id),
    name TEXT NOT NULL,
    upload_id TEXT NOT NULL REFERENCES uploads (id),
    storage_key TEXT NOT NULL UNIQUE,
    size BIGINT NOT NULL,
    md5 TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    valid BOOLEAN NOT NULL,
    report TEXT NOT NULL,
    archived BOOLEAN NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    audited_at TEXT,
    audit_ok BOOLEAN,
    UNIQUE (run_id, name)
);

-- Work done in the background, at least once, by whichever worker holds the lease.
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    subject_id BIGINT NOT NULL,
    -- queued | running | done | failed
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    max_attempts INTEGER NOT NULL,
    run_after TEXT NOT NULL,
    lease_owner TEXT,
    lease_until TEXT,
    done BIGINT NOT NULL,
    total BIGINT NOT NULL,
    last_error TEXT,
    result TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
-- At most one queued job of a kind per subject: enqueueing twice is harmless, and a change
-- while a job runs queues one more pass.
CREATE UNIQUE INDEX jobs_queued ON jobs (kind, subject_id) WHERE state = 'queued';
CREATE INDEX jobs_ready ON jobs (state, run_after, id);
