package pgstore

// Tenant signing keys (auth.KeyStore).
//
// Layout. signing_keys holds one row per tenant: the key id, the secret
// and the creation instant. A key is written once, by INSERT ... ON
// CONFLICT DO NOTHING, and never updated: servers creating a tenant's key
// at the same time agree on the first one committed. Keeping the keys in
// the database is what lets servers share it and hold no state of their
// own: a token minted with the tenant's key is accepted by every one.
// Whoever can read this table can mint tokens for every tenant, as whoever
// can read a bbolt server's data directory can.

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// keysSchema holds the table of this file (see coreSchema).
const keysSchema = `
CREATE TABLE IF NOT EXISTS signing_keys (
	tenant  text COLLATE "C" PRIMARY KEY,
	kid     text NOT NULL,
	secret  bytea NOT NULL,
	created bigint NOT NULL
);
`

const keyColumns = `tenant, kid, secret, created`

// SigningKeys returns every tenant's signing key, in tenant order.
func (s *Store) SigningKeys(ctx context.Context) ([]dwell.SigningKey, error) {
	const op = dwell.Op("pgstore.SigningKeys")
	var out []dwell.SigningKey
	err := s.readOne(ctx, op, func(ctx context.Context, q querier) error {
		var err error
		out, err = readKeys(ctx, q)
		return err
	})
	return out, err
}

func readKeys(ctx context.Context, q querier) ([]dwell.SigningKey, error) {
	rows, _ := q.Query(ctx, `SELECT `+keyColumns+` FROM signing_keys ORDER BY tenant`)
	return pgx.CollectRows(rows, scanKey)
}

func scanKey(row pgx.CollectableRow) (dwell.SigningKey, error) {
	var k dwell.SigningKey
	var created int64
	if err := row.Scan((*string)(&k.Tenant), &k.KID, &k.Secret, &created); err != nil {
		return k, err
	}
	k.Created = fromNanos(created)
	return k, nil
}

// CreateSigningKey stores k as its tenant's key unless the tenant has one,
// and returns the tenant's key: k, or the one stored before, unchanged. It
// returns once the key is durable. A key with an empty tenant, kid or
// secret, or a creation time out of range, is dwell.Invalid.
func (s *Store) CreateSigningKey(ctx context.Context, k dwell.SigningKey) (dwell.SigningKey, error) {
	const op = dwell.Op("pgstore.CreateSigningKey")
	var out dwell.SigningKey
	err := s.writeReadCommitted(ctx, op, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		out, err = createKey(ctx, tx, k)
		return err
	})
	return out, err
}

