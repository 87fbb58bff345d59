package db

import (
	"context"
	"database/sql"
	"sync"
)

// readPool is the read-only connection pool with a cache of prepared
// statements. Parsing SQL is a large share of a query's cost with the pure
// Go SQLite (measured: a sixth of the list page's CPU), so a statement the
// app runs again is prepared once. The cache is bounded: a query built
// with inlined values must not grow it without end.
type readPool struct {
	*sql.DB
	mu    sync.RWMutex
	stmts map[string]*sql.Stmt
}

// maxCachedStatements bounds the cache; past it, queries are prepared per
// call as before.
const maxCachedStatements = 256

func newReadPool(db *sql.DB) *readPool {
	return &readPool{DB: db, stmts: map[string]*sql.Stmt{}}
}

func (p *readPool) stmt(ctx context.Context, query string) *sql.Stmt {
	p.mu.RLock()
	s := p.stmts[query]
	n := len(p.stmts)
	p.mu.RUnlock()
	if s != nil || n >= maxCachedStatements {
		return s
	}
	s, err := p.DB.PrepareContext(ctx, query)
	if err != nil {
		return nil // let the plain call report the error
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stmts == nil { // closed meanwhile
		s.Close()
		return nil
	}
	if prev := p.stmts[query]; prev != nil {
		s.Close()
		return prev
	}
	p.stmts[query] = s
	return s
}

// QueryContext runs a query through its cached statement.
func (p *readPool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s := p.stmt(ctx, query); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return p.DB.QueryContext(ctx, query, args...)
}

// QueryRowContext runs a one-row query through its cached statement.
func (p *readPool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if s := p.stmt(ctx, query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return p.DB.QueryRowContext(ctx, query, args...)
}

// Close closes the cached statements and the pool.
func (p *readPool) Close() error {
	p.mu.Lock()
	for _, s := range p.stmts {
		s.Close()
	}
	p.stmts = nil
	p.mu.Unlock()
	return p.DB.Close()
}
