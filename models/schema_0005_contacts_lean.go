package models

// Schema 5: a leaner contact book for fast imports.
//
// Every index of contacts is written for every imported row, and the two
// dropped here were random-order b-trees that cost about a fifth of a
// 1,000,000-row import (measured with cmd/importbench):
//
//   - contacts_national_idx (PostgreSQL) found numbers typed as national
//     numbers. Such a search is now a range of contacts_phone_key for each
//     calling code the book holds (numberCondition), found with one probe
//     of the same index per code.
//   - contacts_name_idx and its column name_key sorted the list by name.
//     Sorting a book of a million people by name is rarely what anyone
//     needs (search finds a person, filters find a group); the list keeps
//     its orders by date added.
const schema0005 = `
DROP INDEX IF EXISTS contacts_national_idx;
DROP INDEX IF EXISTS contacts_name_idx;
ALTER TABLE contacts DROP COLUMN name_key;
`
