-- A mirrored row is about 2.3 KB, over the 2 KB at which PostgreSQL starts compressing a row's
-- long values by default. Its dump text is already compressed (LZ4, by seqbank), so over a
-- quarter of the server's time in an import went to compressing it again, and compressing its
-- body saved little. Rows are now compressed only when over a page; larger ones still are, and
-- move out of line.
ALTER TABLE mirror_records SET (toast_tuple_target = 8160);
