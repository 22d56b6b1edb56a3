-- Runs once, when the postgres volume is first initialised (docker-entrypoint-initdb.d).
-- Holdpoint's evidence store gets its own role and database, separate from Temporal's
-- `temporal` and `temporal_visibility` databases, so neither can read or migrate the other's.
-- Change the password here and in DATABASE_URL (docker-compose.yml) before real use.
CREATE ROLE holdpoint LOGIN PASSWORD 'holdpoint';
CREATE DATABASE holdpoint OWNER holdpoint;
REVOKE ALL ON DATABASE holdpoint FROM PUBLIC;
