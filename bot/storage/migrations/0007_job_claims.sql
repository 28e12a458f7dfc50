-- Work that must happen once a day however many bot processes share the database (the retention purge):
-- each process that finds the day's work due inserts (job, day); only the one whose insert lands runs it.
CREATE TABLE job_claims (
    job TEXT NOT NULL,
    day TEXT NOT NULL,  -- the UTC day, YYYY-MM-DD
    claimed_at TEXT NOT NULL,
    PRIMARY KEY (job, day)
);
