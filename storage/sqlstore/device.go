package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/sesame-idp/sesame/storage"
)

const deviceColumns = `id, device_hash, user_hash, client_id, scopes, state, poll_interval, last_poll_at, created_at, expires_at,
	user_id, session_id, auth_time, amr, decided_at`

func scanDevice(row scanner, extra ...any) (storage.DeviceAuthorization, error) {
	var d storage.DeviceAuthorization
	var lastPoll int64
	var userID, sessionID sql.NullString
	dest := []any{&d.ID, &d.DeviceHash, &d.UserHash, &d.ClientID, listOut(&d.Scopes), &d.State, &d.Interval, &lastPoll,
		tsOut(&d.CreatedAt), tsOut(&d.ExpiresAt), &userID, &sessionID, tsOut(&d.AuthTime), listOut(&d.AMR), tsOut(&d.DecidedAt)}
	if err := row.Scan(append(dest, extra...)...); err != nil {
		return d, err
	}
	if lastPoll != 0 {
		d.LastPollAt = time.Unix(0, lastPoll).UTC()
	}
	d.UserID, d.SessionID = userID.String, sessionID.String
	return d, nil
}

func (db *DB) CreateDeviceAuthorization(ctx context.Context, d storage.DeviceAuthorization) error {
	if d.ID == "" || d.DeviceHash == "" || d.UserHash == "" || d.ClientID == "" || d.ExpiresAt.IsZero() || d.Interval <= 0 {
		return fmt.Errorf("%w: a device authorization needs an id, both hashes, a client, an interval and an expiry", storage.ErrInvalid)
	}
	_, err := db.writer().ExecContext(ctx, `INSERT INTO device_authorizations (id, device_hash, user_hash, client_id, scopes, state,
		poll_interval, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.ID, d.DeviceHash, d.UserHash, d.ClientID, list(d.Scopes), storage.DevicePending, d.Interval, ts(d.CreatedAt), ts(d.ExpiresAt))
	if db.isUnique(err) {
		return storage.ErrConflict
	}
	if db.isForeignKey(err) {
		return storage.ErrNotFound
	}
	return err
}

func (db *DB) GetDeviceAuthorizationByUserCode(ctx context.Context, userHash string) (storage.DeviceAuthorization, error) {
	d, err := scanDevice(db.reader().QueryRowContext(ctx, `SELECT `+deviceColumns+` FROM device_authorizations WHERE user_hash = ?`, userHash))
	return d, notFound(err)
}

func (db *DB) DecideDeviceAuthorization(ctx context.Context, id string, approved bool, d storage.DeviceAuthorization) error {
	state := storage.DeviceDenied
	if approved {
		state = storage.DeviceApproved
		if d.UserID == "" {
			return fmt.Errorf("%w: an approval needs the person", storage.ErrInvalid)
		}
	}
	res, err := db.writer().ExecContext(ctx, `UPDATE device_authorizations SET state = ?, user_id = ?, session_id = ?, auth_time = ?,
		amr = ?, decided_at = ? WHERE id = ? AND state = ? AND expires_at > ?`,
		state, nullString(d.UserID), nullString(d.SessionID), ts(d.AuthTime), list(d.AMR), ts(d.DecidedAt), id,
		storage.DevicePending, d.DecidedAt.UnixNano())
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return storage.ErrNotFound
	}
	return nil
}

// PollDeviceAuthorization raises the interval and records the poll in one
// UPDATE: its right-hand sides read the row as it was, so too_fast says
// whether this poll came before the previous one's interval was over.
func (db *DB) PollDeviceAuthorization(ctx context.Context, clientID, deviceHash string, now time.Time, tolerance time.Duration) (storage.DevicePoll, error) {
	var p storage.DevicePoll
	var tooFast int
	err := db.writeRow(ctx, func(row *sql.Row) error {
		var err error
		p.DeviceAuthorization, err = scanDevice(row, &tooFast)
		return err
	}, `UPDATE device_authorizations SET
		too_fast = CASE WHEN last_poll_at <> 0 AND last_poll_at + poll_interval * 1000000000 > ? THEN 1 ELSE 0 END,
		poll_interval = CASE WHEN last_poll_at <> 0 AND last_poll_at + poll_interval * 1000000000 > ? THEN poll_interval + 5 ELSE poll_interval END,
		last_poll_at = ?
		WHERE device_hash = ? AND client_id = ? RETURNING `+deviceColumns+`, too_fast`,
		now.Add(tolerance).UnixNano(), now.Add(tolerance).UnixNano(), now.UnixNano(), deviceHash, clientID)
	if err != nil {
		return storage.DevicePoll{}, notFound(err)
	}
	p.TooFast = tooFast == 1
	return p, nil
}

func (db *DB) UseDeviceAuthorization(ctx context.Context, id string) error {
	res, err := db.writer().ExecContext(ctx, `UPDATE device_authorizations SET state = ? WHERE id = ? AND state = ?`,
		storage.DeviceUsed, id, storage.DeviceApproved)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return storage.ErrAlreadyUsed
	}
	return nil
}
