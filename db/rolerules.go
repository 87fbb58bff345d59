package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// RoleRule maps one value of the IdP's role attribute to a staff role. The
// first rule by Position whose value the user has wins.
type RoleRule struct {
	ID        int64
	Position  int
	Value     string
	Role      string
	CreatedAt time.Time
}

// roleMapSeededKey is the settings key holding the KYCDESK_SAML_ROLE_MAP
// text the rules were last seeded from.
const roleMapSeededKey = "saml.role_map_seeded"

// maxRoleRuleValue bounds a rule's value (an LDAP DN can be long).
const maxRoleRuleValue = 512

// RoleRules returns the mapping rules in the order they are applied.
func (d *DB) RoleRules(ctx context.Context) ([]RoleRule, error) {
	return roleRules(ctx, d.read)
}

func roleRules(ctx context.Context, q querier) ([]RoleRule, error) {
	rows, err := q.QueryContext(ctx, "SELECT id, position, value, role, created_at FROM saml_role_rules ORDER BY position, id")
	if err != nil {
		return nil, fmt.Errorf("db: role rules: %w", err)
	}
	defer rows.Close()
	var out []RoleRule
	for rows.Next() {
		var r RoleRule
		var created int64
		if err := rows.Scan(&r.ID, &r.Position, &r.Value, &r.Role, &created); err != nil {
			return nil, fmt.Errorf("db: role rules: %w", err)
		}
		r.CreatedAt = fromMillis(created)
		out = append(out, r)
	}
	return out, rows.Err()
}

// validRole reports whether role is one of the five staff roles.
func validRole(role string) bool {
	switch role {
	case "admin", "checker", "maker", "link_creator", "auditor":
		return true
	}
	return false
}

// AddRoleRule appends a rule after the existing ones. ErrConflict when a
// rule for value exists; ErrInvalid for an unknown role or a bad value.
func (d *DB) AddRoleRule(ctx context.Context, value, role string, by AuditEntry) (RoleRule, error) {
	value = strings.TrimSpace(value)
	if value == "" || len(value) > maxRoleRuleValue || !validRole(role) {
		return RoleRule{}, fmt.Errorf("db: add role rule: %w", ErrInvalid)
	}
	var r RoleRule
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		now := d.millis()
		res, err := tx.ExecContext(ctx, `INSERT INTO saml_role_rules(position, value, role, created_at)
			VALUES ((SELECT COALESCE(max(position), 0) + 1 FROM saml_role_rules), ?, ?, ?)`, value, role, now)
		if err != nil {
			if isConstraint(err) {
				return fmt.Errorf("db: add role rule: %w", ErrConflict)
			}
			return fmt.Errorf("db: add role rule: %w", err)
		}
		r.ID, _ = res.LastInsertId()
		r.Value, r.Role, r.CreatedAt = value, role, fromMillis(now)
		if err := tx.QueryRowContext(ctx, "SELECT position FROM saml_role_rules WHERE id = ?", r.ID).Scan(&r.Position); err != nil {
			return fmt.Errorf("db: add role rule: %w", err)
		}
		// The value is an IdP group name, not personal data.
		by.Action, by.Object, by.Detail = "sso.rule_add", fmt.Sprintf("role_rule:%d", r.ID), fmt.Sprintf("value=%q role=%s", value, role)
		return d.appendAudit(ctx, tx, &by)
	})
	return r, err
}

// DeleteRoleRule removes a rule. ErrNotFound when there is none.
func (d *DB) DeleteRoleRule(ctx context.Context, id int64, by AuditEntry) error {
	return d.inTx(ctx, func(tx *sql.Tx) error {
		var value, role string
		err := tx.QueryRowContext(ctx, "DELETE FROM saml_role_rules WHERE id = ? RETURNING value, role", id).Scan(&value, &role)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("db: delete role rule: %w", ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("db: delete role rule: %w", err)
		}
		by.Action, by.Object, by.Detail = "sso.rule_delete", fmt.Sprintf("role_rule:%d", id), fmt.Sprintf("value=%q role=%s", value, role)
		return d.appendAudit(ctx, tx, &by)
	})
}

// MoveRoleRule swaps a rule with its neighbour (up: the one applied before
// it). Moving the first rule up or the last down changes nothing.
func (d *DB) MoveRoleRule(ctx context.Context, id int64, up bool, by AuditEntry) error {
	return d.inTx(ctx, func(tx *sql.Tx) error {
		rules, err := roleRules(ctx, tx)
		if err != nil {
			return err
		}
		i := -1
		for k, r := range rules {
			if r.ID == id {
				i = k
			}
		}
		if i < 0 {
			return fmt.Errorf("db: move role rule: %w", ErrNotFound)
		}
		j := i + 1
		if up {
			j = i - 1
		}
		if j < 0 || j >= len(rules) {
			return nil
		}
		// Renumber densely so equal positions from old data cannot stall a move.
		rules[i], rules[j] = rules[j], rules[i]
		for k, r := range rules {
			if _, err := tx.ExecContext(ctx, "UPDATE saml_role_rules SET position = ? WHERE id = ?", k+1, r.ID); err != nil {
				return fmt.Errorf("db: move role rule: %w", err)
			}
		}
		dir := "down"
		if up {
			dir = "up"
		}
		by.Action, by.Object, by.Detail = "sso.rule_move", fmt.Sprintf("role_rule:%d", id), fmt.Sprintf("%s to position %d", dir, j+1)
		return d.appendAudit(ctx, tx, &by)
	})
}

// RoleRuleInput is one rule for SeedRoleRules.
type RoleRuleInput struct {
	Value string
	Role  string
}

// SeedRoleRules makes the rules those of the configured role map (raw is
// the KYCDESK_SAML_ROLE_MAP text, rules its parsed form) when raw differs
// from what was seeded last. So a deployment is configured without
// clicking, an admin's edits survive restarts, and changing the variable
// replaces them. An empty raw never touches the rules. It reports whether
// it changed anything.
func (d *DB) SeedRoleRules(ctx context.Context, raw string, rules []RoleRuleInput, by AuditEntry) (bool, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return false, nil
	}
	for _, r := range rules {
		if r.Value == "" || len(r.Value) > maxRoleRuleValue || !validRole(r.Role) {
			return false, fmt.Errorf("db: seed role rules: %w: rule %q=%q", ErrInvalid, r.Value, r.Role)
		}
	}
	changed := false
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		var seeded string
		err := tx.QueryRowContext(ctx, "SELECT value FROM settings WHERE key = ?", roleMapSeededKey).Scan(&seeded)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("db: seed role rules: %w", err)
		}
		if seeded == raw {
			return nil
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM saml_role_rules"); err != nil {
			return fmt.Errorf("db: seed role rules: %w", err)
		}
		now := d.millis()
		for i, r := range rules {
			if _, err := tx.ExecContext(ctx, "INSERT INTO saml_role_rules(position, value, role, created_at) VALUES (?, ?, ?, ?)",
				i+1, r.Value, r.Role, now); err != nil {
				return fmt.Errorf("db: seed role rules: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings(key, value) VALUES (?, ?)
			ON CONFLICT(key) DO UPDATE SET value = excluded.value`, roleMapSeededKey, raw); err != nil {
			return fmt.Errorf("db: seed role rules: %w", err)
		}
		by.Action, by.Object, by.Detail = "sso.rules_seeded", "role_rules", fmt.Sprintf("%d rules from KYCDESK_SAML_ROLE_MAP", len(rules))
		changed = true
		return d.appendAudit(ctx, tx, &by)
	})
	return changed, err
}
