-- The daily pass looks only for records whose publication date was ahead when they were
-- imported, which were published after their dump's date; the index holds just those (an index
-- of every record's date cost an insert at a random place for each record imported).
DROP INDEX mirror_records_published;
CREATE INDEX mirror_records_published_ahead ON mirror_records (published) WHERE published > dump_date;
