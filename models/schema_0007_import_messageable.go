package models

// Schema 7: an import remembers how many of the contacts it wrote can be
// messaged (opted in), counted once when it finishes, so its result says
// so without walking the book on every view. Imports finished before this
// version show no such figure (NULL).
const schema0007 = `
ALTER TABLE imports ADD COLUMN messageable {{bigint}};
`
