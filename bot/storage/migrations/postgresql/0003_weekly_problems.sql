-- Why a guild's last weekly post failed, kept so that a restart still waits before the next attempt
-- and admins still see the reason in /admin weekly show and /admin stats (see ../0003_weekly_problems.sql).

CREATE TABLE weekly_problems (
    guild_id BIGINT      PRIMARY KEY,
    reason   TEXT        NOT NULL,
    at       TIMESTAMPTZ NOT NULL,
    -- NULL: the post went out and only a detail (the submissions thread) failed; nothing to retry.
    retry_at TIMESTAMPTZ
);
