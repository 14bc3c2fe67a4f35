package messages

import (
	"context"
	"time"

	"github.com/optline/optline/models"
)

// pgApplyStatuses applies a batch of merged status updates to one
// business's messages: the input arrives as arrays, unnested into rows v,
// each matched to its message by wamid or by our id (the latter only while
// the message has no other wamid). RETURNING says which inputs matched.
// The state moves only to a higher rank; time stamps and the first
// failure's error are set once; pricing and user id take the newest
// non-empty value.
const pgApplyStatuses = `
UPDATE messages m SET
	state = CASE WHEN v.rank > m.state_rank THEN v.state ELSE m.state END,
	state_rank = GREATEST(m.state_rank, v.rank),
	wamid = COALESCE(m.wamid, NULLIF(v.wamid, '')),
	sent_at = COALESCE(m.sent_at, v.sent_at),
	delivered_at = COALESCE(m.delivered_at, v.delivered_at),
	read_at = COALESCE(m.read_at, v.read_at),
	error_code = CASE WHEN m.failed_at IS NULL AND v.failed_at IS NOT NULL THEN v.err_code ELSE m.error_code END,
	error_title = CASE WHEN m.failed_at IS NULL AND v.failed_at IS NOT NULL THEN v.err_title ELSE m.error_title END,
	error_detail = CASE WHEN m.failed_at IS NULL AND v.failed_at IS NOT NULL THEN v.err_detail ELSE m.error_detail END,
	error_explanation = CASE WHEN m.failed_at IS NULL AND v.failed_at IS NOT NULL THEN v.err_expl ELSE m.error_explanation END,
	failed_at = COALESCE(m.failed_at, v.failed_at),
	pricing_model = CASE WHEN v.p_cat <> '' THEN v.p_model ELSE m.pricing_model END,
	pricing_category = CASE WHEN v.p_cat <> '' THEN v.p_cat ELSE m.pricing_category END,
	pricing_type = CASE WHEN v.p_cat <> '' THEN v.p_type ELSE m.pricing_type END,
	user_id = CASE WHEN v.user_id <> '' THEN v.user_id ELSE m.user_id END,
	updated_at = $2
FROM unnest($3::int[], $4::bigint[], $5::text[], $6::text[], $7::int[], $8::timestamptz[], $9::timestamptz[],
	$10::timestamptz[], $11::timestamptz[], $12::int[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[],
	$18::text[], $19::text[])
	AS v(i, mid, wamid, state, rank, sent_at, delivered_at, read_at, failed_at, err_code, err_title, err_detail, err_expl,
	     p_model, p_cat, p_type, user_id)
WHERE m.business_id = $1
  AND ((v.wamid <> '' AND m.wamid = v.wamid)
    OR (v.mid > 0 AND m.id = v.mid AND (m.wamid IS NULL OR v.wamid = '' OR m.wamid = v.wamid)))
RETURNING v.i`

func applyPG(ctx context.Context, tn models.Tenant, ups []*update, now time.Time) ([]bool, error) {
	n := len(ups)
	var (
		idx                           = make([]int32, n)
		mid                           = make([]int64, n)
		wamid, state                  = make([]string, n), make([]string, n)
		rank                          = make([]int32, n)
		sent, delivered, read, failed = make([]*time.Time, n), make([]*time.Time, n), make([]*time.Time, n), make([]*time.Time, n)
		errCode                       = make([]*int32, n)
		errTitle, errDetail, errExpl  = make([]string, n), make([]string, n), make([]string, n)
		pModel, pCat, pType, userID   = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	)
	for i, u := range ups {
		idx[i], mid[i], wamid[i], state[i], rank[i] = int32(i), u.mid, u.wamid, u.state, int32(u.rank)
		sent[i], delivered[i], read[i], failed[i] = u.sent, u.delivered, u.read, u.failed
		errCode[i], errTitle[i], errDetail[i], errExpl[i] = u.errCode, u.errTitle, u.errDetail, u.errExpl
		pModel[i], pCat[i], pType[i], userID[i] = u.pModel, u.pCategory, u.pType, u.userID
	}
	rows, err := tn.DB().Pool.Query(ctx, pgApplyStatuses, tn.BusinessID(), now, idx, mid, wamid, state, rank,
		sent, delivered, read, failed, errCode, errTitle, errDetail, errExpl, pModel, pCat, pType, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	matched := make([]bool, n)
	for rows.Next() {
		var i int32
		if err := rows.Scan(&i); err != nil {
			return nil, err
		}
		matched[i] = true
	}
	return matched, rows.Err()
}
