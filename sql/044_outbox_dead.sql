-- /metrics counts the outbox's dead messages of the last day (drover_outbox_messages{state=
-- "dead"}, store/census.c) at every scrape: a partial index keeps that an index range scan
-- however many delivered messages retention has not pruned yet.
CREATE INDEX outbox_dead_idx ON outbox (created_at) WHERE state = 'dead';
