package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/sesame-idp/sesame/storage"
)

func (db *DB) RecordEvent(ctx context.Context, e storage.AuditEvent) error {
	if e.ID == "" || e.Action == "" || e.At.IsZero() {
		return fmt.Errorf("%w: audit event needs an id, an action and a time", storage.ErrInvalid)
	}
	_, err := db.writer().ExecContext(ctx, `INSERT INTO audit_events (id, at, actor_id, action, target_type, target_id, org_id, ip, details)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, e.ID, ts(e.At), e.ActorID, e.Action, e.TargetType, e.TargetID, e.OrgID, e.IP, e.Details)
	return err
}

func scanEvent(row scanner) (storage.AuditEvent, error) {
	var e storage.AuditEvent
	err := row.Scan(&e.ID, tsOut(&e.At), &e.ActorID, &e.Action, &e.TargetType, &e.TargetID, &e.OrgID, &e.IP, &e.Details)
	return e, err
}

func (db *DB) ListEvents(ctx context.Context, f storage.AuditFilter) ([]storage.AuditEvent, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 1000
	}
	where, args := []string{"1 = 1"}, []any{}
	if f.OrgID != "" {
		where, args = append(where, "org_id = ?"), append(args, f.OrgID)
	}
	if f.ActorID != "" {
		where, args = append(where, "actor_id = ?"), append(args, f.ActorID)
	}
	if f.Action != "" {
		where, args = append(where, "action = ?"), append(args, f.Action)
	}
	if f.ActionPrefix != "" { // no LIKE: a prefix's _ and % are letters
		where, args = append(where, "substr(action, 1, ?) = ?"), append(args, len(f.ActionPrefix), f.ActionPrefix)
	}
	if !f.Since.IsZero() {
		where, args = append(where, "at >= ?"), append(args, f.Since.UnixNano())
	}
	if !f.Until.IsZero() {
		where, args = append(where, "at < ?"), append(args, f.Until.UnixNano())
	}
	if !f.BeforeAt.IsZero() {
		n := f.BeforeAt.UnixNano()
		where, args = append(where, "(at < ? OR (at = ? AND id < ?))"), append(args, n, n, f.BeforeID)
	}
	return queryAll(ctx, db.reader(), scanEvent, `SELECT id, at, actor_id, action, target_type, target_id, org_id, ip, details
		FROM audit_events WHERE `+strings.Join(where, " AND ")+` ORDER BY at DESC, id DESC LIMIT ? OFFSET ?`, append(args, limit, max(f.Offset, 0))...)
}

// Hit counts an event in a fixed window, atomically.
func (db *DB) Hit(ctx context.Context, key string, window time.Duration, now time.Time) (int, time.Time, error) {
	start := now.Truncate(window)
	var count int
	err := db.writeRow(ctx, func(row *sql.Row) error { return row.Scan(&count) },
		`INSERT INTO rate_limits (key, window_start, count) VALUES (?, ?, 1)
		ON CONFLICT (key) DO UPDATE SET
			count = CASE WHEN rate_limits.window_start = excluded.window_start THEN rate_limits.count + 1 ELSE 1 END,
			window_start = excluded.window_start
		RETURNING count`, key, start.UnixNano())
	return count, start.Add(window), err
}

func (db *DB) PruneEvents(ctx context.Context, before time.Time) (int64, error) {
	res, err := db.writer().ExecContext(ctx, `DELETE FROM audit_events WHERE at < ?`, before.UnixNano())
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
