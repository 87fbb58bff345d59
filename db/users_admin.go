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

// Errors of the user administration and SSO sign-in.
var (
	// ErrLastAdmin: the change would leave no enabled admin.
	ErrLastAdmin = errors.New("the last enabled admin cannot be demoted or disabled")
	// ErrDisabled: the account is disabled.
	ErrDisabled = errors.New("account disabled")
	// ErrIdentityConflict: an SSO sign-in's email belongs to an account
	// that signs in with a password or is linked to another IdP identity.
	ErrIdentityConflict = errors.New("the email belongs to an account not linked to this identity")
)

// StaffUser is a user as the admin's user list shows it.
type StaffUser struct {
	User
	// SSO is true when the user is linked to an IdP identity.
	SSO bool
	// LastLogin is the last SSO sign-in (zero if none).
	LastLogin time.Time
}

// ListStaff lists every user by email, with how they sign in.
func (d *DB) ListStaff(ctx context.Context) ([]StaffUser, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT u.id, u.email, u.role, u.password_hash, COALESCE(u.saml_name_id, ''), u.disabled,
		u.failed_logins, u.locked_until, u.created_at, i.user_id IS NOT NULL, COALESCE(i.last_login, 0)
		FROM users u LEFT JOIN user_identities i ON i.user_id = u.id ORDER BY u.email`)
	if err != nil {
		return nil, fmt.Errorf("db: list staff: %w", err)
	}
	defer rows.Close()
	var out []StaffUser
	for rows.Next() {
		var s StaffUser
		var locked, created, last int64
		u := &s.User
		if err := rows.Scan(&u.ID, &u.Email, &u.Role, &u.PasswordHash, &u.SAMLNameID, &u.Disabled, &u.FailedLogins, &locked, &created,
			&s.SSO, &last); err != nil {
			return nil, fmt.Errorf("db: list staff: %w", err)
		}
		if locked > 0 {
			u.LockedUntil = fromMillis(locked)
		}
		u.CreatedAt = fromMillis(created)
		if last > 0 {
			s.LastLogin = fromMillis(last)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// enabledAdmins counts enabled admins inside tx.
func enabledAdmins(ctx context.Context, tx *sql.Tx) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx, "SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0").Scan(&n)
	return n, err
}

// lastAdminError maps the database trigger's refusal to ErrLastAdmin.
func lastAdminError(op string, err error) error {
	if err != nil && strings.Contains(err.Error(), "last enabled admin") {
		return fmt.Errorf("db: %s: %w", op, ErrLastAdmin)
	}
	return fmt.Errorf("db: %s: %w", op, err)
}

// SetRole changes a user's role. It refuses (ErrLastAdmin) to demote the
// last enabled admin; the check and the change share one transaction, so
// two admins demoting each other at once cannot both succeed.
func (d *DB) SetRole(ctx context.Context, userID int64, role string, by AuditEntry) error {
	if !validRole(role) {
		return fmt.Errorf("db: set role: %w: unknown role", ErrInvalid)
	}
	return d.inTx(ctx, func(tx *sql.Tx) error {
		u, err := scanUser(tx.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE id = ?", userID))
		if err != nil {
			return fmt.Errorf("db: set role: %w", err)
		}
		if u.Role == role {
			return nil
		}
		if u.Role == "admin" && !u.Disabled {
			n, err := enabledAdmins(ctx, tx)
			if err != nil {
				return fmt.Errorf("db: set role: %w", err)
			}
			if n <= 1 {
				return fmt.Errorf("db: set role: %w", ErrLastAdmin)
			}
		}
		if _, err := tx.ExecContext(ctx, "UPDATE users SET role = ?, updated_at = ? WHERE id = ?", role, d.millis(), userID); err != nil {
			return lastAdminError("set role", err)
		}
		by.Action, by.Object, by.Detail = "user.role_change", fmt.Sprintf("user:%d", userID), "from="+u.Role+" to="+role
		return d.appendAudit(ctx, tx, &by)
	})
}

// SetDisabled disables or enables a user. Disabling ends every session of
// the user in the same transaction, so a stolen or replayed cookie is dead
// at once; it refuses (ErrLastAdmin) to disable the last enabled admin.
func (d *DB) SetDisabled(ctx context.Context, userID int64, disabled bool, by AuditEntry) error {
	return d.inTx(ctx, func(tx *sql.Tx) error {
		u, err := scanUser(tx.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE id = ?", userID))
		if err != nil {
			return fmt.Errorf("db: set disabled: %w", err)
		}
		if u.Disabled == disabled {
			return nil
		}
		if disabled && u.Role == "admin" {
			n, err := enabledAdmins(ctx, tx)
			if err != nil {
				return fmt.Errorf("db: set disabled: %w", err)
			}
			if n <= 1 {
				return fmt.Errorf("db: set disabled: %w", ErrLastAdmin)
			}
		}
		if _, err := tx.ExecContext(ctx, "UPDATE users SET disabled = ?, updated_at = ? WHERE id = ?", disabled, d.millis(), userID); err != nil {
			return lastAdminError("set disabled", err)
		}
		action := "user.enable"
		if disabled {
			action = "user.disable"
			res, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE user_id = ?", userID)
			if err != nil {
				return fmt.Errorf("db: set disabled: end sessions: %w", err)
			}
			n, _ := res.RowsAffected()
			by.Detail = fmt.Sprintf("%d sessions ended", n)
		}
		by.Action, by.Object = action, fmt.Sprintf("user:%d", userID)
		return d.appendAudit(ctx, tx, &by)
	})
}

// LiveSessionUser is SessionUser that also honours a cap the IdP set on the
// session (SessionNotOnOrAfter): past it the session is ended.
func (d *DB) LiveSessionUser(ctx context.Context, sessionID string, lim SessionLimits) (User, error) {
	// SessionUser checks the IdP's cap too, in the same query (one query
	// per staff request instead of two).
	return d.SessionUser(ctx, sessionID, lim)
}

// SSOLogin is an SSO sign-in the IdP vouched for and the role rules
// allowed.
type SSOLogin struct {
	// Issuer and NameID identify the user at the IdP (never logged).
	Issuer, NameID string
	// Email is the IdP's email attribute, used when the user is new.
	Email string
	// Role is what the role rules gave.
	Role string
	// NotAfter caps the session (the IdP's SessionNotOnOrAfter); zero
	// means only our own timeouts apply.
	NotAfter time.Time
}

// SSOResult is what SSOSignIn did.
type SSOResult struct {
	User      User
	SessionID string
	// Provisioned is true when the user was created (or an account an
	// admin added was linked) by this sign-in.
	Provisioned bool
}

// SSOSignIn signs in the IdP identity in one transaction: it finds the user
// by (issuer, NameID); on the first sign-in it provisions one, or links an
// account an admin added for that email that has no password and no other
// identity; it sets the role the rules gave (keeping the last enabled admin
// an admin); and it starts a new session capped at NotAfter. Every change
// is audited in the same transaction. by carries who-from (the IP).
// ErrDisabled and ErrIdentityConflict refuse the sign-in (the result's
// User then names the account); ErrInvalid when a new user comes without
// an email.
func (d *DB) SSOSignIn(ctx context.Context, in SSOLogin, by AuditEntry) (SSOResult, error) {
	if in.Issuer == "" || in.NameID == "" || !validRole(in.Role) {
		return SSOResult{}, fmt.Errorf("db: sso sign-in: %w", ErrInvalid)
	}
	var res SSOResult
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		now := d.millis()
		u, err := d.ssoUser(ctx, tx, in, now, by, &res.Provisioned)
		if err != nil {
			res.User = u // names the account a refusal is about, if there is one
			return err
		}
		by.ActorID, by.Actor = u.ID, u.Email
		if u.Role != in.Role {
			keep := false
			if u.Role == "admin" {
				n, err := enabledAdmins(ctx, tx)
				if err != nil {
					return fmt.Errorf("db: sso sign-in: %w", err)
				}
				keep = n <= 1
			}
			e := by
			e.Object = fmt.Sprintf("user:%d", u.ID)
			if keep {
				e.Action, e.Detail = "user.role_sync_refused", "IdP gives "+in.Role+"; kept admin: the last enabled admin"
			} else {
				if _, err := tx.ExecContext(ctx, "UPDATE users SET role = ?, updated_at = ? WHERE id = ?", in.Role, now, u.ID); err != nil {
					return lastAdminError("sso sign-in: set role", err)
				}
				e.Action, e.Detail = "user.role_change", "from="+u.Role+" to="+in.Role+" (IdP role attribute)"
				u.Role = in.Role
			}
			if err := d.appendAudit(ctx, tx, &e); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, "UPDATE user_identities SET last_login = ? WHERE user_id = ?", now, u.ID); err != nil {
			return fmt.Errorf("db: sso sign-in: %w", err)
		}
		sid, err := createSessionTx(ctx, tx, u.ID, by.IP, now, in.NotAfter)
		if err != nil {
			return err
		}
		e := by
		e.Action, e.Object, e.Detail = "auth.login", fmt.Sprintf("user:%d", u.ID), "method=saml"
		if !in.NotAfter.IsZero() {
			e.Detail += " session_not_after=" + in.NotAfter.UTC().Format(time.RFC3339)
		}
		if err := d.appendAudit(ctx, tx, &e); err != nil {
			return err
		}
		res.User, res.SessionID = u, sid
		return nil
	})
	return res, err
}

// ssoUser finds, links or creates the user for an SSO sign-in inside tx.
func (d *DB) ssoUser(ctx context.Context, tx *sql.Tx, in SSOLogin, now int64, by AuditEntry, provisioned *bool) (User, error) {
	var userID int64
	err := tx.QueryRowContext(ctx, "SELECT user_id FROM user_identities WHERE issuer = ? AND name_id = ?", in.Issuer, in.NameID).Scan(&userID)
	switch {
	case err == nil:
		u, err := scanUser(tx.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE id = ?", userID))
		if err != nil {
			return User{}, fmt.Errorf("db: sso sign-in: %w", err)
		}
		if u.Disabled {
			return u, fmt.Errorf("db: sso sign-in: user %d: %w", u.ID, ErrDisabled)
		}
		return u, nil
	case !errors.Is(err, sql.ErrNoRows):
		return User{}, fmt.Errorf("db: sso sign-in: %w", err)
	}
	email := strings.TrimSpace(in.Email)
	if email == "" || len(email) > 254 {
		return User{}, fmt.Errorf("db: sso sign-in: %w: no usable email", ErrInvalid)
	}
	u, err := scanUser(tx.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE email = ?", email))
	action := "user.sso_link"
	switch {
	case err == nil:
		var linked int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM user_identities WHERE user_id = ?", u.ID).Scan(&linked); err != nil {
			return User{}, fmt.Errorf("db: sso sign-in: %w", err)
		}
		// A password account (the bootstrap admin, say) is never taken
		// over by whoever the IdP calls by the same email.
		if u.PasswordHash != "" || linked > 0 {
			return u, fmt.Errorf("db: sso sign-in: user %d: %w", u.ID, ErrIdentityConflict)
		}
		if u.Disabled {
			return u, fmt.Errorf("db: sso sign-in: user %d: %w", u.ID, ErrDisabled)
		}
	case errors.Is(err, ErrNotFound):
		action = "user.provision"
		r, err := tx.ExecContext(ctx, `INSERT INTO users(email, role, password_hash, created_at, updated_at) VALUES (?, ?, '', ?, ?)`,
			email, in.Role, now, now)
		if err != nil {
			return User{}, fmt.Errorf("db: sso sign-in: provision: %w", err)
		}
		id, _ := r.LastInsertId()
		if u, err = scanUser(tx.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE id = ?", id)); err != nil {
			return User{}, fmt.Errorf("db: sso sign-in: %w", err)
		}
	default:
		return User{}, fmt.Errorf("db: sso sign-in: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO user_identities(issuer, name_id, user_id, created_at) VALUES (?, ?, ?, ?)",
		in.Issuer, in.NameID, u.ID, now); err != nil {
		return User{}, fmt.Errorf("db: sso sign-in: link identity: %w", err)
	}
	*provisioned = true
	e := by
	e.ActorID, e.Actor = u.ID, u.Email
	e.Action, e.Object, e.Detail = action, fmt.Sprintf("user:%d", u.ID), "role="+u.Role+" on first SSO sign-in"
	return u, d.appendAudit(ctx, tx, &e)
}

// createSessionTx starts a session inside tx, capped at notAfter if set.
func createSessionTx(ctx context.Context, tx *sql.Tx, userID int64, ip string, now int64, notAfter time.Time) (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("db: create session: %w", err)
	}
	id := base64.RawURLEncoding.EncodeToString(raw)
	var capMillis int64
	if !notAfter.IsZero() {
		capMillis = notAfter.UnixMilli()
	}
	_, err := tx.ExecContext(ctx, "INSERT INTO sessions(id, user_id, created_at, last_seen_at, ip, not_after) VALUES (?, ?, ?, ?, ?, ?)",
		id, userID, now, now, ip, capMillis)
	if err != nil {
		return "", fmt.Errorf("db: create session: %w", err)
	}
	return id, nil
}
