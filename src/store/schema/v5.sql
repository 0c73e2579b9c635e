-- Schema version 5: alerts. What deserved a person's attention, and the messages owed to the
-- alert channels (Slack, email) about it. Times are RFC 3339 UTC text.
--
-- One row per episode of a condition: it opens when the condition is first seen and is closed
-- (`cleared_at`) when the condition is gone; a condition that comes back opens a new row. So
-- each condition alerts once when it starts and once when it clears, however often cron runs.
CREATE TABLE alerts (
    id            INTEGER PRIMARY KEY,
    connection_id INTEGER REFERENCES connections (id) ON DELETE CASCADE,  -- NULL: not one account's (the secret store)
    stream        TEXT NOT NULL DEFAULT '',  -- '' for a condition of the whole connection
    condition     TEXT NOT NULL CHECK (condition IN
                      ('reconnect_needed', 'failing', 'stale', 'token_expiring', 'secret_store')),
    account       TEXT NOT NULL DEFAULT '',  -- "jobber account 'Acme'", kept for messages after a disconnect
    detail        TEXT NOT NULL,             -- what happened, sanitised and bounded (never a token or a body)
    fix           TEXT NOT NULL,             -- the one command that fixes it
    since         TEXT NOT NULL,             -- when the condition began (the first failure, the last success)
    first_seen_at TEXT NOT NULL,             -- when integ first saw it
    last_sent_at  TEXT,                      -- when a channel last accepted a message about it
    cleared_at    TEXT                       -- when it was seen gone
);
-- At most one open episode of a condition.
CREATE UNIQUE INDEX alerts_open ON alerts (coalesce(connection_id, 0), stream, condition) WHERE cleared_at IS NULL;
CREATE INDEX alerts_by_time ON alerts (first_seen_at);

-- The outbox: one row per message per channel. A send that fails stays here and is retried by
-- the next run (`attempts`, `last_error`) until it is sent or given up (`gave_up_at`).
CREATE TABLE alert_outbox (
    id          INTEGER PRIMARY KEY,
    alert_id    INTEGER REFERENCES alerts (id) ON DELETE CASCADE,  -- NULL for a daily summary
    kind        TEXT NOT NULL CHECK (kind IN ('opened', 'cleared', 'summary')),
    channel     TEXT NOT NULL CHECK (channel IN ('slack', 'email')),
    subject     TEXT NOT NULL,
    body        TEXT NOT NULL,               -- plain text, as sent
    created_at  TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_try_at TEXT,
    last_error  TEXT,
    sent_at     TEXT,
    gave_up_at  TEXT
);
CREATE INDEX alert_outbox_unsent ON alert_outbox (channel, id) WHERE sent_at IS NULL AND gave_up_at IS NULL;

-- Daily summaries: one row per local day one was made for (the first sync run after
-- `alerts.daily_summary` that day), and the instant it covers up to.
CREATE TABLE alert_summaries (
    day        TEXT PRIMARY KEY,            -- local date, YYYY-MM-DD
    covers_to  TEXT NOT NULL,               -- the summary covers runs started before this instant
    created_at TEXT NOT NULL
);
