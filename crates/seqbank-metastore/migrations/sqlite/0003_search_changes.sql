-- The change feed the search index follows: every insert or update of an object notes its id
-- here in the same transaction, so no write path can forget to tell the index.
CREATE TABLE object_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    object_id BIGINT NOT NULL
);

CREATE TRIGGER objects_inserted AFTER INSERT ON objects
BEGIN
    INSERT INTO object_changes (object_id) VALUES (NEW.id);
END;

CREATE TRIGGER objects_updated AFTER UPDATE ON objects
BEGIN
    INSERT INTO object_changes (object_id) VALUES (NEW.id);
END;

-- Links are made after the objects they join; the objects on both ends change how they read.
CREATE TRIGGER links_inserted AFTER INSERT ON links
BEGIN
    INSERT INTO object_changes (object_id) VALUES (NEW.from_id);
    INSERT INTO object_changes (object_id) VALUES (NEW.to_id);
END;
