-- v6: pushing Jobber visits into Google and Outlook calendars (`integ push`).

-- One rule: which Jobber account's visits (all, or some crew members') go into which calendar
-- of which Google or Microsoft connection, over which window around today.
CREATE TABLE push_rules (
    id                   INTEGER PRIMARY KEY,
    target_connection_id INTEGER NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    calendar_id          TEXT NOT NULL,   -- the provider's calendar id
    calendar_name        TEXT,            -- --create NAME (integ made the calendar), else NULL
    source_connection_id INTEGER NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    crew                 TEXT NOT NULL DEFAULT '[]',  -- JSON list of Jobber user names or ids; [] = every visit
    past_days            INTEGER NOT NULL,
    future_days          INTEGER NOT NULL,
    created_at           TEXT NOT NULL,
    last_push_at         TEXT,            -- the last push run's cursor, committed with its events
    UNIQUE (target_connection_id, calendar_id, source_connection_id, crew)
);

-- What integ pushed: one row per (rule, visit). `event_id` is NULL while a Microsoft create is
-- under way (its answer not yet recorded): the next run looks the event up by integ's extended
-- property before creating one.
CREATE TABLE pushed_events (
    rule_id      INTEGER NOT NULL REFERENCES push_rules (id) ON DELETE CASCADE,
    visit_key    TEXT NOT NULL,       -- '<Jobber job id>/<Jobber visit id>'
    event_id     TEXT,                -- the target calendar's event id
    generation   INTEGER NOT NULL DEFAULT 0,  -- bumped when the event must be made anew (deleted id)
    content_hash TEXT NOT NULL,       -- of the fields integ writes; '' while a create is under way
    pushed_at    TEXT NOT NULL,
    PRIMARY KEY (rule_id, visit_key)
) WITHOUT ROWID;

-- Pushed events coming back through `integ sync events`: join `events` on
-- (connection_id, calendar_id, id) to tell integ's own visit events from everything else.
CREATE VIEW pushed_calendar_events AS
SELECT r.target_connection_id AS connection_id, r.calendar_id, p.event_id AS event_id, p.rule_id, p.visit_key
FROM pushed_events p JOIN push_rules r ON r.id = p.rule_id
WHERE p.event_id IS NOT NULL;
