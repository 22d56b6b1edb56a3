-- Runs once, when the postgres volume is first initialised (docker-entrypoint-initdb.d).
-- Holdpoint's evidence store gets its own role and database, separate from Temporal's
-- `temporal` and `temporal_visibility` databases, so neither can read or migrate the other's.
-- Change the password here and in DATABASE_URL (docker-compose.yml) before real use.
CREATE ROLE holdpoint LOGIN PASSWORD 'holdpoint';
CREATE DATABASE holdpoint OWNER holdpoint;
REVOKE ALL ON DATABASE holdpoint FROM PUBLIC;

-- Issue 15: the worker and API connect as holdpoint_app, which may only insert and read evidence.
-- holdpoint (the owner) runs the migrations and grants holdpoint_app its table rights after each
-- one (src/platform/postgres/runtime-role.ts); holdpoint_app owns nothing, so it cannot alter a table, disable a
-- trigger or truncate. Change this password too, here and in DATABASE_URL.
CREATE ROLE holdpoint_app LOGIN PASSWORD 'holdpoint_app';
GRANT CONNECT ON DATABASE holdpoint TO holdpoint_app;
