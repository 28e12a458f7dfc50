-- Several roadmaps at once: the roadmap a member chose to follow, and the roadmap a guild's weekly
-- prompts come from (NULL: every loaded roadmap's prompts take turns). See ../0004_followed_roadmaps.sql.

CREATE TABLE followed_roadmaps (
    guild_id   BIGINT      NOT NULL,
    user_id    BIGINT      NOT NULL,
    roadmap_id TEXT        COLLATE "C" NOT NULL,
    chosen_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (guild_id, user_id)
);

ALTER TABLE weekly_settings ADD COLUMN roadmap_id TEXT COLLATE "C";
