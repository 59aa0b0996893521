-- Mirrored public records (NCBI/INSDC dumps): one row per accession, read-only to users.
-- `seq` orders changes for the search index, which follows it the way it follows object_changes.
CREATE TABLE mirror_records (
    accession TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    origin TEXT NOT NULL,
    source TEXT NOT NULL,
    dump_date TEXT NOT NULL,
    status TEXT NOT NULL,
    last_update TEXT,
    published TEXT,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    raw TEXT NOT NULL,
    hash BIGINT NOT NULL,
    seq BIGINT NOT NULL
);
CREATE INDEX mirror_records_seq ON mirror_records (seq);

-- One row per import of one file: where it stands (records read, committed with the records
-- they wrote), its counts and what it skipped.
CREATE TABLE mirror_imports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    file TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    dump_date TEXT NOT NULL,
    state TEXT NOT NULL,
    position BIGINT NOT NULL,
    imported BIGINT NOT NULL,
    updated BIGINT NOT NULL,
    unchanged BIGINT NOT NULL,
    skipped BIGINT NOT NULL,
    local_kept BIGINT NOT NULL,
    problems TEXT NOT NULL,
    error TEXT,
    started_at TEXT NOT NULL,
    finished_at TEXT
);
CREATE INDEX mirror_imports_fingerprint ON mirror_imports (fingerprint, state);
