-- Several roadmaps at once: the roadmap a member chose to follow, and the roadmap a guild's weekly
-- prompts come from (NULL: every loaded roadmap's prompts take turns).

CREATE TABLE followed_roadmaps (
    guild_id   INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    roadmap_id TEXT    NOT NULL,
    chosen_at  TEXT    NOT NULL,
    PRIMARY KEY (guild_id, user_id)
);

ALTER TABLE weekly_settings ADD COLUMN roadmap_id TEXT;
