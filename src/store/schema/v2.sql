-- Schema version 2: Jobber jobs and what hangs off them. Keys are Jobber's ids, scoped by the
-- connection so several Jobber accounts can share one database.
CREATE TABLE clients (
    connection_id INTEGER NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    id            TEXT NOT NULL,
    name          TEXT,
    company_name  TEXT,
    is_company    INTEGER,
    is_archived   INTEGER,
    created_at    TEXT,
    updated_at    TEXT,
    web_url       TEXT,
    raw_json      TEXT NOT NULL,
    first_seen_at TEXT NOT NULL,
    last_seen_at  TEXT NOT NULL,
    PRIMARY KEY (connection_id, id)
);

CREATE TABLE jobs (
    connection_id INTEGER NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    id            TEXT NOT NULL,
    job_number    INTEGER,
    title         TEXT,
    status        TEXT,     -- Jobber jobStatus, lower case: upcoming, active, requires_invoicing, ...
    job_type      TEXT,     -- ONE_OFF or RECURRING
    instructions  TEXT,
    total         REAL,
    start_at      TEXT,
    end_at        TEXT,
    completed_at  TEXT,
    created_at    TEXT,
    updated_at    TEXT,
    client_id     TEXT,
    client_name   TEXT,
    property_id   TEXT,
    street1       TEXT,
    street2       TEXT,
    city          TEXT,
    province      TEXT,
    postal_code   TEXT,
    country       TEXT,
    web_url       TEXT,
    raw_json      TEXT NOT NULL,  -- the job as Jobber sent it (without line items and visits)
    first_seen_at TEXT NOT NULL,
    last_seen_at  TEXT NOT NULL,
    deleted_at    TEXT,           -- set by a completed full sweep that no longer found the job
    sweep         INTEGER NOT NULL DEFAULT 0,  -- the last full sweep that saw it (internal)
    PRIMARY KEY (connection_id, id)
);
CREATE INDEX jobs_by_number ON jobs (connection_id, job_number);
CREATE INDEX jobs_by_updated ON jobs (connection_id, updated_at);

CREATE TABLE job_line_items (
    connection_id INTEGER NOT NULL,
    job_id        TEXT NOT NULL,
    id            TEXT NOT NULL,
    position      INTEGER NOT NULL,
    name          TEXT,
    description   TEXT,
    quantity      REAL,
    unit_price    REAL,
    total_price   REAL,
    taxable       INTEGER,
    raw_json      TEXT NOT NULL,
    -- Clustered by job: a job's items are replaced together, so one b-tree serves both.
    PRIMARY KEY (connection_id, job_id, id),
    FOREIGN KEY (connection_id, job_id) REFERENCES jobs (connection_id, id) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE job_visits (
    connection_id INTEGER NOT NULL,
    job_id        TEXT NOT NULL,
    id            TEXT NOT NULL,
    title         TEXT,
    start_at      TEXT,
    end_at        TEXT,
    completed_at  TEXT,
    is_complete   INTEGER,
    status        TEXT,
    raw_json      TEXT NOT NULL,
    PRIMARY KEY (connection_id, job_id, id),
    FOREIGN KEY (connection_id, job_id) REFERENCES jobs (connection_id, id) ON DELETE CASCADE
) WITHOUT ROWID;

-- The crew: users assigned to each visit.
CREATE TABLE job_visit_assignees (
    connection_id INTEGER NOT NULL,
    job_id        TEXT NOT NULL,
    visit_id      TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    user_name     TEXT,
    PRIMARY KEY (connection_id, job_id, visit_id, user_id),
    FOREIGN KEY (connection_id, job_id, visit_id) REFERENCES job_visits (connection_id, job_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
