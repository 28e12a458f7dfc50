-- Weekly prompt settings and the ledger that makes each scheduled week post exactly once.

CREATE TABLE weekly_settings (
    guild_id   INTEGER PRIMARY KEY,
    channel_id INTEGER,
    weekday    INTEGER NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    post_time  TEXT    NOT NULL,
    timezone   TEXT    NOT NULL,
    enabled    INTEGER NOT NULL CHECK (enabled IN (0, 1))
);

CREATE TABLE weekly_posts (
    guild_id   INTEGER NOT NULL,
    week_key   TEXT    NOT NULL,
    prompt_id  TEXT    NOT NULL,
    claimed_at TEXT    NOT NULL,
    channel_id INTEGER,
    message_id INTEGER,
    thread_id  INTEGER,
    -- One claim per guild and week: this key is what makes claiming atomic across restarts.
    PRIMARY KEY (guild_id, week_key)
);

CREATE INDEX weekly_posts_by_guild_time ON weekly_posts (guild_id, claimed_at);
