package messages

import (
	"context"
	"database/sql"
	"time"

	"github.com/optline/optline/models"
)

// sqliteApplyStatus is pgApplyStatuses for one message: the same rule, one
// merged update per execution of the prepared statement.
const sqliteApplyStatus = `
UPDATE messages SET
	state = CASE WHEN :rank > state_rank THEN :state ELSE state END,
	state_rank = MAX(state_rank, :rank),
	wamid = COALESCE(wamid, NULLIF(:wamid, '')),
	sent_at = COALESCE(sent_at, :sent_at),
	delivered_at = COALESCE(delivered_at, :delivered_at),
	read_at = COALESCE(read_at, :read_at),
	error_code = CASE WHEN failed_at IS NULL AND :failed_at IS NOT NULL THEN :err_code ELSE error_code END,
	error_title = CASE WHEN failed_at IS NULL AND :failed_at IS NOT NULL THEN :err_title ELSE error_title END,
	error_detail = CASE WHEN failed_at IS NULL AND :failed_at IS NOT NULL THEN :err_detail ELSE error_detail END,
	error_explanation = CASE WHEN failed_at IS NULL AND :failed_at IS NOT NULL THEN :err_expl ELSE error_explanation END,
	failed_at = COALESCE(failed_at, :failed_at),
	pricing_model = CASE WHEN :p_cat <> '' THEN :p_model ELSE pricing_model END,
	pricing_category = CASE WHEN :p_cat <> '' THEN :p_cat ELSE pricing_category END,
	pricing_type = CASE WHEN :p_cat <> '' THEN :p_type ELSE pricing_type END,
	user_id = CASE WHEN :user_id <> '' THEN :user_id ELSE user_id END,
	updated_at = :now
WHERE business_id = :biz
  AND ((:wamid <> '' AND wamid = :wamid)
    OR (:mid > 0 AND id = :mid AND (wamid IS NULL OR :wamid = '' OR wamid = :wamid)))`

func sqlTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return *t
}

func applySQLite(ctx context.Context, tn models.Tenant, ups []*update, now time.Time) ([]bool, error) {
	matched := make([]bool, len(ups))
	tx, err := tn.DB().SQL.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, sqliteApplyStatus)
	if err != nil {
		return nil, err
	}
	defer stmt.Close()
	for i, u := range ups {
		var code any
		if u.errCode != nil {
			code = int64(*u.errCode)
		}
		res, err := stmt.ExecContext(ctx, sql.Named("rank", u.rank), sql.Named("state", u.state), sql.Named("wamid", u.wamid),
			sql.Named("sent_at", sqlTime(u.sent)), sql.Named("delivered_at", sqlTime(u.delivered)), sql.Named("read_at", sqlTime(u.read)),
			sql.Named("failed_at", sqlTime(u.failed)), sql.Named("err_code", code), sql.Named("err_title", u.errTitle),
			sql.Named("err_detail", u.errDetail), sql.Named("err_expl", u.errExpl), sql.Named("p_model", u.pModel),
			sql.Named("p_cat", u.pCategory), sql.Named("p_type", u.pType), sql.Named("user_id", u.userID),
			sql.Named("now", now), sql.Named("biz", tn.BusinessID()), sql.Named("mid", u.mid))
		if err != nil {
			return nil, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return nil, err
		}
		matched[i] = n > 0
	}
	return matched, tx.Commit()
}
