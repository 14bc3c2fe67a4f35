package models

import "context"

// BlobKeysInUse returns which of keys a row still names: a business's
// profile photo, a verification document, or an import's uploaded file.
// The file sweep deletes the others (jobs.CleanupWorker).
func (db *DB) BlobKeysInUse(ctx context.Context, keys []string) (map[string]bool, error) {
	used := make(map[string]bool, len(keys))
	for start := 0; start < len(keys); start += 500 {
		part := keys[start:min(start+500, len(keys))]
		var found []string
		err := db.WithContext(ctx).Raw(`SELECT photo_key FROM business_profiles WHERE photo_key IN ?
			UNION SELECT blob_key FROM verification_documents WHERE blob_key IN ?
			UNION SELECT file_key FROM imports WHERE file_key IN ?`, part, part, part).Scan(&found).Error
		if err != nil {
			return nil, Wrap("DB.BlobKeysInUse", err)
		}
		for _, k := range found {
			used[k] = true
		}
	}
	return used, nil
}
