// Package importer reads contact lists (CSV and other delimited text, as
// exported by Excel, Numbers, Google Sheets or a shop system) into
// normalised contacts. It is pure Go and knows no database: the import job
// streams a file through Run and writes each Batch it receives.
//
// The steps, usable one by one by the upload and mapping screens:
//
//   - Sniff guesses the encoding (UTF-8 with or without BOM, Windows-1252,
//     UTF-16) and the delimiter (comma, semicolon, tab, pipe) from the first
//     64 KiB. The user may override either (Format).
//   - NewReader refuses files that are empty, only a header, not text (an
//     image, PDF, Excel workbook, ...) or have a broken header, each with a
//     plain-English *Error and a stable Code; Reader.Read streams the rows
//     and reports problems confined to one row (invalid UTF-8, too many
//     columns, a cell too long, a misplaced quote) without stopping.
//   - DetectMapping proposes which column holds which field from English or
//     German headers; Mapping is plain JSON the user can edit, checked by
//     Mapping.Validate.
//   - MapRow cleans and validates one row into a Contact: phone numbers to
//     E.164 (NormalizePhone), names, e-mail, tags, opt-in date and source,
//     language and custom attributes, or a RowError that says what is wrong.
//   - Run puts it together on all cores, in constant memory, delivering
//     batches in file order and resuming after Config.SkipRows rows.
//   - SafeCell and WriteErrorReport write rejected rows back as a CSV that is
//     safe to open in a spreadsheet and can be corrected and uploaded again.
//
// Row numbers are the ones a spreadsheet shows: the header is row 1, the
// first data row is row 2, a quoted value with line breaks stays on one row
// and blank lines count.
//
// Generate writes realistic test files of any size.
package importer
