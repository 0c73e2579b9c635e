-- Schema version 3: calendars and their events (Google Calendar, Microsoft Outlook, Calendly).
CREATE TABLE calendars (
    connection_id INTEGER NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    id            TEXT NOT NULL,      -- the provider's calendar id (Calendly: the user URI)
    name          TEXT,
    time_zone     TEXT,
    is_primary    INTEGER NOT NULL DEFAULT 0,
    access_role   TEXT,
    selected      INTEGER NOT NULL DEFAULT 0,  -- integ syncs its events
    raw_json      TEXT NOT NULL,
    first_seen_at TEXT NOT NULL,
    last_seen_at  TEXT NOT NULL,
    deleted_at    TEXT,               -- no longer listed by the provider
    PRIMARY KEY (connection_id, id)
);

CREATE TABLE events (
    connection_id   INTEGER NOT NULL,
    calendar_id     TEXT NOT NULL,
    id              TEXT NOT NULL,    -- the provider's event id (Calendly: the event URI)
    provider        TEXT NOT NULL,
    title           TEXT,
    description     TEXT,
    location        TEXT,
    status          TEXT,             -- confirmed, tentative, cancelled (Google, Microsoft); active, canceled (Calendly)
    all_day         INTEGER NOT NULL DEFAULT 0,
    start_at        TEXT,             -- timed events: UTC instant
    end_at          TEXT,
    start_date      TEXT,             -- all-day events: the first day (floating date)
    end_date        TEXT,             -- all-day events: the day AFTER the last day (exclusive, as Google sends it)
    time_zone       TEXT,             -- the event's original time zone, as the provider names it
    series_id       TEXT,             -- recurring instances: the series (master) id
    original_start  TEXT,             -- recurring instances: the start the series gave it
    organizer       TEXT,
    attendees_count INTEGER,
    updated_at      TEXT,             -- the provider's last-modified time
    raw_json        TEXT NOT NULL,
    first_seen_at   TEXT NOT NULL,
    last_seen_at    TEXT NOT NULL,
    deleted_at      TEXT,             -- cancelled, removed, or moved out of the sync window
    PRIMARY KEY (connection_id, calendar_id, id),
    FOREIGN KEY (connection_id, calendar_id) REFERENCES calendars (connection_id, id) ON DELETE CASCADE
);
CREATE INDEX events_by_start ON events (connection_id, start_at);
CREATE INDEX events_by_date ON events (connection_id, start_date);
CREATE INDEX events_by_series ON events (connection_id, series_id);
