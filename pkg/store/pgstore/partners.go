package pgstore

// Partner accounts (store.Partners).
//
// Layout. partners holds one row per account, keyed by (tenant, id), with
// typed columns (scopes as integer[] of dwell.Scope values) and the
// request id of the create that stored it. partner_requests maps every
// request id a create spent to the account id it created; a row outlives
// its account, so that a retry of the create after a delete is refused
// (dwell.FailedPrecondition) rather than bringing the account and its
// rights back, and so is it once another request created an account
// under the id since (the account's request_id is not the retry's), rather
// than answering with that other account. Idempotency rests on partner_requests' primary key: a
// concurrent create with the same request id conflicts there, is retried
// by s.write, and then finds the first one's account. partner_deletions
// holds, per account id ever deleted, the instant of its last deletion
// (Unix nanoseconds), written by DeletePartner in the transaction that
// deletes the account and never removed, so that the tokens issued before
// it stay refused after the account is created again
// (dwell.PartnerDeletion). Servers sharing the store learn of a deletion
// from the partners trigger (changes.go) and read this table again with
// the accounts.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
)

// partnersSchema holds the tables of this file (see coreSchema).
const partnersSchema = `
CREATE TABLE IF NOT EXISTS partners (
	tenant       text COLLATE "C" NOT NULL,
	id           text COLLATE "C" NOT NULL,
	display_name text NOT NULL,
	scopes       integer[] NOT NULL,
	disabled     boolean NOT NULL,
	request_id   text COLLATE "C" NOT NULL DEFAULT '',
	create_time  bigint,
	update_time  bigint,
	revision     bigint NOT NULL DEFAULT 1,
	PRIMARY KEY (tenant, id)
);

CREATE TABLE IF NOT EXISTS partner_deletions (
	tenant  text COLLATE "C" NOT NULL,
	id      text COLLATE "C" NOT NULL,
	deleted bigint NOT NULL,
	PRIMARY KEY (tenant, id)
);

CREATE TABLE IF NOT EXISTS partner_requests (
	tenant     text COLLATE "C" NOT NULL,
	request_id text COLLATE "C" NOT NULL,
	partner    text COLLATE "C" NOT NULL,
	PRIMARY KEY (tenant, request_id)
);
`

// maxRequestIDBytes bounds a request id the store keeps, as in boltstore.
// The API's own limit (dwell.MaxRequestIDBytes) is enforced by validation
// before the store.
const maxRequestIDBytes = 1024

// checkRequestID returns dwell.Invalid for a request id longer than
// maxRequestIDBytes.
func checkRequestID(op dwell.Op, id string) error {
	if len(id) > maxRequestIDBytes {
		return dwell.E(op, dwell.Invalid, dwell.Violation{Field: "request_id", Description: fmt.Sprintf("must be at most %d bytes", maxRequestIDBytes)})
	}
	return nil
}

// partnerColumns are the columns scanPartner reads, in its order.
const partnerColumns = `id, display_name, scopes, disabled, request_id, create_time, update_time, revision`

func scanPartner(row pgx.CollectableRow) (dwell.PartnerAccount, error) {
	var (
		a      dwell.PartnerAccount
		id     string
		scopes []int32
		ct, ut *int64
	)
	if err := row.Scan(&id, &a.DisplayName, &scopes, &a.Disabled, &a.RequestID, &ct, &ut, &a.Revision); err != nil {
		return dwell.PartnerAccount{}, err
	}
	a.ID, a.CreateTime, a.UpdateTime = dwell.PartnerID(id), fromOptNanos(ct), fromOptNanos(ut)
	if len(scopes) > 0 {
		a.Scopes = make([]dwell.Scope, len(scopes))
		for i, sc := range scopes {
			a.Scopes[i] = dwell.Scope(sc)
		}
	}
	return a, nil
}

// partnerArgs returns the arguments $1 to $8 of a write of a: tenant, id,
// display_name, scopes, disabled, request_id, create_time, update_time.
func partnerArgs(op dwell.Op, tenant dwell.TenantID, a *dwell.PartnerAccount) ([]any, error) {
	if err := checkTenantKey(op, tenant, "partner.id", string(a.ID)); err != nil {
		return nil, err
	}
	if err := checkRequestID(op, a.RequestID); err != nil {
		return nil, err
	}
	ct, ut, err := recordTimes(op, "partner", a.CreateTime, a.UpdateTime)
	if err != nil {
		return nil, err
	}
	scopes := make([]int32, len(a.Scopes))
	for i, sc := range a.Scopes {
		scopes[i] = int32(sc)
	}
	return []any{string(tenant), string(a.ID), a.DisplayName, scopes, a.Disabled, a.RequestID, ct, ut}, nil
}

