package imports

import (
	"context"
	"time"

	"github.com/optline/optline/models"
)

// AbandonedUploadAge is how long an upload may wait for its mapping to be
// confirmed before the clean-up job removes it with its file.
const AbandonedUploadAge = 24 * time.Hour

// AbandonedUploads lists, across businesses, imports still waiting for
// their mapping that nobody touched since before. Only the clean-up job
// uses it; it then acts through each import's own business scope.
func AbandonedUploads(ctx context.Context, db *models.DB, before time.Time, limit int) ([]Import, error) {
	var out []Import
	err := db.WithContext(ctx).Select("id, business_id, file_key, file_name, status").
		Where("status IN ? AND updated_at < ?", []string{ImportUploaded, ImportMapping}, before).
		Order("id").Limit(limit).Find(&out).Error
	return out, models.Wrap("imports.AbandonedUploads", err)
}

// StalledImportAge is how long a queued or running import may go without
// progress before the clean-up job makes sure it has a job.
const StalledImportAge = 10 * time.Minute

// Stuck lists, across businesses, queued or running imports whose
// last progress is older than before: their job was lost (a crash between
// confirming and queuing) or gave up. Only the clean-up job uses it.
func Stuck(ctx context.Context, db *models.DB, before time.Time, limit int) ([]Import, error) {
	var out []Import
	err := db.WithContext(ctx).Select("id, business_id, status").
		Where("status IN ? AND updated_at < ?", []string{ImportQueued, ImportRunning}, before).
		Order("id").Limit(limit).Find(&out).Error
	return out, models.Wrap("imports.Stuck", err)
}