// keyWriter is what createKey needs of a connection or transaction.
type keyWriter interface {
	querier
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// createKey inserts k unless its tenant has a key, then reads the
// tenant's key. At READ COMMITTED, which it needs no more than: an insert
// racing another for the tenant waits for it and does nothing, and the
// read, a statement of its own, sees the winner.
func createKey(ctx context.Context, q keyWriter, k dwell.SigningKey) (dwell.SigningKey, error) {
	created, ok := nanos(k.Created)
	if k.Tenant == "" || k.KID == "" || len(k.Secret) == 0 || !ok {
		return dwell.SigningKey{}, dwell.E(dwell.Invalid, "a signing key needs a tenant, a kid, a secret and a creation time")
	}
	if _, err := q.Exec(ctx, `INSERT INTO signing_keys (`+keyColumns+`) VALUES ($1, $2, $3, $4) ON CONFLICT (tenant) DO NOTHING`,
		string(k.Tenant), k.KID, k.Secret, created); err != nil {
		return dwell.SigningKey{}, err
	}
	rows, _ := q.Query(ctx, `SELECT `+keyColumns+` FROM signing_keys WHERE tenant = $1`, string(k.Tenant))
	return pgx.CollectExactlyOneRow(rows, scanKey)
}

// Keys reads and creates signing keys on a connection of its own, without
// creating any table: for tools such as dwellctl that must not set up a
// database they were pointed at by mistake. It implements auth.KeyStore.
// It is not safe for concurrent use.
type Keys struct {
	conn *pgx.Conn
}

// OpenKeys connects to the database at dsn (as Open) for Keys. A database
// without Dwell's tables (dwelld never ran on it) is an error of kind
// dwell.FailedPrecondition.
func OpenKeys(ctx context.Context, dsn string) (*Keys, error) {
	const op = dwell.Op("pgstore.OpenKeys")
	// As Open parses it, so that a string dwelld runs with (pool
	// settings included) works here too.
	pcfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, dwell.E(op, dwell.Invalid, "parsing the connection string", err)
	}
	cfg := pcfg.ConnConfig
	cfg.RuntimeParams["synchronous_commit"] = "on"
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(cctx, cfg)
	if err != nil {
		return nil, dwell.E(op, dwell.Unavailable, "connecting to PostgreSQL", err)
	}
	_, err = conn.Exec(cctx, `SELECT 1 FROM signing_keys LIMIT 1`)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P01" { // undefined_table
		msg := "the database has no Dwell tables: start dwelld with --postgres on it once"
		var older bool
		if conn.QueryRow(cctx, `SELECT to_regclass('dwell_meta') IS NOT NULL`).Scan(&older) == nil && older {
			msg = "the database was last opened by an older dwelld, which kept the keys in its data directory: start this version's dwelld on it once"
		}
		err = dwell.E(dwell.FailedPrecondition, msg, err)
	}
	if err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, dbError(op, err)
	}
	return &Keys{conn: conn}, nil
}

// SigningKeys returns every tenant's signing key, in tenant order.
func (k *Keys) SigningKeys(ctx context.Context) ([]dwell.SigningKey, error) {
	keys, err := readKeys(ctx, k.conn)
	if err != nil {
		return nil, dbError("pgstore.Keys.SigningKeys", err)
	}
	return keys, nil
}

// CreateSigningKey is Store.CreateSigningKey on k's connection.
func (k *Keys) CreateSigningKey(ctx context.Context, key dwell.SigningKey) (dwell.SigningKey, error) {
	out, err := createKey(ctx, k.conn, key)
	if err != nil {
		return out, dbError("pgstore.Keys.CreateSigningKey", err)
	}
	return out, nil
}

// Close closes k's connection.
func (k *Keys) Close(ctx context.Context) error { return k.conn.Close(ctx) }

// ReadSigningKeys reads every tenant's signing key from the database at
// dsn through OpenKeys, and disconnects.
func ReadSigningKeys(ctx context.Context, dsn string) ([]dwell.SigningKey, error) {
	const op = dwell.Op("pgstore.ReadSigningKeys")
	k, err := OpenKeys(ctx, dsn)
	if err != nil {
		return nil, dwell.E(op, err)
	}
	defer k.Close(context.WithoutCancel(ctx))
	keys, err := k.SigningKeys(ctx)
	if err != nil {
		return nil, dwell.E(op, err)
	}
	return keys, nil
}

// Empty reports whether the database holds no record of any tenant: no
// client, rep, team, partner account, stored settings, fix, rep action or
// event. dwelld gives the default tenant a new key only then: a database
// with data was used with keys that tokens in the field are signed with.
func (s *Store) Empty(ctx context.Context) (bool, error) {
	const op = dwell.Op("pgstore.Empty")
	var any bool
	err := s.readOne(ctx, op, func(ctx context.Context, q querier) error {
		return q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM clients) OR EXISTS (SELECT 1 FROM reps)
			OR EXISTS (SELECT 1 FROM teams) OR EXISTS (SELECT 1 FROM partners) OR EXISTS (SELECT 1 FROM settings)
			OR EXISTS (SELECT 1 FROM fixes) OR EXISTS (SELECT 1 FROM actions) OR EXISTS (SELECT 1 FROM events)`).Scan(&any)
	})
	return !any, err
}
