package pgstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// layoutVersion is the version of the tables below. A database of a higher
// version (written by a newer Dwell) is refused at Open; one of a lower
// version is brought up to it. Layout 2 added the revision columns and
// signing_keys; layout 3 added days.erased (erasedSchema).
const layoutVersion = 3

// coreSchema holds the tables that more than one part of the store writes:
// the reps (their zone cuts days), the fixes and rep actions, the per-rep
// horizons of the privacy rules, the per rep-day versions and summaries,
// and the event log. Every id column is COLLATE "C", so that id order is
// byte order, as in boltstore and the store's page tokens. Instants are
// bigint Unix nanoseconds (see nanos); local days are date.
//
// The directory's records, partner accounts and opportunities have a
// revision column (store.Store's "Revisions and conditional writes"): 1
// when inserted, raised by every update in the statement that writes the
// row, and compared there by the conditional ones (WHERE revision = $n).
//
// Each part's own tables are in its file's schema constant (directorySchema,
// salesSchema, ...); schemaParts lists them all in creation order.
const coreSchema = `
CREATE TABLE IF NOT EXISTS dwell_meta (
	name  text COLLATE "C" PRIMARY KEY,
	value bigint NOT NULL
);

CREATE TABLE IF NOT EXISTS reps (
	tenant        text COLLATE "C" NOT NULL,
	id            text COLLATE "C" NOT NULL,
	display_name  text NOT NULL DEFAULT '',
	email         text NOT NULL DEFAULT '',
	time_zone     text NOT NULL DEFAULT '',
	team          text COLLATE "C" NOT NULL DEFAULT '',
	working_hours jsonb,
	create_time   bigint,
	update_time   bigint,
	revision      bigint NOT NULL DEFAULT 1,
	PRIMARY KEY (tenant, id)
);
CREATE INDEX IF NOT EXISTS reps_by_team ON reps (tenant, team, id);

-- fixes: one row per stored fix. The primary key is the deduplication key
-- (a fix id is unique per rep; deleting a fix forgets its id); reads go by
-- fixes_by_time.
CREATE TABLE IF NOT EXISTS fixes (
	tenant       text COLLATE "C" NOT NULL,
	rep          text COLLATE "C" NOT NULL,
	id           text COLLATE "C" NOT NULL,
	time         bigint NOT NULL,
	lat          double precision NOT NULL,
	lng          double precision NOT NULL,
	accuracy_m   double precision NOT NULL,
	speed_mps    double precision NOT NULL,
	bearing_deg  double precision NOT NULL,
	altitude_m   double precision NOT NULL,
	has_altitude boolean NOT NULL,
	mock         boolean NOT NULL,
	PRIMARY KEY (tenant, rep, id)
);
CREATE INDEX IF NOT EXISTS fixes_by_time ON fixes (tenant, rep, time, id);

-- actions: check-ins (kind 1), check-outs (2), calls (3) and tracking
-- changes (4), in the order recorded (seq) within an instant. rec is the
-- whole record as JSON (see actionRec types in actions.go); has_fix says
-- whether it carries a fix, for the privacy rules.
CREATE TABLE IF NOT EXISTS actions (
	tenant     text COLLATE "C" NOT NULL,
	rep        text COLLATE "C" NOT NULL,
	kind       smallint NOT NULL,
	time       bigint NOT NULL,
	seq        bigint GENERATED ALWAYS AS IDENTITY,
	request_id text COLLATE "C" NOT NULL DEFAULT '',
	has_fix    boolean NOT NULL DEFAULT false,
	rec        json NOT NULL,
	PRIMARY KEY (tenant, rep, kind, time, seq)
);
CREATE UNIQUE INDEX IF NOT EXISTS actions_by_request ON actions (tenant, rep, kind, request_id) WHERE request_id <> '';

-- rep_data: one row per rep that has (or had) fixes or actions, with the
-- horizons of the privacy rules (NULL: none yet), as boltstore's
-- repdata/<rep> bucket.
CREATE TABLE IF NOT EXISTS rep_data (
	tenant          text COLLATE "C" NOT NULL,
	rep             text COLLATE "C" NOT NULL,
	fixes_pruned    bigint,
	actions_cleared bigint,
	PRIMARY KEY (tenant, rep)
);

-- days: per rep-day data version (bumped by every write the day derives
-- from), dirty mark, and the summary derived from summary_version.
CREATE TABLE IF NOT EXISTS days (
	tenant          text COLLATE "C" NOT NULL,
	rep             text COLLATE "C" NOT NULL,
	day             date NOT NULL,
	version         bigint NOT NULL DEFAULT 0,
	dirty           boolean NOT NULL DEFAULT false,
	summary_version bigint,
	summary         bytea,
	detail          bytea,
	erased          bigint NOT NULL DEFAULT 0,
	PRIMARY KEY (tenant, rep, day)
);
CREATE INDEX IF NOT EXISTS days_dirty ON days (tenant, rep, day) WHERE dirty;

-- events: the tenant's event log, by sequence; key deduplicates.
CREATE TABLE IF NOT EXISTS events (
	tenant text COLLATE "C" NOT NULL,
	seq    bigint NOT NULL,
	key    text COLLATE "C" NOT NULL DEFAULT '',
	rep    text COLLATE "C" NOT NULL DEFAULT '',
	time   bigint NOT NULL,
	rec    json NOT NULL,
	PRIMARY KEY (tenant, seq)
);
CREATE UNIQUE INDEX IF NOT EXISTS events_by_key ON events (tenant, key) WHERE key <> '';
CREATE INDEX IF NOT EXISTS events_by_rep ON events (tenant, rep, seq);
-- event_seqs: per tenant, the last sequence given and the highest pruned.
CREATE TABLE IF NOT EXISTS event_seqs (
	tenant text COLLATE "C" PRIMARY KEY,
	last   bigint NOT NULL DEFAULT 0,
	pruned bigint NOT NULL DEFAULT 0
);
`

