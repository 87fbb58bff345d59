package db

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/kycdesk/kycdesk/db/seal"
)

// KeyRotation is what RotateDataKeys did.
type KeyRotation struct {
	Rewrapped int // re-wrapped by this run
	Current   int // already under the current key before this run
	Unknown   int // under neither key: left as they are
}

// ErrUnknownKEK is returned when data keys are wrapped under a key that is
// neither the current KYCDESK_DATA_KEY nor the old one given.
var ErrUnknownKEK = fmt.Errorf("data keys wrapped under an unknown key: %w", ErrInvalid)

// rotateBatch is how many data keys one rotation transaction re-wraps.
const rotateBatch = 500

// RotateDataKeys re-wraps every data key wrapped under old (the previous
// KYCDESK_DATA_KEY, 32 raw bytes) under the store's current key, a batch
// per transaction, each with an audit entry. data_keys.kek_id tells which
// keys are done, so the rotation is idempotent and resumable: after an
// interruption run it again with the same keys. The data itself is not
// touched (it is sealed with the data keys, which do not change). Keys
// under neither key are counted and reported as ErrUnknownKEK.
func (d *DB) RotateDataKeys(ctx context.Context, old []byte, audit AuditEntry) (KeyRotation, error) {
	var rep KeyRotation
	if d.kek == nil {
		return rep, fmt.Errorf("db: rotate keys: no data key configured")
	}
	oldKEK, err := seal.NewKEK(old)
	if err != nil {
		return rep, fmt.Errorf("db: rotate keys: old key: %w", err)
	}
	if oldKEK.ID() == d.kek.ID() {
		return rep, fmt.Errorf("db: rotate keys: the old and the new key are the same: %w", ErrInvalid)
	}
	if err := d.read.QueryRowContext(ctx, "SELECT count(*) FROM data_keys WHERE kek_id = ?", d.kek.ID()).Scan(&rep.Current); err != nil {
		return rep, fmt.Errorf("db: rotate keys: %w", err)
	}
	var after int64
	for {
		var done, unknown int
		var last int64
		err := d.inTx(ctx, func(tx *sql.Tx) error {
			done, unknown, last = 0, 0, after
			rows, err := tx.QueryContext(ctx, "SELECT applicant_id, kek_id, wrapped FROM data_keys WHERE kek_id != ? AND applicant_id > ? ORDER BY applicant_id LIMIT ?",
				d.kek.ID(), after, rotateBatch)
			if err != nil {
				return fmt.Errorf("db: rotate keys: %w", err)
			}
			type row struct {
				id      int64
				kekID   string
				wrapped []byte
			}
			var batch []row
			for rows.Next() {
				var r row
				if err := rows.Scan(&r.id, &r.kekID, &r.wrapped); err != nil {
					rows.Close()
					return fmt.Errorf("db: rotate keys: %w", err)
				}
				batch = append(batch, r)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("db: rotate keys: %w", err)
			}
			for _, r := range batch {
				last = r.id
				if r.kekID != oldKEK.ID() {
					unknown++
					continue
				}
				rewrapped, err := d.rewrap(oldKEK, old, r.id, r.wrapped)
				if err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, "UPDATE data_keys SET kek_id = ?, wrapped = ? WHERE applicant_id = ? AND kek_id = ?",
					d.kek.ID(), rewrapped, r.id, r.kekID); err != nil {
					return fmt.Errorf("db: rotate keys: %w", err)
				}
				done++
			}
			if done == 0 {
				return nil
			}
			e := audit
			e.Action, e.Object = "keys.rotate", "data_keys"
			e.Detail = fmt.Sprintf("re-wrapped %d data keys from key %s to key %s (up to applicant %d)", done, oldKEK.ID(), d.kek.ID(), last)
			return d.appendAudit(ctx, tx, &e)
		})
		if err != nil {
			return rep, err
		}
		rep.Rewrapped += done
		rep.Unknown += unknown
		if last == after {
			break
		}
		after = last
	}
	if rep.Unknown > 0 {
		return rep, fmt.Errorf("db: rotate keys: %d data keys: %w", rep.Unknown, ErrUnknownKEK)
	}
	if err := d.resignAuditHead(ctx, oldKEK); err != nil {
		return rep, err
	}
	return rep, nil
}

