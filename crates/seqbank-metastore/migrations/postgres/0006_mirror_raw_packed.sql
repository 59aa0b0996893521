-- A mirrored record's text as its dump wrote it is kept compressed (seqbank_metastore::Raw), so
-- the column holds bytes. Rows written before keep their plain text, which reads the same.
ALTER TABLE mirror_records ALTER COLUMN raw TYPE BYTEA USING convert_to(raw, 'UTF8');
