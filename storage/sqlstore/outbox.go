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
	_, err := db.writer().ExecContext(ctx, `INSERT INTO mail_outbox (`+mailColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.ID, m.Kind, m.To, m.Subject, m.Text, m.HTML, ts(m.CreatedAt), m.Attempts, next, ts(m.SentAt), m.LastError)
	if db.isUnique(err) {
		return storage.ErrConflict
	}
	return err
}

// ClaimMails leases due mails to the caller.
func (db *DB) ClaimMails(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]storage.Mail, error) {
	return claimDue(ctx, db, "mail_outbox", mailColumns, scanMail, now, lease, limit, func(m *storage.Mail) (*int, *time.Time, string) {
		return &m.Attempts, &m.NextAttemptAt, m.ID
	})
}

// claimDue leases up to limit due rows of a queue table (sent_at unset,
// next_attempt_at reached): each row's attempts grow by one and its next
// attempt moves to now+lease, so that no other worker takes it meanwhile.
// The select and the lease are one transaction; SKIP LOCKED keeps two
// PostgreSQL workers apart, and SQLite has one writer anyway. attempt gives
// a row's attempts, next attempt and id.
func claimDue[T any](ctx context.Context, db *DB, table, columns string, scan func(scanner) (T, error),
	now time.Time, lease time.Duration, limit int, attempt func(*T) (*int, *time.Time, string)) ([]T, error) {
	var out []T
	err := db.tx(ctx, func(tx conn) error {
		var err error
		out, err = queryAll(ctx, tx, scan, `SELECT `+columns+` FROM `+table+`
			WHERE sent_at IS NULL AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?`+db.d.SkipLocked, now.UnixNano(), limit)
		if err != nil {
			return err
		}
		for i := range out {
			attempts, next, id := attempt(&out[i])
			*attempts++
			*next = now.Add(lease)
			if _, err := tx.ExecContext(ctx, `UPDATE `+table+` SET attempts = ?, next_attempt_at = ? WHERE id = ?`,
				*attempts, ts(*next), id); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// MarkMailSent records the delivery and erases the body: it may hold a
// live link, which must not stay in the table and its backups.
func (db *DB) MarkMailSent(ctx context.Context, id string, now time.Time) error {
	res, err := db.writer().ExecContext(ctx, `UPDATE mail_outbox SET sent_at = ?, last_error = '', text_body = '', html_body = '' WHERE id = ?`, now.UnixNano(), id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return storage.ErrNotFound
	}
	return nil
}

func (db *DB) MarkMailFailed(ctx context.Context, id, reason string, next time.Time) error {
	res, err := db.writer().ExecContext(ctx, `UPDATE mail_outbox SET last_error = ?, next_attempt_at = ? WHERE id = ? AND sent_at IS NULL`,
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
	err := db.reader().QueryRowContext(ctx, `SELECT count(*) FROM mail_outbox WHERE sent_at IS NULL`).Scan(&n)
	return n, err
}

func (db *DB) ListMails(ctx context.Context, limit int) ([]storage.Mail, error) {
	return queryAll(ctx, db.reader(), scanMail, `SELECT `+mailColumns+` FROM mail_outbox ORDER BY created_at DESC, id DESC LIMIT ?`, limit)
}