// CreatePartner implements store.Partners.
func (s *Store) CreatePartner(ctx context.Context, tenant dwell.TenantID, a dwell.PartnerAccount) (dwell.PartnerAccount, bool, error) {
	const op = dwell.Op("pgstore.CreatePartner")
	args, err := partnerArgs(op, tenant, &a)
	if err != nil {
		return dwell.PartnerAccount{}, false, err
	}
	var prev *dwell.PartnerAccount
	err = s.write(ctx, op, func(ctx context.Context, tx pgx.Tx) error {
		prev = nil
		if a.RequestID != "" {
			var id string
			err := tx.QueryRow(ctx, `SELECT partner FROM partner_requests WHERE tenant = $1 AND request_id = $2`,
				string(tenant), a.RequestID).Scan(&id)
			switch {
			case err == nil:
				rows, _ := tx.Query(ctx, `SELECT `+partnerColumns+` FROM partners WHERE tenant = $1 AND id = $2`, string(tenant), id)
				p, err := pgx.CollectExactlyOneRow(rows, scanPartner)
				if errors.Is(err, pgx.ErrNoRows) || (err == nil && p.RequestID != a.RequestID) {
					return dwell.E(dwell.FailedPrecondition, dwell.ReasonRequestTargetDeleted, fmt.Sprintf("the partner account of request %q was deleted", a.RequestID))
				}
				prev = &p
				return err
			case !errors.Is(err, pgx.ErrNoRows):
				return err
			}
		}
		tag, err := tx.Exec(ctx, `
			INSERT INTO partners (tenant, id, display_name, scopes, disabled, request_id, create_time, update_time)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`, args...)
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 1 {
			return alreadyExists("partner account", string(a.ID))
		}
		if a.RequestID == "" {
			return nil
		}
		_, err = tx.Exec(ctx, `INSERT INTO partner_requests (tenant, request_id, partner) VALUES ($1, $2, $3)`,
			string(tenant), a.RequestID, string(a.ID))
		return err
	})
	switch {
	case err != nil:
		return dwell.PartnerAccount{}, false, err
	case prev != nil:
		return *prev, true, nil
	}
	a.CreateTime, a.UpdateTime, a.Revision = a.CreateTime.UTC(), a.UpdateTime.UTC(), 1
	return a, false, nil
}

// GetPartner implements store.Partners.
func (s *Store) GetPartner(ctx context.Context, tenant dwell.TenantID, id dwell.PartnerID) (dwell.PartnerAccount, error) {
	const op = dwell.Op("pgstore.GetPartner")
	if err := checkTenantKey(op, tenant, "id", string(id)); err != nil {
		return dwell.PartnerAccount{}, err
	}
	return getOne(ctx, s, op, "partner account", string(id),
		`SELECT `+partnerColumns+` FROM partners WHERE tenant = $1 AND id = $2`,
		[]any{string(tenant), string(id)}, scanPartner)
}

// UpdatePartner implements store.Partners: it replaces the account whole,
// as boltstore does, RequestID included (the request ids spent stay as
// they are).
func (s *Store) UpdatePartner(ctx context.Context, tenant dwell.TenantID, a dwell.PartnerAccount) error {
	const op = dwell.Op("pgstore.UpdatePartner")
	args, err := partnerArgs(op, tenant, &a)
	if err != nil {
		return err
	}
	return s.write(ctx, op, updateOneTx("partners", "partner account", tenant, string(a.ID), a.Revision, &a.CreateTime, `
		UPDATE partners SET display_name = $3, scopes = $4, disabled = $5, request_id = $6,
			create_time = $7, update_time = $8, revision = revision + 1
		WHERE tenant = $1 AND id = $2 AND ($9::bigint = 0 OR (revision = $9 AND create_time IS NOT DISTINCT FROM $7))`, append(args, a.Revision), nil))
}

// DeletePartner implements store.Partners: the account's row goes and its
// partner_deletions row takes the later of deleted and the instant it
// held, in one transaction. The request id that created the account
// stays spent (partner_requests keeps it).
func (s *Store) DeletePartner(ctx context.Context, tenant dwell.TenantID, id dwell.PartnerID, deleted time.Time) error {
	const op = dwell.Op("pgstore.DeletePartner")
	if err := checkTenantKey(op, tenant, "id", string(id)); err != nil {
		return err
	}
	if deleted.IsZero() {
		return dwell.E(op, dwell.Invalid, dwell.Violation{Field: "deleted", Description: "is required"})
	}
	at, ok := nanos(deleted)
	if !ok {
		return timeInvalid(op, "deleted", deleted)
	}
	return s.execOne(ctx, op, notFound, "partner account", string(id),
		`DELETE FROM partners WHERE tenant = $1 AND id = $2`, []any{string(tenant), string(id)},
		func(ctx context.Context, tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `
				INSERT INTO partner_deletions (tenant, id, deleted) VALUES ($1, $2, $3)
				ON CONFLICT (tenant, id) DO UPDATE SET deleted = GREATEST(partner_deletions.deleted, EXCLUDED.deleted)`,
				string(tenant), string(id), at)
			return err
		})
}

// ListPartners implements store.Partners.
func (s *Store) ListPartners(ctx context.Context, tenant dwell.TenantID, p store.Page) ([]dwell.PartnerAccount, bool, error) {
	const op = dwell.Op("pgstore.ListPartners")
	if err := checkKey(op, "tenant", string(tenant)); err != nil {
		return nil, false, err
	}
	return listPage(ctx, s, op, p, `SELECT `+partnerColumns+` FROM partners
		WHERE tenant = $1 AND id > $2 ORDER BY id LIMIT $3`,
		[]any{string(tenant), p.After}, scanPartner)
}

// ListPartnerDeletions implements store.Partners.
func (s *Store) ListPartnerDeletions(ctx context.Context, tenant dwell.TenantID, p store.Page) ([]dwell.PartnerDeletion, bool, error) {
	const op = dwell.Op("pgstore.ListPartnerDeletions")
	if err := checkKey(op, "tenant", string(tenant)); err != nil {
		return nil, false, err
	}
	return listPage(ctx, s, op, p, `SELECT id, deleted FROM partner_deletions
		WHERE tenant = $1 AND id > $2 ORDER BY id LIMIT $3`,
		[]any{string(tenant), p.After}, func(row pgx.CollectableRow) (dwell.PartnerDeletion, error) {
			var (
				id string
				at int64
			)
			if err := row.Scan(&id, &at); err != nil {
				return dwell.PartnerDeletion{}, err
			}
			return dwell.PartnerDeletion{ID: dwell.PartnerID(id), Deleted: fromNanos(at)}, nil
		})
}
