package campaigns

// epochPG is a time column as seconds since 1970 on PostgreSQL.
func epochPG(col string) string { return "CAST(FLOOR(EXTRACT(EPOCH FROM " + col + ")) AS BIGINT)" }
