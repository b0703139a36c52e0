/**
 * The one-machine store's tables: a table per kind of record, with columns for what is keyed,
 * ordered, conditioned on or looked up by time, and JSON for the rest. The DynamoDB tables'
 * counterparts (shared/adapters/aws/tables.ts): the tenants table's kinds of items get a table
 * each here, and the sparse `due` index is a partial index (one machine needs no shards).
 *
 * `expires_at` is the retention deadline in epoch seconds, as DynamoDB's TTL attribute: a row
 * past it is invisible to reads at once and deleted by HooklineDatabase.purgeExpired.
 *
 * Changing a table's format means bumping SCHEMA_VERSION and adding a migration step: a
 * database written by a newer version is refused (database.ts). The queue's tables
 * (sqlite-queue.ts) live in the same file and follow the same rule.
 */
export const SCHEMA_VERSION = 1;

/** The tables whose rows expire (each has an index on `expires_at` for the purge). */
export const EXPIRING_TABLES = [
  'events',
  'deliveries',
  'attempts',
  'email_counts',
  'request_windows',
  'credential_locks',
  'queue_lag',
  'webhook_leases',
  'portal_sessions',
] as const;

export const SCHEMA = `
  -- TENANT#<id>: the tenant as created, its webhook counter and its own request limit.
  CREATE TABLE IF NOT EXISTS tenants (
    tenant_id TEXT PRIMARY KEY,
    doc TEXT NOT NULL,
    webhook_count INTEGER NOT NULL DEFAULT 0,
    rate_limit TEXT
  ) WITHOUT ROWID;
  -- The tenant's listing of its keys (the tenant item's key#<id> attributes), in the order added.
  CREATE TABLE IF NOT EXISTS tenant_keys (
    tenant_id TEXT NOT NULL,
    key_id TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (tenant_id, key_id)
  );
  -- KEY#<sha256>: the lookup authentication reads.
  CREATE TABLE IF NOT EXISTS api_keys (
    key_hash TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    key_id TEXT
  ) WITHOUT ROWID;

  CREATE TABLE IF NOT EXISTS webhooks (
    tenant_id TEXT NOT NULL,
    webhook_id TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (tenant_id, webhook_id)
  );

  -- Published events; the primary key is the idempotency check, due_at the due index.
  CREATE TABLE IF NOT EXISTS events (
    tenant_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    data_json TEXT NOT NULL,
    received_at TEXT NOT NULL,
    due_at TEXT,
    fanned_out_at TEXT,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, event_id)
  );
  CREATE INDEX IF NOT EXISTS events_due ON events (due_at) WHERE due_at IS NOT NULL;
  CREATE INDEX IF NOT EXISTS events_expiry ON events (expires_at);

  -- One row per (event, webhook); doc holds the rest of the NewDelivery (event_type).
  CREATE TABLE IF NOT EXISTS deliveries (
    delivery_id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    webhook_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts_started INTEGER NOT NULL,
    attempts_completed INTEGER NOT NULL,
    claimed_at TEXT,
    next_attempt_at TEXT,
    due_at TEXT,
    follow_up TEXT,
    cancel_reason TEXT,
    history TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    doc TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (due_at) WHERE due_at IS NOT NULL;
  CREATE INDEX IF NOT EXISTS deliveries_expiry ON deliveries (expires_at);

  -- The delivery log: attempt_key = <delivery_id>#<attempt, 3 digits> (rows of an earlier format,
  -- <attempted_at>#..., sort before every delivery id and so list after the newer ones).
  CREATE TABLE IF NOT EXISTS attempts (
    webhook_id TEXT NOT NULL,
    attempt_key TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    success INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (webhook_id, attempt_key)
  );
  CREATE INDEX IF NOT EXISTS attempts_expiry ON attempts (expires_at);

  -- EMAILS#<tenant>#<hour>
  CREATE TABLE IF NOT EXISTS email_counts (
    tenant_id TEXT NOT NULL,
    hour TEXT NOT NULL,
    sent INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, hour)
  );
  CREATE INDEX IF NOT EXISTS email_counts_expiry ON email_counts (expires_at);

  -- RATE#<tenant>#<window start ms>
  CREATE TABLE IF NOT EXISTS request_windows (
    tenant_id TEXT NOT NULL,
    window_start_ms INTEGER NOT NULL,
    requests INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, window_start_ms)
  );
  CREATE INDEX IF NOT EXISTS request_windows_expiry ON request_windows (expires_at);

  -- CREDLOCK#<tenant>; held_until in epoch ms.
  CREATE TABLE IF NOT EXISTS credential_locks (
    tenant_id TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    held_until INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS credential_locks_expiry ON credential_locks (expires_at);

  -- LAG#<key>
  CREATE TABLE IF NOT EXISTS queue_lag (
    lag_key TEXT PRIMARY KEY,
    due_at TEXT NOT NULL,
    observed_at TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS queue_lag_expiry ON queue_lag (expires_at);

  -- SLOTS#<tenant>#<webhook>: leases is a JSON map of lease id -> expiry (epoch ms).
  CREATE TABLE IF NOT EXISTS webhook_leases (
    tenant_id TEXT NOT NULL,
    webhook_id TEXT NOT NULL,
    leases TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, webhook_id)
  );
  CREATE INDEX IF NOT EXISTS webhook_leases_expiry ON webhook_leases (expires_at);

  -- PORTAL#<tenant>#<id> (the same statement as sqlite-portal-sessions.ts, which runs it too).
  CREATE TABLE IF NOT EXISTS portal_sessions (
    tenant_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    doc TEXT NOT NULL,
    revoked_at TEXT,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, session_id)
  );
  CREATE INDEX IF NOT EXISTS portal_sessions_expiry ON portal_sessions (expires_at);

  -- No DynamoDB sibling (SES sends at once): emails committed with the writes that made them,
  -- until their files are in the outbox (sqlite-outbox.ts).
  CREATE TABLE IF NOT EXISTS outbox_emails (
    file TEXT PRIMARY KEY,
    message TEXT NOT NULL
  );
`;
