package billing

import "time"

// PricingChange is when the platform's rules changed (PRODUCT.md
// "Pricing"): from then on utility templates are charged inside an open
// customer-service window too, and service replies are free only for the
// first FreeServicePerMonth per sender number and month, then charged at
// the utility rate. A message is judged by the rule in force when it was
// delivered.
var PricingChange = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)

// FreeServicePerMonth is how many service replies per sender number and
// month are free from PricingChange on.
const FreeServicePerMonth = 1000

// The platform's pricing.type values on status webhooks.
const (
	TypeRegular             = "regular"
	TypeFreeCustomerService = "free_customer_service"
	TypeFreeEntryPoint      = "free_entry_point"
)

// Facts are what the rule needs to know of one delivered message.
type Facts struct {
	Category    string    // Marketing, Utility, Authentication or Service
	DeliveredAt time.Time // delivered, or read without a delivered
	// InWindow: a customer-service window with the recipient was open.
	InWindow bool
	// ServiceBefore: service replies of the same sender number already
	// delivered this calendar month (for the free first thousand).
	ServiceBefore int
	// PlatformType is the webhook's pricing.type, "" when it sent none.
	PlatformType string
}

// Decision is the rule's verdict on one message.
type Decision struct {
	Billable bool
	// PriceCategory is the card category to price it by. (The platform
	// charges service replies beyond the free ones at its utility rate;
	// the card's service price is ours, the example card sets it equal.)
	PriceCategory string
	// Rule names the rule that decided, for the usage record.
	Rule string
	// Ours is what our dated rule said, before the platform's word; when
	// it differs from Billable the platform disagreed (shown to
	// administrators).
	Ours bool
	// Disagrees is set when the platform's pricing.type contradicted
	// our rule; the platform's word won.
	Disagrees bool
}

// Judge applies the dated rule, then lets the platform's pricing.type win
// where it disagrees.
func Judge(f Facts) Decision {
	after := !f.DeliveredAt.Before(PricingChange)
	d := Decision{PriceCategory: f.Category}
	switch f.Category {
	case Marketing, Authentication:
		d.Billable, d.Rule = true, "always charged"
	case Utility:
		switch {
		case !f.InWindow:
			d.Billable, d.Rule = true, "utility outside a customer-service window"
		case after:
			d.Billable, d.Rule = true, "utility inside the window, charged since 1 October 2026"
		default:
			d.Billable, d.Rule = false, "utility inside the window, free before 1 October 2026"
		}
	case Service:
		switch {
		case !after:
			d.Billable, d.Rule = false, "service replies free before 1 October 2026"
		case f.ServiceBefore < FreeServicePerMonth:
			d.Billable, d.Rule = false, "one of the first 1,000 service replies of the month"
		default:
			d.Billable, d.Rule = true, "service reply beyond the free 1,000 of the month"
		}
	default:
		d.Billable, d.Rule = true, "unknown category: charged as marketing"
		d.PriceCategory = Marketing
	}
	d.Ours = d.Billable
	switch f.PlatformType {
	case TypeRegular:
		if !d.Billable {
			d.Billable, d.Disagrees = true, true
			d.Rule += "; the platform charged it (regular)"
		}
	case TypeFreeCustomerService, TypeFreeEntryPoint:
		if d.Billable {
			d.Billable, d.Disagrees = false, true
			d.Rule += "; the platform did not charge it (" + f.PlatformType + ")"
		}
	}
	return d
}