// resignAuditHead carries the audit log's anchor over to the new KEK: the
// head mark is re-signed only if its MAC holds under the old one, so a
// rotation never launders a forged head.
func (d *DB) resignAuditHead(ctx context.Context, oldKEK *seal.KEK) error {
	return d.inTx(ctx, func(tx *sql.Tx) error {
		var mark string
		err := tx.QueryRowContext(ctx, "SELECT value FROM settings WHERE key = 'audit.head'").Scan(&mark)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("db: rotate keys: audit head: %w", err)
		}
		parts := strings.Split(mark, ":")
		if len(parts) != 3 {
			return nil
		}
		id, err := strconv.ParseInt(parts[0], 10, 64)
		if err != nil {
			return nil
		}
		oldMAC := hex.EncodeToString(oldKEK.MAC("audit-head", []byte(fmt.Sprintf("%d:%s", id, parts[1]))))
		if parts[2] != oldMAC {
			return nil // already under the new key (a rotation's own entries re-signed it), or forged: verify says so
		}
		_, err = tx.ExecContext(ctx, "UPDATE settings SET value = ? WHERE key = 'audit.head'", d.auditHeadMark(id, parts[1]))
		return err
	})
}

// rewrap opens a data key wrapped under the old KEK and wraps it under the
// current one. The seal package hands out only a usable DataKey, not its
// bytes, so the unwrap is done here on seal's documented format (version
// byte, 12-byte nonce, AES-256-GCM, the applicant bound as associated
// data) and cross-checked through seal: a value sealed with the recovered
// bytes must open with the DataKey seal unwraps.
func (d *DB) rewrap(oldKEK *seal.KEK, old []byte, applicantID int64, wrapped []byte) ([]byte, error) {
	raw, err := unwrapRaw(old, applicantID, wrapped)
	if err != nil {
		return nil, fmt.Errorf("db: rotate keys: applicant %d: %w", applicantID, err)
	}
	viaSeal, err := oldKEK.Unwrap(applicantID, wrapped)
	if err != nil {
		return nil, fmt.Errorf("db: rotate keys: applicant %d: %w", applicantID, err)
	}
	mine, err := seal.NewDataKey(applicantID, raw)
	if err != nil {
		return nil, fmt.Errorf("db: rotate keys: applicant %d: %w", applicantID, err)
	}
	probe := []byte("kycdesk/v1/rotation-probe")
	if got, err := viaSeal.Open(mine.Seal(probe)); err != nil || !bytes.Equal(got, probe) {
		return nil, fmt.Errorf("db: rotate keys: applicant %d: recovered key does not match seal's: %w", applicantID, seal.ErrDecrypt)
	}
	out, err := d.kek.Wrap(applicantID, raw)
	if err != nil {
		return nil, fmt.Errorf("db: rotate keys: applicant %d: %w", applicantID, err)
	}
	return out, nil
}

// unwrapRaw opens a wrapped data key with the raw KEK bytes (seal's format).
func unwrapRaw(kek []byte, applicantID int64, wrapped []byte) ([]byte, error) {
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	n := aead.NonceSize()
	if len(wrapped) < 1+n+aead.Overhead() || wrapped[0] != 1 {
		return nil, seal.ErrDecrypt
	}
	raw, err := aead.Open(nil, wrapped[1:1+n], wrapped[1+n:], []byte("kycdesk/v1/datakey/"+strconv.FormatInt(applicantID, 10)))
	if err != nil {
		return nil, seal.ErrDecrypt
	}
	return raw, nil
}

// KeyStatus counts data keys by the key that wraps them.
func (d *DB) KeyStatus(ctx context.Context) (map[string]int, error) {
	rows, err := d.read.QueryContext(ctx, "SELECT kek_id, count(*) FROM data_keys GROUP BY kek_id")
	if err != nil {
		return nil, fmt.Errorf("db: key status: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, fmt.Errorf("db: key status: %w", err)
		}
		out[id] = n
	}
	return out, rows.Err()
}

// KEKID is the fingerprint of the store's current key-encryption key.
func (d *DB) KEKID() string {
	if d.kek == nil {
		return ""
	}
	return d.kek.ID()
}