// revisionsSchema gives the revision column to the tables of a database
// made before records had revisions (pgstore's first release); a table
// made since has it from its CREATE TABLE. It alters a table only when the
// column is missing, so that an Open does not queue for a table's lock
// behind every running statement.
const revisionsSchema = `
DO $$
DECLARE t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['reps', 'clients', 'teams', 'settings', 'partners', 'opportunities'] LOOP
		IF NOT EXISTS (SELECT 1 FROM information_schema.columns
				WHERE table_schema = current_schema() AND table_name = t AND column_name = 'revision') THEN
			EXECUTE format('ALTER TABLE %I ADD COLUMN revision bigint NOT NULL DEFAULT 1', t);
		END IF;
	END LOOP;
END $$;
`

// erasedSchema gives days the erased column in a database of layout 2 or
// older, as revisionsSchema does the revision column: the version
// EraseRepHistory last raised the day to (0: never erased), below which
// no summary or event derived from the day is stored (privacy.go).
const erasedSchema = `
DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = 'days' AND column_name = 'erased') THEN
		ALTER TABLE days ADD COLUMN erased bigint NOT NULL DEFAULT 0;
	END IF;
END $$;
`

// schemaParts is the whole schema, in creation order.
var schemaParts = []string{coreSchema, directorySchema, salesSchema, partnersSchema, privacySchema, changesSchema, keysSchema, revisionsSchema, erasedSchema}

// migrateLock is the key of the advisory lock that serializes schema
// creation among processes opening one database at once.
const migrateLock = 0x64_77_65_6c_6c // "dwell"

// migrate creates the tables that do not exist yet and records the layout
// version, under an advisory lock; it refuses a database of a newer layout.
func (s *Store) migrate(ctx context.Context) error {
	return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrateLock)); err != nil {
			return dbError("pgstore.migrate", err)
		}
		for _, part := range schemaParts {
			if _, err := tx.Exec(ctx, part); err != nil {
				return dbError("pgstore.migrate", fmt.Errorf("creating tables: %w", err))
			}
		}
		var v int64
		err := tx.QueryRow(ctx, `SELECT value FROM dwell_meta WHERE name = 'layout'`).Scan(&v)
		switch {
		case err == pgx.ErrNoRows:
			_, err = tx.Exec(ctx, `INSERT INTO dwell_meta (name, value) VALUES ('layout', $1)`, layoutVersion)
			if err != nil {
				return dbError("pgstore.migrate", err)
			}
		case err != nil:
			return dbError("pgstore.migrate", err)
		case v > layoutVersion:
			return dwell.E(dwell.FailedPrecondition, fmt.Sprintf("database layout %d is newer than this build's %d", v, layoutVersion))
		case v < layoutVersion: // the parts above brought it up to date
			if _, err := tx.Exec(ctx, `UPDATE dwell_meta SET value = $1 WHERE name = 'layout'`, layoutVersion); err != nil {
				return dbError("pgstore.migrate", err)
			}
		}
		return nil
	})
}
