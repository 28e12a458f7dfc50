-- Feedback on answers, kept with the question it answers (see ../0006_answer_feedback.sql): the entry the answer
-- led with, the key its buttons name the question by, helpful or not and what the member was looking for.

ALTER TABLE questions ADD COLUMN top_result_id TEXT COLLATE "C";
-- Random, 12 hex digits, set when the answer was posted with feedback buttons (NULL for older questions).
ALTER TABLE questions ADD COLUMN answer_key TEXT COLLATE "C";
ALTER TABLE questions ADD COLUMN feedback TEXT COLLATE "C" CHECK (feedback IN ('helpful', 'unhelpful'));
-- What the member was looking for (optional, at most 200 characters), when the answer did not help.
ALTER TABLE questions ADD COLUMN feedback_text TEXT;
ALTER TABLE questions ADD COLUMN feedback_at TIMESTAMPTZ;

CREATE UNIQUE INDEX questions_by_answer_key ON questions (answer_key);
-- /admin feedback: a guild's declined questions and unhelpful answers over a window.
CREATE INDEX questions_feedback_by_guild_time ON questions (guild_id, feedback, asked_at);
