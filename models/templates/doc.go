// Package templates is a business's message templates: the platform's
// rules for name, header, body, footer and buttons, the one parser and
// renderer of template text with {{n}} variables (used by the editor's
// preview and by campaigns), the review states a template goes through
// on the platform, and the platform's review, quality and category
// events applied to them (Events implements channel.TemplateEvents).
//
// Functions take the tenant first (templates.Get(ctx, tn, id));
// whole-platform reads for administrators and the webhook's events take
// the *models.DB.
package templates
