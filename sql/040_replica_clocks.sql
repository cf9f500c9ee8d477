-- Clock skew between droverd replicas and the database, for `droverd doctor` and
-- GET /api/diagnostics: each replica's sweep records, at most every 30 s, how far its wall clock
-- is from the database's (leases, back-off and run_after are the database's time; a replica
-- whose clock is off still works, but its log timestamps and the agents it starts mislead).
CREATE TABLE replica_clocks (
    replica     text PRIMARY KEY CHECK (length(replica) BETWEEN 1 AND 200),
    skew_ms     double precision NOT NULL,  -- database time minus the replica's, when measured
    measured_at timestamptz NOT NULL DEFAULT now()
);
