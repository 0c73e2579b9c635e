-- Schema version 1: connections and sync bookkeeping. Times are RFC 3339 UTC text.
CREATE TABLE connections (
    id               INTEGER PRIMARY KEY,
    provider         TEXT NOT NULL CHECK (provider IN ('jobber', 'google', 'microsoft', 'calendly')),
    account_id       TEXT NOT NULL,   -- the provider's stable identity (Jobber account.id, Google sub, ...)
    account_name     TEXT NOT NULL,   -- display name or email, for people
    label            TEXT NOT NULL,   -- the name --account matches (defaults to account_name)
    scopes           TEXT NOT NULL DEFAULT '',  -- space-separated, as granted
    token_expires_at TEXT,            -- when the stored access token expires
    state            TEXT NOT NULL CHECK (state IN ('connected', 'reconnect_needed', 'disconnected')),
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    last_refresh_at  TEXT,            -- last successful token refresh (keep-alive for idle expiry)
    last_error       TEXT,
    UNIQUE (provider, account_id)
);

CREATE TABLE sync_state (
    connection_id   INTEGER NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    stream          TEXT NOT NULL,    -- 'jobs', 'clients', 'events:<calendar id>', ...
    cursor          TEXT,             -- provider cursor or watermark; opaque
    last_attempt_at TEXT,
    last_success_at TEXT,
    PRIMARY KEY (connection_id, stream)
);

CREATE TABLE sync_runs (
    id             INTEGER PRIMARY KEY,
    connection_id  INTEGER REFERENCES connections (id) ON DELETE SET NULL,
    stream         TEXT NOT NULL,
    started_at     TEXT NOT NULL,
    finished_at    TEXT,
    fetched        INTEGER NOT NULL DEFAULT 0,
    inserted       INTEGER NOT NULL DEFAULT 0,
    updated        INTEGER NOT NULL DEFAULT 0,
    deleted        INTEGER NOT NULL DEFAULT 0,
    requests       INTEGER NOT NULL DEFAULT 0,
    throttle_waits INTEGER NOT NULL DEFAULT 0,
    outcome        TEXT NOT NULL CHECK (outcome IN ('running', 'ok', 'partial', 'failed', 'interrupted')),
    error          TEXT
);
CREATE INDEX sync_runs_by_stream ON sync_runs (connection_id, stream, started_at);
