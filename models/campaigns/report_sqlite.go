package campaigns

// epochSQLite is a time column as seconds since 1970 on SQLite (times are
// stored as text in SQLite's own format, with their offset).
func epochSQLite(col string) string { return "CAST(strftime('%s', " + col + ") AS INTEGER)" }
