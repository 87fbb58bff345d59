package db

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
)

// User is a staff member.
type User struct {
	ID           int64
	Email        string
	Role         string
	PasswordHash string
	SAMLNameID   string
	Disabled     bool
	FailedLogins int
	LockedUntil  time.Time
	CreatedAt    time.Time
}

const userColumns = "id, email, role, password_hash, COALESCE(saml_name_id, ''), disabled, failed_logins, locked_until, created_at"

func scanUser(row interface{ Scan(...any) error }) (User, error) {
	var u User
	var locked, created int64
	err := row.Scan(&u.ID, &u.Email, &u.Role, &u.PasswordHash, &u.SAMLNameID, &u.Disabled, &u.FailedLogins, &locked, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return u, ErrNotFound
	}
	if locked > 0 {
		u.LockedUntil = fromMillis(locked)
	}
	u.CreatedAt = fromMillis(created)
	return u, err
}

// CreateUser adds a staff member. ErrConflict when the email exists.
func (d *DB) CreateUser(ctx context.Context, email, role, passwordHash string, by AuditEntry) (User, error) {
	email = strings.TrimSpace(email)
	var u User
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		now := d.millis()
		res, err := tx.ExecContext(ctx, `INSERT INTO users(email, role, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
			email, role, passwordHash, now, now)
		if err != nil {
			if isConstraint(err) {
				return fmt.Errorf("db: create user: %w", ErrConflict)
			}
			return fmt.Errorf("db: create user: %w", err)
		}
		id, _ := res.LastInsertId()
		by.Action, by.Object, by.Detail = "user.create", fmt.Sprintf("user:%d", id), "role="+role
		if err := d.appendAudit(ctx, tx, &by); err != nil {
			return err
		}
		u, err = scanUser(tx.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE id = ?", id))
		return err
	})
	return u, err
}

// UserByEmail finds a user by email (case-insensitive).
func (d *DB) UserByEmail(ctx context.Context, email string) (User, error) {
	return scanUser(d.read.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE email = ?", strings.TrimSpace(email)))
}

// UserByID finds a user by id.
func (d *DB) UserByID(ctx context.Context, id int64) (User, error) {
	return scanUser(d.read.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE id = ?", id))
}

// CountUsers counts staff members.
func (d *DB) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := d.read.QueryRowContext(ctx, "SELECT count(*) FROM users").Scan(&n)
	return n, err
}

// ListUsers lists staff members by email.
func (d *DB) ListUsers(ctx context.Context) ([]User, error) {
	rows, err := d.read.QueryContext(ctx, "SELECT "+userColumns+" FROM users ORDER BY email")
	if err != nil {
		return nil, fmt.Errorf("db: list users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("db: list users: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// SetPassword replaces a user's password hash and ends their sessions.
func (d *DB) SetPassword(ctx context.Context, userID int64, hash string) error {
	return d.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?", hash, d.millis(), userID); err != nil {
			return fmt.Errorf("db: set password: %w", err)
		}
		_, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE user_id = ?", userID)
		return err
	})
}

// LoginLockout is the policy for repeated wrong passwords.
type LoginLockout struct {
	MaxFailures int           // failures before a lock
	LockFor     time.Duration // how long the account stays locked
}

// RecordLoginFailure counts a failed password for the user and locks the
// account once the policy's limit is reached.
func (d *DB) RecordLoginFailure(ctx context.Context, userID int64, p LoginLockout) error {
	return d.inTx(ctx, func(tx *sql.Tx) error {
		now := d.now()
		_, err := tx.ExecContext(ctx, `UPDATE users SET failed_logins = failed_logins + 1,
			locked_until = CASE WHEN failed_logins + 1 >= ? THEN ? ELSE locked_until END WHERE id = ?`,
			p.MaxFailures, now.Add(p.LockFor).UnixMilli(), userID)
		if err != nil {
			return fmt.Errorf("db: record login failure: %w", err)
		}
		return nil
	})
}

// ResetLoginFailures clears the failure count after a good sign-in.
func (d *DB) ResetLoginFailures(ctx context.Context, userID int64) error {
	_, err := d.write.ExecContext(ctx, "UPDATE users SET failed_logins = 0, locked_until = 0 WHERE id = ? AND (failed_logins > 0 OR locked_until > 0)", userID)
	if err != nil {
		return fmt.Errorf("db: reset login failures: %w", err)
	}
	return nil
}

// Session is a signed-in staff session kept on the server.
type Session struct {
	ID         string
	UserID     int64
	CreatedAt  time.Time
	LastSeenAt time.Time
}

// CreateSession starts a new session for the user and returns its id.
func (d *DB) CreateSession(ctx context.Context, userID int64, ip string) (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("db: create session: %w", err)
	}
	id := base64.RawURLEncoding.EncodeToString(raw)
	now := d.millis()
	_, err := d.write.ExecContext(ctx, "INSERT INTO sessions(id, user_id, created_at, last_seen_at, ip) VALUES (?, ?, ?, ?, ?)", id, userID, now, now, ip)
	if err != nil {
		return "", fmt.Errorf("db: create session: %w", err)
	}
	return id, nil
}

// SessionLimits are the idle and absolute session timeouts.
type SessionLimits struct {
	Idle     time.Duration
	Absolute time.Duration
}

// touchEvery bounds how often last_seen_at is written: a write per request
// would serialise every page view behind the one write connection.
const touchEvery = time.Minute

// SessionUser returns the user of a live session, ending the session if it
// has timed out. ErrNotFound when there is no live session or the user is
// disabled. It runs on every staff request, so it reads only what a
// request needs: the user's ID, Email and Role (the rest of User is zero).
func (d *DB) SessionUser(ctx context.Context, sessionID string, lim SessionLimits) (User, error) {
	if sessionID == "" {
		return User{}, ErrNotFound
	}
	var created, seen, notAfter int64
	row := d.read.QueryRowContext(ctx, `SELECT s.created_at, s.last_seen_at, s.not_after, u.id, u.email, u.role, u.disabled
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ?`, sessionID)
	var u User
	err := row.Scan(&created, &seen, &notAfter, &u.ID, &u.Email, &u.Role, &u.Disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, ErrNotFound
	}
	if err != nil {
		return User{}, fmt.Errorf("db: session: %w", err)
	}
	now := d.now()
	// not_after is the cap an IdP set (SessionNotOnOrAfter); 0 = none.
	if u.Disabled || now.Sub(fromMillis(seen)) > lim.Idle || now.Sub(fromMillis(created)) > lim.Absolute ||
		(notAfter > 0 && !now.Before(fromMillis(notAfter))) {
		_ = d.DeleteSession(ctx, sessionID)
		return User{}, ErrNotFound
	}
	if now.Sub(fromMillis(seen)) > touchEvery {
		if _, err := d.write.ExecContext(ctx, "UPDATE sessions SET last_seen_at = ? WHERE id = ?", now.UnixMilli(), sessionID); err != nil {
			return User{}, fmt.Errorf("db: session touch: %w", err)
		}
	}
	return u, nil
}

// DeleteSession ends one session.
func (d *DB) DeleteSession(ctx context.Context, sessionID string) error {
	if _, err := d.write.ExecContext(ctx, "DELETE FROM sessions WHERE id = ?", sessionID); err != nil {
		return fmt.Errorf("db: delete session: %w", err)
	}
	return nil
}

func isConstraint(err error) bool {
	return err != nil && strings.Contains(err.Error(), "constraint failed")
}
