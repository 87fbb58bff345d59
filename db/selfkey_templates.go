package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// SelfKeyTemplate is a KYC template admins edit: which SelfKey attribute
// schemas a wallet submits with an application, and which are required.
type SelfKeyTemplate struct {
	ID          string
	Name        string
	Description string
	Attributes  []SelfKeyTemplateAttribute
	Active      bool // offered to wallets
	CreatedAt   time.Time
	UpdatedAt   time.Time
	UpdatedBy   string
}

// SelfKeyTemplateAttribute is one attribute of a template: our id for it
// (the wallet echoes it back), a label, the SelfKey schema URL, required.
type SelfKeyTemplateAttribute struct {
	ID       string `json:"id"`
	Label    string `json:"label,omitempty"`
	SchemaID string `json:"schemaId"`
	Required bool   `json:"required"`
}

// selfKeyTemplatesSeeded is the settings key set once the defaults went in:
// templates an admin later deactivates do not come back.
const selfKeyTemplatesSeeded = "selfkey.templates_seeded"

// SeedSelfKeyTemplates stores the given default templates the first time
// it is called on a database, and reports whether it did.
func (d *DB) SeedSelfKeyTemplates(ctx context.Context, ts []SelfKeyTemplate) (bool, error) {
	var seeded bool
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "INSERT INTO settings(key, value) VALUES (?, '1') ON CONFLICT(key) DO NOTHING", selfKeyTemplatesSeeded)
		if err != nil {
			return fmt.Errorf("db: seed selfkey templates: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		seeded = true
		for _, t := range ts {
			t.Active = true
			if err := d.insertTemplate(ctx, tx, t, "system"); err != nil {
				return err
			}
		}
		return nil
	})
	return seeded, err
}

func (d *DB) insertTemplate(ctx context.Context, tx *sql.Tx, t SelfKeyTemplate, by string) error {
	attrs, err := templateAttributesJSON(t)
	if err != nil {
		return err
	}
	now := d.millis()
	_, err = tx.ExecContext(ctx, `INSERT INTO selfkey_templates(id, name, description, attributes, active, created_at, updated_at, updated_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING`,
		t.ID, strings.TrimSpace(t.Name), strings.TrimSpace(t.Description), attrs, t.Active, now, now, by)
	if err != nil {
		return fmt.Errorf("db: selfkey template %s: %w", t.ID, err)
	}
	return nil
}

func templateAttributesJSON(t SelfKeyTemplate) (string, error) {
	if len(t.Attributes) == 0 {
		return "", fmt.Errorf("db: selfkey template %s: %w: no attributes", t.ID, ErrInvalid)
	}
	b, err := json.Marshal(t.Attributes)
	if err != nil {
		return "", fmt.Errorf("db: selfkey template %s: %w", t.ID, err)
	}
	return string(b), nil
}

const templateColumns = "id, name, description, attributes, active, created_at, updated_at, updated_by"

func scanTemplate(row interface{ Scan(...any) error }) (SelfKeyTemplate, error) {
	var t SelfKeyTemplate
	var attrs string
	var created, updated int64
	err := row.Scan(&t.ID, &t.Name, &t.Description, &attrs, &t.Active, &created, &updated, &t.UpdatedBy)
	if errors.Is(err, sql.ErrNoRows) {
		return t, ErrNotFound
	}
	if err != nil {
		return t, fmt.Errorf("db: selfkey template: %w", err)
	}
	if err := json.Unmarshal([]byte(attrs), &t.Attributes); err != nil {
		return t, fmt.Errorf("db: selfkey template %s: attributes: %w", t.ID, err)
	}
	t.CreatedAt, t.UpdatedAt = fromMillis(created), fromMillis(updated)
	return t, nil
}

// SelfKeyTemplates lists the templates by id; activeOnly leaves out those
// not offered to wallets.
func (d *DB) SelfKeyTemplates(ctx context.Context, activeOnly bool) ([]SelfKeyTemplate, error) {
	q := "SELECT " + templateColumns + " FROM selfkey_templates"
	if activeOnly {
		q += " WHERE active = 1"
	}
	rows, err := d.read.QueryContext(ctx, q+" ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("db: selfkey templates: %w", err)
	}
	defer rows.Close()
	var out []SelfKeyTemplate
	for rows.Next() {
		t, err := scanTemplate(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// SelfKeyTemplate returns one template; ErrNotFound when there is none.
func (d *DB) SelfKeyTemplate(ctx context.Context, id string) (SelfKeyTemplate, error) {
	return scanTemplate(d.read.QueryRowContext(ctx, "SELECT "+templateColumns+" FROM selfkey_templates WHERE id = ?", id))
}

// CreateSelfKeyTemplate adds a template, audited; ErrConflict when its id
// is taken.
func (d *DB) CreateSelfKeyTemplate(ctx context.Context, t SelfKeyTemplate, audit AuditEntry) error {
	return d.inTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM selfkey_templates WHERE id = ?", t.ID).Scan(&n); err != nil {
			return fmt.Errorf("db: create selfkey template: %w", err)
		}
		if n > 0 {
			return fmt.Errorf("db: create selfkey template %s: %w", t.ID, ErrConflict)
		}
		if err := d.insertTemplate(ctx, tx, t, audit.Actor); err != nil {
			return err
		}
		audit.Action, audit.Object, audit.Detail = "selfkey.template.create", "selfkey_template:"+t.ID, templateSummary(t)
		return d.appendAudit(ctx, tx, &audit)
	})
}

// UpdateSelfKeyTemplate replaces a template's name, description,
// attributes and whether it is offered, audited; ErrNotFound when there is
// no such template.
func (d *DB) UpdateSelfKeyTemplate(ctx context.Context, t SelfKeyTemplate, audit AuditEntry) error {
	attrs, err := templateAttributesJSON(t)
	if err != nil {
		return err
	}
	return d.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE selfkey_templates SET name = ?, description = ?, attributes = ?, active = ?,
			updated_at = ?, updated_by = ? WHERE id = ?`,
			strings.TrimSpace(t.Name), strings.TrimSpace(t.Description), attrs, t.Active, d.millis(), audit.Actor, t.ID)
		if err != nil {
			return fmt.Errorf("db: update selfkey template %s: %w", t.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("db: update selfkey template %s: %w", t.ID, ErrNotFound)
		}
		audit.Action, audit.Object, audit.Detail = "selfkey.template.update", "selfkey_template:"+t.ID, templateSummary(t)
		return d.appendAudit(ctx, tx, &audit)
	})
}

// templateSummary says what a template asks for, for the audit log.
func templateSummary(t SelfKeyTemplate) string {
	var req, opt []string
	for _, a := range t.Attributes {
		if a.Required {
			req = append(req, a.ID)
		} else {
			opt = append(opt, a.ID)
		}
	}
	return fmt.Sprintf("active=%t required=%s optional=%s", t.Active, strings.Join(req, ","), strings.Join(opt, ","))
}
