package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// MaxOutstandingSAMLRequests bounds how many sign-ins may be in progress at
// once. Starting a sign-in needs no account, so without a bound anyone
// could fill the table; expired requests do not count.
const MaxOutstandingSAMLRequests = 10000

// ErrTooManySAMLRequests is returned by SAMLRequestStore.Save when
// MaxOutstandingSAMLRequests sign-ins are already in progress.
var ErrTooManySAMLRequests = errors.New("too many SAML sign-ins in progress")

// SAMLRequestStore keeps the IDs of the AuthnRequests we sent, with the
// hash of the secret that binds each to a browser, until they expire; Take
// hands each out once. It satisfies web/saml's RequestStore
// (the db package imports no app package, so the match is structural).
type SAMLRequestStore struct{ d *DB }

// SAMLRequests returns the database-backed store of outstanding
// AuthnRequests.
func (d *DB) SAMLRequests() *SAMLRequestStore { return &SAMLRequestStore{d: d} }

// Save records id, to continue to relayState and bound to the browser
// whose secret hashes to bindingHash (hex SHA-256), until exp. Expired
// requests are dropped on the way.
func (s *SAMLRequestStore) Save(ctx context.Context, id, relayState, bindingHash string, exp time.Time) error {
	if id == "" {
		return fmt.Errorf("db: save SAML request: %w: empty id", ErrInvalid)
	}
	// An unbound request could never be accepted: refuse to store one.
	if bindingHash == "" {
		return fmt.Errorf("db: save SAML request: %w: empty binding hash", ErrInvalid)
	}
	return s.d.inTx(ctx, func(tx *sql.Tx) error {
		now := s.d.millis()
		if _, err := tx.ExecContext(ctx, "DELETE FROM saml_requests WHERE expires_at <= ?", now); err != nil {
			return fmt.Errorf("db: save SAML request: purge: %w", err)
		}
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM saml_requests").Scan(&n); err != nil {
			return fmt.Errorf("db: save SAML request: count: %w", err)
		}
		if n >= MaxOutstandingSAMLRequests {
			return fmt.Errorf("db: save SAML request: %w", ErrTooManySAMLRequests)
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO saml_requests(id, relay_state, binding_hash, expires_at, created_at) VALUES (?, ?, ?, ?, ?)",
			id, relayState, bindingHash, exp.UnixMilli(), now)
		if err != nil {
			if isConstraint(err) {
				return fmt.Errorf("db: save SAML request: %w", ErrConflict)
			}
			return fmt.Errorf("db: save SAML request: %w", err)
		}
		return nil
	})
}

// Take removes id and returns its RelayState and binding hash; ok is
// false when id was never saved, was already taken, or expired at or
// before now. A request saved before migration 011 has an empty binding
// hash, which the caller must refuse.
func (s *SAMLRequestStore) Take(ctx context.Context, id string, now time.Time) (string, string, bool, error) {
	var relay, binding string
	var exp int64
	// One statement: two ACS posts racing for the same request cannot
	// both get it.
	err := s.d.write.QueryRowContext(ctx, "DELETE FROM saml_requests WHERE id = ? RETURNING relay_state, binding_hash, expires_at", id).Scan(&relay, &binding, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", false, nil
	}
	if err != nil {
		return "", "", false, fmt.Errorf("db: take SAML request: %w", err)
	}
	if !now.Before(fromMillis(exp)) {
		return "", "", false, nil
	}
	return relay, binding, true, nil
}

// SAMLAssertionStore remembers accepted assertion IDs until they expire.
// It satisfies web/saml's AssertionStore.
type SAMLAssertionStore struct {
	d   *DB
	now func() time.Time
}

// SAMLAssertions returns the database-backed store of seen assertion IDs;
// now (the service provider's clock) decides when an entry has expired.
func (d *DB) SAMLAssertions(now func() time.Time) *SAMLAssertionStore {
	if now == nil {
		now = d.now
	}
	return &SAMLAssertionStore{d: d, now: now}
}

// Remember records assertionID until exp. first is false when it is
// already recorded and not yet expired: the assertion is a replay.
func (s *SAMLAssertionStore) Remember(ctx context.Context, assertionID string, exp time.Time) (bool, error) {
	if assertionID == "" {
		return false, fmt.Errorf("db: remember SAML assertion: %w: empty id", ErrInvalid)
	}
	var first bool
	err := s.d.inTx(ctx, func(tx *sql.Tx) error {
		now := s.now().UnixMilli()
		// An expired entry may be overwritten: the assertion could not be
		// accepted again anyway, and its ID may legitimately recur.
		res, err := tx.ExecContext(ctx, `INSERT INTO saml_assertions(id, expires_at) VALUES (?, ?)
			ON CONFLICT(id) DO UPDATE SET expires_at = excluded.expires_at WHERE saml_assertions.expires_at <= ?`,
			assertionID, exp.UnixMilli(), now)
		if err != nil {
			return fmt.Errorf("db: remember SAML assertion: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("db: remember SAML assertion: %w", err)
		}
		first = n == 1
		if _, err := tx.ExecContext(ctx, "DELETE FROM saml_assertions WHERE expires_at <= ? AND id <> ?", now, assertionID); err != nil {
			return fmt.Errorf("db: remember SAML assertion: purge: %w", err)
		}
		return nil
	})
	return first, err
}
