-- Mirrored records by publication date: the daily pass that shows records whose date has come.
CREATE INDEX mirror_records_published ON mirror_records (published);
