-- Archive core: users, tokens, submissions, objects with versions and links, events, accession counters.
-- Timestamps are RFC 3339 UTC text and dates are YYYY-MM-DD text in both backends, so rows compare and
-- export the same way everywhere.

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    password_hash TEXT,
    created_at TEXT NOT NULL
);

CREATE TABLE tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id),
    token_hash TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE submissions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id BIGINT NOT NULL REFERENCES users (id),
    alias TEXT NOT NULL,
    title TEXT NOT NULL,
    status TEXT NOT NULL,
    accession TEXT UNIQUE,
    hold_until TEXT,
    findings TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (owner_id, alias)
);

CREATE TABLE objects (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    owner_id BIGINT NOT NULL REFERENCES users (id),
    submission_id BIGINT NOT NULL REFERENCES submissions (id),
    alias TEXT NOT NULL,
    accession TEXT UNIQUE,
    status TEXT NOT NULL,
    version INTEGER NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    hold_until TEXT,
    status_reason TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    released_at TEXT,
    UNIQUE (owner_id, kind, alias)
);
CREATE INDEX objects_submission ON objects (submission_id);
CREATE INDEX objects_kind_status ON objects (kind, status, id);
CREATE INDEX objects_hold ON objects (status, hold_until);

CREATE TABLE links (
    from_id BIGINT NOT NULL REFERENCES objects (id),
    to_id BIGINT NOT NULL REFERENCES objects (id),
    PRIMARY KEY (from_id, to_id)
);
CREATE INDEX links_to ON links (to_id);

CREATE TABLE object_versions (
    object_id BIGINT NOT NULL REFERENCES objects (id),
    version INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by BIGINT REFERENCES users (id),
    PRIMARY KEY (object_id, version)
);

CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subject TEXT NOT NULL,
    subject_id BIGINT NOT NULL,
    action TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT,
    actor_id BIGINT REFERENCES users (id),
    reason TEXT,
    at TEXT NOT NULL
);
CREATE INDEX events_subject ON events (subject, subject_id, id);

CREATE TABLE accession_counters (
    prefix TEXT PRIMARY KEY,
    next_value BIGINT NOT NULL
);
