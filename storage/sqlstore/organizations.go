package sqlstore

import (
	"context"
	"fmt"

	"github.com/sesame-idp/sesame/storage"
)

const orgColumns = `id, name, domicile, country, siret, siren, legal_name, address, status,
	cloud_account_id, reject_reason, created_at, validated_at, validated_by, signup_key, require_mfa, require_passkey`

type scanner interface{ Scan(dest ...any) error }

func scanOrg(row scanner) (storage.Organization, error) {
	var o storage.Organization
	err := row.Scan(&o.ID, &o.Name, &o.Domicile, &o.Country, strOut{&o.SIRET}, strOut{&o.SIREN},
		&o.LegalName, &o.Address, &o.Status, &o.CloudAccountID, &o.RejectReason,
		tsOut(&o.CreatedAt), tsOut(&o.ValidatedAt), &o.ValidatedBy, strOut{&o.SignupKey}, &o.RequireMFA, &o.RequirePasskey)
	return o, err
}

func orgArgs(o storage.Organization) []any {
	return []any{o.ID, o.Name, o.Domicile, o.Country, nullString(o.SIRET), nullString(o.SIREN),
		o.LegalName, o.Address, o.Status, o.CloudAccountID, o.RejectReason,
		ts(o.CreatedAt), ts(o.ValidatedAt), o.ValidatedBy, nullString(o.SignupKey), boolInt(o.RequireMFA), boolInt(o.RequirePasskey)}
}

func validOrg(o storage.Organization) error {
	if o.ID == "" || o.Name == "" {
		return fmt.Errorf("%w: organization needs an id and a name", storage.ErrInvalid)
	}
	switch o.Status {
	case storage.OrgPending, storage.OrgValidated, storage.OrgRejected, storage.OrgSuspended:
	default:
		return fmt.Errorf("%w: organization status %q", storage.ErrInvalid, o.Status)
	}
	if o.Domicile != storage.DomicileFrance && o.Domicile != storage.DomicileAbroad {
		return fmt.Errorf("%w: organization domicile %q", storage.ErrInvalid, o.Domicile)
	}
	return nil
}

func (db *DB) CreateOrganization(ctx context.Context, o storage.Organization) error {
	if err := validOrg(o); err != nil {
		return err
	}
	_, err := db.writer().ExecContext(ctx, `INSERT INTO organizations (`+orgColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, orgArgs(o)...)
	if db.isUnique(err) {
		return storage.ErrConflict
	}
	return err
}

func (db *DB) GetOrganization(ctx context.Context, id string) (storage.Organization, error) {
	o, err := scanOrg(db.reader().QueryRowContext(ctx, `SELECT `+orgColumns+` FROM organizations WHERE id = ?`, id))
	return o, notFound(err)
}

func (db *DB) ListOrganizations(ctx context.Context, status string) ([]storage.Organization, error) {
	return queryAll(ctx, db.reader(), scanOrg, `SELECT `+orgColumns+` FROM organizations
		WHERE ? = '' OR status = ? ORDER BY created_at, id`, status, status)
}

func (db *DB) UpdateOrganization(ctx context.Context, id string, update func(*storage.Organization) error) error {
	return db.tx(ctx, func(tx conn) error {
		o, err := scanOrg(tx.QueryRowContext(ctx, `SELECT `+orgColumns+` FROM organizations WHERE id = ?`+db.d.ForUpdate, id))
		if err != nil {
			return notFound(err)
		}
		if err := update(&o); err != nil {
			return err
		}
		o.ID = id
		if err := validOrg(o); err != nil {
			return err
		}
		args := orgArgs(o)
		_, err = tx.ExecContext(ctx, `UPDATE organizations SET name = ?, domicile = ?, country = ?, siret = ?,
			siren = ?, legal_name = ?, address = ?, status = ?, cloud_account_id = ?, reject_reason = ?,
			created_at = ?, validated_at = ?, validated_by = ?, signup_key = ?, require_mfa = ?, require_passkey = ? WHERE id = ?`, append(args[1:], id)...)
		if db.isUnique(err) {
			return storage.ErrConflict
		}
		return err
	})
}

// GetOrganizationBySignupKey finds the organization a sign-up form created.
func (db *DB) GetOrganizationBySignupKey(ctx context.Context, key string) (storage.Organization, error) {
	o, err := scanOrg(db.reader().QueryRowContext(ctx, `SELECT `+orgColumns+` FROM organizations WHERE signup_key = ?`, key))
	return o, notFound(err)
}

func (db *DB) LockOrganization(ctx context.Context, id string) error {
	var got string
	err := db.writer().QueryRowContext(ctx, `SELECT id FROM organizations WHERE id = ?`+db.d.ForUpdate, id).Scan(&got)
	return notFound(err)
}
