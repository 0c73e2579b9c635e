-- Schema version 4: faster Jobber writes, same data.
--
-- `jobs` gains `key INTEGER PRIMARY KEY`, a stable row key that never changes once a job is
-- stored. The child tables are clustered by it instead of by the job's text id: a sync writes
-- jobs in the order it reads them, so new jobs' line items, visits and crews are appended at the
-- end of their b-trees (integer comparisons, few pages touched) instead of scattered across
-- them. A child row refers to its job by `job_key = jobs.key` (the job's Jobber id is on the
-- job; repeating it on every child row only cost space and time); `connection_id` stays.
--
-- The child tables lose `raw_json`: the query selects exactly the fields that have columns, so
-- it repeated them. They also lose their foreign keys (the per-row parent lookup and statement
-- journal were most of a child insert's cost); integ deletes a job's children with it.

CREATE TABLE jobs_v4 (
    key           INTEGER PRIMARY KEY,
    connection_id INTEGER NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    id            TEXT NOT NULL,
    job_number    INTEGER,
    title         TEXT,
    status        TEXT,
    job_type      TEXT,
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
    raw_json      TEXT NOT NULL,
    first_seen_at TEXT NOT NULL,
    last_seen_at  TEXT NOT NULL,
    deleted_at    TEXT,
    sweep         INTEGER NOT NULL DEFAULT 0,
    UNIQUE (connection_id, id)
);
INSERT INTO jobs_v4 (connection_id, id, job_number, title, status, job_type, instructions, total, start_at, end_at,
    completed_at, created_at, updated_at, client_id, client_name, property_id, street1, street2, city, province,
    postal_code, country, web_url, raw_json, first_seen_at, last_seen_at, deleted_at, sweep)
SELECT connection_id, id, job_number, title, status, job_type, instructions, total, start_at, end_at,
    completed_at, created_at, updated_at, client_id, client_name, property_id, street1, street2, city, province,
    postal_code, country, web_url, raw_json, first_seen_at, last_seen_at, deleted_at, sweep
FROM jobs ORDER BY connection_id, job_number, id;

CREATE TABLE job_line_items_v4 (
    job_key       INTEGER NOT NULL,  -- jobs.key
    id            TEXT NOT NULL,
    connection_id INTEGER NOT NULL,
    position      INTEGER NOT NULL,
    name          TEXT,
    description   TEXT,
    quantity      REAL,
    unit_price    REAL,
    total_price   REAL,
    taxable       INTEGER,
    PRIMARY KEY (job_key, id)
) WITHOUT ROWID;
INSERT INTO job_line_items_v4 (job_key, id, connection_id, position, name, description, quantity,
    unit_price, total_price, taxable)
SELECT j.key, li.id, li.connection_id, li.position, li.name, li.description, li.quantity, li.unit_price,
    li.total_price, li.taxable
FROM job_line_items li JOIN jobs_v4 j ON j.connection_id = li.connection_id AND j.id = li.job_id;

CREATE TABLE job_visits_v4 (
    job_key       INTEGER NOT NULL,
    id            TEXT NOT NULL,
    connection_id INTEGER NOT NULL,
    title         TEXT,
    start_at      TEXT,
    end_at        TEXT,
    completed_at  TEXT,
    is_complete   INTEGER,
    status        TEXT,
    PRIMARY KEY (job_key, id)
) WITHOUT ROWID;
INSERT INTO job_visits_v4 (job_key, id, connection_id, title, start_at, end_at, completed_at,
    is_complete, status)
SELECT j.key, v.id, v.connection_id, v.title, v.start_at, v.end_at, v.completed_at, v.is_complete, v.status
FROM job_visits v JOIN jobs_v4 j ON j.connection_id = v.connection_id AND j.id = v.job_id;

CREATE TABLE job_visit_assignees_v4 (
    job_key       INTEGER NOT NULL,
    visit_id      TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    connection_id INTEGER NOT NULL,
    user_name     TEXT,
    PRIMARY KEY (job_key, visit_id, user_id)
) WITHOUT ROWID;
INSERT INTO job_visit_assignees_v4 (job_key, visit_id, user_id, connection_id, user_name)
SELECT j.key, a.visit_id, a.user_id, a.connection_id, a.user_name
FROM job_visit_assignees a JOIN jobs_v4 j ON j.connection_id = a.connection_id AND j.id = a.job_id;

DROP TABLE job_visit_assignees;
DROP TABLE job_visits;
DROP TABLE job_line_items;
DROP TABLE jobs;
ALTER TABLE jobs_v4 RENAME TO jobs;
ALTER TABLE job_line_items_v4 RENAME TO job_line_items;
ALTER TABLE job_visits_v4 RENAME TO job_visits;
ALTER TABLE job_visit_assignees_v4 RENAME TO job_visit_assignees;
CREATE INDEX jobs_by_number ON jobs (connection_id, job_number);
-- `jobs_by_updated` is gone: no query integ runs uses it (listing sorts a few thousand rows
-- faster than a sync maintains a randomly ordered index on every write).
