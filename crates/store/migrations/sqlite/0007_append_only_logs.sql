-- profilestore, SQLite schema 7: the event log and the write outcomes as rowid tables with
-- one index each, kept in insertion order.
--
-- Both are only ever appended to, in commit order, by the group writer, and pruned from their
-- oldest end. SQLite appends to a rowid table by adding a page at its end; an index B-tree
-- (and a WITHOUT ROWID table is one) rebalances its last three leaves at every split. Measured
-- on a group commit of 15 writes: the old layout (outbox with its primary key and occurred_at
-- index; write_outcomes WITHOUT ROWID with an expiry index) logged 17 pages per commit, this
-- one 12; every page is written to the log, synced, and written again by the checkpoint.
--
-- Their time columns grow with the rowid (both are set by the writer, in commit order), so
-- pruning finds its end by walking from the oldest row instead of through an index of its own.
-- The copies keep that order: the old outbox was a rowid table already (its rowids are its
-- commit order); the old outcomes are copied in expiry order.

CREATE TABLE outbox_new (
    tenant_id   TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    event_id    TEXT NOT NULL,
    event_type  TEXT NOT NULL,
    occurred_at INTEGER NOT NULL,
    payload     TEXT NOT NULL
) STRICT;
INSERT INTO outbox_new (tenant_id, seq, event_id, event_type, occurred_at, payload)
    SELECT tenant_id, seq, event_id, event_type, occurred_at, payload FROM outbox ORDER BY rowid;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE UNIQUE INDEX outbox_seq ON outbox (tenant_id, seq);

CREATE TABLE write_outcomes_new (
    tenant_id  TEXT NOT NULL,
    transid    TEXT NOT NULL,
    outcome    TEXT NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
INSERT INTO write_outcomes_new (tenant_id, transid, outcome, expires_at)
    SELECT tenant_id, transid, outcome, expires_at FROM write_outcomes ORDER BY expires_at;
DROP TABLE write_outcomes;
ALTER TABLE write_outcomes_new RENAME TO write_outcomes;
CREATE UNIQUE INDEX write_outcomes_transid ON write_outcomes (tenant_id, transid);
