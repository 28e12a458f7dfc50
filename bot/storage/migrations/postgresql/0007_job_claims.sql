-- Work that must happen once a day however many bot processes share the database (the retention purge), see
-- ../0007_job_claims.sql: only the process whose insert of (job, day) lands runs that day's work.
CREATE TABLE job_claims (
    job TEXT COLLATE "C" NOT NULL,
    day DATE NOT NULL,
    claimed_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (job, day)
);
