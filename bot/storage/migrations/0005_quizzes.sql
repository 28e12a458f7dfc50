-- Quizzes and spaced review: each member's review schedule per topic (an FSRS card), their quiz answers and
-- their review reminder settings. All per guild and member, like progress; /privacy export and forget cover them.

CREATE TABLE review_cards (
    guild_id    INTEGER NOT NULL,
    user_id     INTEGER NOT NULL,
    topic_id    TEXT    NOT NULL,
    -- The FSRS card (fsrs.Card): state 1 learning, 2 review, 3 relearning; step within learning.
    state       INTEGER NOT NULL,
    step        INTEGER,
    stability   REAL,
    difficulty  REAL,
    due         TEXT    NOT NULL,
    last_review TEXT,
    reviews     INTEGER NOT NULL DEFAULT 0,
    lapses      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (guild_id, user_id, topic_id)
) WITHOUT ROWID;

CREATE TABLE quiz_attempts (
    id           INTEGER PRIMARY KEY,
    guild_id     INTEGER NOT NULL,
    user_id      INTEGER NOT NULL,
    topic_id     TEXT    NOT NULL,
    -- knowledge.loader.quiz_key: the question's topic and wording; a reworded question is a new one.
    question_key TEXT    NOT NULL,
    choice       INTEGER NOT NULL,
    correct      INTEGER NOT NULL CHECK (correct IN (0, 1)),
    answered_at  TEXT    NOT NULL
);

CREATE INDEX quiz_attempts_by_guild_time ON quiz_attempts (guild_id, answered_at);
CREATE INDEX quiz_attempts_by_member ON quiz_attempts (guild_id, user_id, question_key);
-- Retention purges across all guilds by age.
CREATE INDEX quiz_attempts_by_time ON quiz_attempts (answered_at);

CREATE TABLE review_reminders (
    guild_id   INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    hour       INTEGER NOT NULL CHECK (hour BETWEEN 0 AND 23),
    timezone   TEXT    NOT NULL,
    -- Where the member turned reminders on: told there, once, if their DMs turn out to be closed.
    channel_id INTEGER,
    -- The member's local day ("YYYY-MM-DD") last decided: claimed before the DM goes out, so once a day.
    last_day   TEXT,
    -- Set when a DM was refused (403): no reminder is tried until the member turns reminders on again.
    paused_at  TEXT,
    PRIMARY KEY (guild_id, user_id)
) WITHOUT ROWID;
