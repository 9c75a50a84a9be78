package main

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the driver FerretDB's SQLite backend uses, registered as "sqlite"
)

// FerretDB v1.24.2's SQLite backend creates each collection's _id index on
// _ferretdb_sjson->"_id", but looks documents up WHERE _ferretdb_sjson->'$._id' = ?, an
// expression SQLite does not match to that index: every lookup by _id scanned the whole table,
// parsing each document's JSON (237 ms for one product version among 630 of 63 KB, 0.09 ms with
// an index on the expression; the cost grew with every document stored). indexIDs gives every
// collection's table an index on the expression the lookups use: at start, then as databases and
// collections appear, until ctx ends.
func indexIDs(ctx context.Context, dir string, every time.Duration, logger *slog.Logger) {
	dbs := map[string]*sql.DB{}
	done := map[string]bool{} // "<file> <table>" indexed
	defer func() {
		for _, db := range dbs {
			db.Close()
		}
	}()
	for {
		files, _ := filepath.Glob(filepath.Join(dir, "*.sqlite"))
		for _, f := range files {
			db, ok := dbs[f]
			if !ok {
				var err error
				if db, err = sql.Open("sqlite", "file:"+f+"?mode=rw&_pragma=busy_timeout(10000)&_pragma=journal_mode(wal)"); err != nil {
					continue
				}
				db.SetMaxOpenConns(1)
				dbs[f] = db
			}
			if err := indexTables(ctx, db, f, done); err != nil {
				if _, statErr := os.Stat(f); statErr != nil { // the database was dropped
					db.Close()
					delete(dbs, f)
					continue
				}
				if ctx.Err() == nil && !strings.Contains(err.Error(), "no such table") {
					logger.Warn("index _id lookups", "database", filepath.Base(f), "error", err)
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}

// indexTables creates the missing lookup indexes of one database file.
func indexTables(ctx context.Context, db *sql.DB, file string, done map[string]bool) error {
	rows, err := db.QueryContext(ctx, `SELECT table_name FROM _ferretdb_collections`)
	if err != nil {
		return err
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return err
		}
		if !done[file+" "+t] {
			tables = append(tables, t)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, t := range tables {
		q := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %q ON %q (_ferretdb_sjson->'$._id')`, t+"__id_lookup", t)
		if _, err := db.ExecContext(ctx, q); err != nil {
			if strings.Contains(err.Error(), "no such table") {
				continue // dropped since it was listed
			}
			return err
		}
		done[file+" "+t] = true
	}
	return nil
}
