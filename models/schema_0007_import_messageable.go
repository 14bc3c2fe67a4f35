package models

// Schema 7: an import remembers how many of the contacts it wrote can be
// messaged (opted in), counted once when it finishes, so its result says
// so without walking the book on every view. Imports finished before this
// version show no such figure (NULL).
func init() {
	register(migration{Version: 7, Name: "imports: messageable contacts of a finished import", SQL: `
ALTER TABLE imports ADD COLUMN messageable {{bigint}};
`})
}
