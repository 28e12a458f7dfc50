-- Weekly prompt settings and the ledger that makes each scheduled week post exactly once (see ../0002_weekly.sql).

CREATE TABLE weekly_settings (
    guild_id   BIGINT   PRIMARY KEY,
    channel_id BIGINT,
    weekday    INTEGER  NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    post_time  TEXT     NOT NULL,
    timezone   TEXT     NOT NULL,
    enabled    SMALLINT NOT NULL CHECK (enabled IN (0, 1))
);

CREATE TABLE weekly_posts (
    guild_id   BIGINT      NOT NULL,
    week_key   TEXT        COLLATE "C" NOT NULL,
    prompt_id  TEXT        COLLATE "C" NOT NULL,
    claimed_at TIMESTAMPTZ NOT NULL,
    channel_id BIGINT,
    message_id BIGINT,
    thread_id  BIGINT,
    -- One claim per guild and week: this key is what makes claiming atomic across restarts and processes.
    PRIMARY KEY (guild_id, week_key)
);

CREATE INDEX weekly_posts_by_guild_time ON weekly_posts (guild_id, claimed_at);
