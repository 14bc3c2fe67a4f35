package invoicing

import (
	"context"
	"errors"
	"time"
)

func (e *Engine) RunMonth(ctx context.Context, month time.Time) (int, error) {
	return 0, errors.New("pending")
}
