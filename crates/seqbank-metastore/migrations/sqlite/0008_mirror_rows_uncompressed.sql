-- PostgreSQL stops compressing mirrored rows under a page (its migration 0008); SQLite never
-- compresses rows, so nothing changes here. Kept so both backends count the same migrations.
SELECT 1;
