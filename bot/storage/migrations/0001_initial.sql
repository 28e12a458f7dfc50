-- Progress, activity days, the question log and ask channels.
-- Times are ISO-8601 UTC text of fixed width ("2024-05-01T18:00:00.000000+00:00"), so text order
-- is time order; days are "YYYY-MM-DD".

CREATE TABLE progress (
    guild_id     INTEGER NOT NULL,
    user_id      INTEGER NOT NULL,
    topic_id     TEXT    NOT NULL,
    completed_at TEXT    NOT NULL,
    -- The key makes "mark done" idempotent under concurrency: INSERT OR IGNORE keeps one row.
    PRIMARY KEY (guild_id, user_id, topic_id)
) WITHOUT ROWID;

CREATE INDEX progress_by_guild_time ON progress (guild_id, completed_at);

CREATE TABLE activity_days (
    guild_id INTEGER NOT NULL,
    user_id  INTEGER NOT NULL,
    day      TEXT    NOT NULL,
    PRIMARY KEY (guild_id, user_id, day)
) WITHOUT ROWID;

CREATE INDEX activity_by_guild_day ON activity_days (guild_id, day);

CREATE TABLE questions (
    id           INTEGER PRIMARY KEY,
    guild_id     INTEGER NOT NULL,
    user_id      INTEGER NOT NULL,
    question     TEXT    NOT NULL,
    top_topic_id TEXT,
    abstained    INTEGER NOT NULL CHECK (abstained IN (0, 1)),
    asked_at     TEXT    NOT NULL
);

CREATE INDEX questions_by_guild_time ON questions (guild_id, asked_at);
CREATE INDEX questions_by_member ON questions (guild_id, user_id);
-- Retention purges across all guilds by age.
CREATE INDEX questions_by_time ON questions (asked_at);

CREATE TABLE ask_channels (
    guild_id   INTEGER NOT NULL,
    channel_id INTEGER NOT NULL,
    PRIMARY KEY (guild_id, channel_id)
) WITHOUT ROWID;
