-- A mirrored record's text as its dump wrote it is kept compressed (seqbank_metastore::Raw): new
-- rows hold a BLOB in `raw`, which SQLite keeps as it is in a TEXT column; rows written before
-- keep their plain text, which reads the same (selected as CAST(raw AS BLOB)).
SELECT 1;
