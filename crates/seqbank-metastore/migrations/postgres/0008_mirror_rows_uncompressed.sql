-- A mirrored row is about 2.3 KB, over the 2 KB at which PostgreSQL starts compressing a row's
-- long values by default. Its dump text is already compressed (LZ4, by seqbank), so that spent
-- a third of the server's time on an import trying again, and its body saved little. Rows are
-- now compressed only when over a page; larger ones still are, and move out of line.
ALTER TABLE mirror_records SET (toast_tuple_target = 8160);
