-- The change feed the search index follows: every insert or update of an object notes its id
-- here in the same transaction, so no write path can forget to tell the index.
CREATE TABLE object_changes (
    id BIGSERIAL PRIMARY KEY,
    object_id BIGINT NOT NULL
);

CREATE FUNCTION note_object_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO object_changes (object_id) VALUES (NEW.id);
    RETURN NULL;
END
$$;

CREATE TRIGGER objects_changed AFTER INSERT OR UPDATE ON objects
    FOR EACH ROW EXECUTE FUNCTION note_object_change();

-- Links are made after the objects they join; the objects on both ends change how they read.
CREATE FUNCTION note_link_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO object_changes (object_id) VALUES (NEW.from_id), (NEW.to_id);
    RETURN NULL;
END
$$;

CREATE TRIGGER links_changed AFTER INSERT ON links
    FOR EACH ROW EXECUTE FUNCTION note_link_change();
