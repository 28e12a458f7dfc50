-- Feedback on answers, kept with the question it answers (so the question log's retention, /privacy export and
-- /privacy forget cover it): the entry the answer led with, a key the answer's buttons name the question by,
-- and whether the member found it helpful, with what they were looking for when it was not.

ALTER TABLE questions ADD COLUMN top_result_id TEXT;
-- Random, 12 hex digits, set when the answer was posted with feedback buttons (NULL for older questions).
ALTER TABLE questions ADD COLUMN answer_key TEXT;
ALTER TABLE questions ADD COLUMN feedback TEXT CHECK (feedback IN ('helpful', 'unhelpful'));
-- What the member was looking for (optional, at most 200 characters), when the answer did not help.
ALTER TABLE questions ADD COLUMN feedback_text TEXT;
ALTER TABLE questions ADD COLUMN feedback_at TEXT;

CREATE UNIQUE INDEX questions_by_answer_key ON questions (answer_key);
-- /admin feedback: a guild's declined questions and unhelpful answers over a window.
CREATE INDEX questions_feedback_by_guild_time ON questions (guild_id, feedback, asked_at);
