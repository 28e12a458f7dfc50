-- Reserved: version 4 is a colleague's member-roadmap migration (issue 14's branch), written beside this
-- one. This placeholder changes nothing and only keeps the numbering without a gap on this branch; when
-- both branches meet, delete this file and keep theirs (the migration loader refuses two files numbered 4).
SELECT 1;
