package webhook

import (
	"testing"
)

// FuzzWebhookPayload: no body, however malformed, makes the parser panic;
// whatever parses decodes its changes without panicking either.
func FuzzWebhookPayload(f *testing.F) {
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"123"},"statuses":[{"id":"wamid.x","status":"delivered","timestamp":"1700000000","pricing":{"pricing_model":"PMP","category":"marketing","type":"regular"}}]}}]}]}`))
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":[{"from":"4915","id":"w","type":"button","button":{"payload":"STOP_PROMOTIONS","text":"Stop promotions"}}]}}]}]}`))
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"message_template_status_update","value":{"event":"REJECTED","message_template_id":12,"reason":"INVALID_FORMAT","disable_info":{"x":1}}}]}]}`))
	f.Add([]byte(`{"object":1}`))
	f.Add([]byte(`[]`))
	f.Add([]byte("\xff\x00"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, err := Parse(raw)
		if err != nil {
			return
		}
		for _, en := range p.Entry {
			for _, ch := range en.Changes {
				if v, err := ch.Messages(); err == nil {
					for _, s := range v.Statuses {
						_ = toStatus(s, Time(s.Timestamp, Time("", zeroTime)))
					}
					for _, m := range v.Messages {
						_, _ = m.Says(), m.IsOptOut()
					}
				}
				_, _ = ch.Template()
			}
		}
	})
}
