package db

import (
	"fmt"
	"sync"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// SQLite's per-connection mutex, made a no-op.
//
// modernc.org/sqlite opens every connection SQLITE_OPEN_FULLMUTEX (it is
// hard-coded), so every call into a connection, down to each column of
// each row, enters and leaves the connection's recursive mutex. Profiled
// on the applicants list at a million applicants, those locks were about
// a third of the query's CPU. They protect nothing here: database/sql
// never uses one connection from two goroutines at once, and modernc's own
// per-connection state is not safe for that anyway (its doc says so). That
// is SQLite's multi-thread mode, SQLITE_OPEN_NOMUTEX, in which a
// connection has no mutex at all.
//
// So before SQLite initialises, the package installs its own mutex
// methods (sqlite3_config(SQLITE_CONFIG_MUTEX), the documented way to
// replace them). Recursive mutexes do nothing: SQLite allocates them for
// each connection, for the RBU extension (unused) and to guard its own
// first initialisation, which runs here, once, while the program is still
// single-threaded. Every other mutex, the static ones that guard what
// connections share (page cache, memory, open files, PRNG, VFS) and any
// "fast" one, is a real lock, as before.
//
// Because SQLite is initialised here, a program that imports this package
// cannot also configure SQLite before initialisation (modernc's
// RegisterPageCache, for one, would then fail).
//
// Mutexes are handles, not pointers: SQLite only passes them back and
// compares them with zero.
const (
	noMutex     uintptr = 1  // every recursive mutex
	staticFirst         = 2  // SQLITE_MUTEX_STATIC_MAIN
	staticLast          = 13 // SQLITE_MUTEX_STATIC_VFS3
	fastFirst   uintptr = staticLast + 1
)

var (
	staticMutexes [staticLast - staticFirst + 1]sync.Mutex

	fastMutexes struct {
		sync.RWMutex
		locks []*sync.Mutex // handle fastFirst+i
		free  []uintptr
	}

	mutexMethods = sqlite3.Sqlite3_mutex_methods{
		FxMutexInit: *(*uintptr)(unsafe.Pointer(&struct{ f func(*libc.TLS) int32 }{func(*libc.TLS) int32 { return sqlite3.SQLITE_OK }})),
		FxMutexEnd:  *(*uintptr)(unsafe.Pointer(&struct{ f func(*libc.TLS) int32 }{func(*libc.TLS) int32 { return sqlite3.SQLITE_OK }})),
		FxMutexAlloc: *(*uintptr)(unsafe.Pointer(&struct {
			f func(*libc.TLS, int32) uintptr
		}{mutexAlloc})),
		FxMutexFree:  *(*uintptr)(unsafe.Pointer(&struct{ f func(*libc.TLS, uintptr) }{mutexFree})),
		FxMutexEnter: *(*uintptr)(unsafe.Pointer(&struct{ f func(*libc.TLS, uintptr) }{mutexEnter})),
		FxMutexTry: *(*uintptr)(unsafe.Pointer(&struct {
			f func(*libc.TLS, uintptr) int32
		}{mutexTry})),
		FxMutexLeave: *(*uintptr)(unsafe.Pointer(&struct{ f func(*libc.TLS, uintptr) }{mutexLeave})),
		FxMutexHeld: *(*uintptr)(unsafe.Pointer(&struct {
			f func(*libc.TLS, uintptr) int32
		}{func(*libc.TLS, uintptr) int32 { return 1 }})),
		FxMutexNotheld: *(*uintptr)(unsafe.Pointer(&struct {
			f func(*libc.TLS, uintptr) int32
		}{func(*libc.TLS, uintptr) int32 { return 1 }})),
	}
)

func init() {
	tls := libc.NewTLS()
	defer tls.Close()
	args := libc.Xmalloc(tls, 8)
	if args == 0 {
		panic("db: sqlite mutex setup: out of memory")
	}
	defer libc.Xfree(tls, args)
	if rc := sqlite3.Xsqlite3_config(tls, sqlite3.SQLITE_CONFIG_MUTEX, libc.VaList(args, uintptr(unsafe.Pointer(&mutexMethods)))); rc != sqlite3.SQLITE_OK {
		panic(fmt.Sprintf("db: sqlite mutex setup: sqlite3_config: %s", libc.GoString(sqlite3.Xsqlite3_errstr(tls, rc))))
	}
	if rc := sqlite3.Xsqlite3_initialize(tls); rc != sqlite3.SQLITE_OK {
		panic(fmt.Sprintf("db: sqlite mutex setup: sqlite3_initialize: %s", libc.GoString(sqlite3.Xsqlite3_errstr(tls, rc))))
	}
}

func mutexAlloc(_ *libc.TLS, kind int32) uintptr {
	switch {
	case kind == sqlite3.SQLITE_MUTEX_RECURSIVE:
		return noMutex
	case kind >= staticFirst && kind <= staticLast:
		return uintptr(kind)
	case kind != sqlite3.SQLITE_MUTEX_FAST:
		return 0
	}
	f := &fastMutexes
	f.Lock()
	defer f.Unlock()
	if n := len(f.free); n > 0 {
		h := f.free[n-1]
		f.free = f.free[:n-1]
		f.locks[h-fastFirst] = new(sync.Mutex)
		return h
	}
	f.locks = append(f.locks, new(sync.Mutex))
	return fastFirst + uintptr(len(f.locks)-1)
}

func mutexFree(_ *libc.TLS, h uintptr) {
	if h < fastFirst {
		return
	}
	f := &fastMutexes
	f.Lock()
	defer f.Unlock()
	f.locks[h-fastFirst] = nil
	f.free = append(f.free, h)
}

// lockOf is the lock behind a handle, nil for none.
func lockOf(h uintptr) *sync.Mutex {
	switch {
	case h <= noMutex:
		return nil
	case h <= staticLast:
		return &staticMutexes[h-staticFirst]
	}
	f := &fastMutexes
	f.RLock()
	defer f.RUnlock()
	return f.locks[h-fastFirst]
}

func mutexEnter(_ *libc.TLS, h uintptr) {
	if m := lockOf(h); m != nil {
		m.Lock()
	}
}

func mutexTry(_ *libc.TLS, h uintptr) int32 {
	if m := lockOf(h); m != nil && !m.TryLock() {
		return sqlite3.SQLITE_BUSY
	}
	return sqlite3.SQLITE_OK
}

func mutexLeave(_ *libc.TLS, h uintptr) {
	if m := lockOf(h); m != nil {
		m.Unlock()
	}
}
