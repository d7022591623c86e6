package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/sesame-idp/sesame/storage"
)

const mailColumns = `id, kind, to_addr, subject, text_body, html_body, created_at, attempts, next_attempt_at, sent_at, last_error`

func scanMail(row scanner) (storage.Mail, error) {
	var m storage.Mail
	err := row.Scan(&m.ID, &m.Kind, &m.To, &m.Subject, &m.Text, &m.HTML, tsOut(&m.CreatedAt), &m.Attempts,
		tsOut(&m.NextAttemptAt), tsOut(&m.SentAt), &m.LastError)
	return m, err
}

func (db *DB) EnqueueMail(ctx context.Context, m storage.Mail) error {
	if m.ID == "" || m.To == "" || m.CreatedAt.IsZero() {
		return fmt.Errorf("%w: mail needs an id, a recipient and a time", storage.ErrInvalid)
	}
	// A new mail is due at once, whatever the clocks of the machine that
	// queued it and of the one that sends it.
	next := int64(0)
	if !m.NextAttemptAt.IsZero() {
		next = m.NextAttemptAt.UnixNano()
	}
	_, err := db.writer(ctx).ExecContext(ctx, `INSERT INTO mail_outbox (`+mailColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.ID, m.Kind, m.To, m.Subject, m.Text, m.HTML, ts(m.CreatedAt), m.Attempts, next, ts(m.SentAt), m.LastError)
	if db.isUnique(err) {
		return storage.ErrConflict
	}
	return err
}

// ClaimMails leases due mails to the caller. SQLite has one writer, so the
// select and the lease in one transaction cannot race with another worker.
func (db *DB) ClaimMails(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]storage.Mail, error) {
	var out []storage.Mail
	err := db.tx(ctx, func(tx conn) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+mailColumns+` FROM mail_outbox
			WHERE sent_at IS NULL AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?`+db.d.SkipLocked, now.UnixNano(), limit)
		if err != nil {
			return err
		}
		for rows.Next() {
			m, err := scanMail(rows)
			if err != nil {
				rows.Close()
				return err
			}
			out = append(out, m)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for i := range out {
			out[i].Attempts++
			out[i].NextAttemptAt = now.Add(lease)
			if _, err := tx.ExecContext(ctx, `UPDATE mail_outbox SET attempts = ?, next_attempt_at = ? WHERE id = ?`,
				out[i].Attempts, ts(out[i].NextAttemptAt), out[i].ID); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

func (db *DB) MarkMailSent(ctx context.Context, id string, now time.Time) error {
	res, err := db.writer(ctx).ExecContext(ctx, `UPDATE mail_outbox SET sent_at = ?, last_error = '' WHERE id = ?`, now.UnixNano(), id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return storage.ErrNotFound
	}
	return nil
}

func (db *DB) MarkMailFailed(ctx context.Context, id, reason string, next time.Time) error {
	res, err := db.writer(ctx).ExecContext(ctx, `UPDATE mail_outbox SET last_error = ?, next_attempt_at = ? WHERE id = ? AND sent_at IS NULL`,
		reason, next.UnixNano(), id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return storage.ErrNotFound
	}
	return nil
}

func (db *DB) CountUnsentMails(ctx context.Context) (int, error) {
	var n int
	err := db.reader(ctx).QueryRowContext(ctx, `SELECT count(*) FROM mail_outbox WHERE sent_at IS NULL`).Scan(&n)
	return n, err
}

func (db *DB) ListMails(ctx context.Context, limit int) ([]storage.Mail, error) {
	rows, err := db.reader(ctx).QueryContext(ctx, `SELECT `+mailColumns+` FROM mail_outbox ORDER BY created_at DESC, id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []storage.Mail
	for rows.Next() {
		m, err := scanMail(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}
