package profiles_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/dbtest"
	"github.com/optline/optline/models/profiles"
)

// fixture is one business with its owner on a fresh database with a
// test clock.
type fixture struct {
	db    *models.DB
	clock *dbtest.Clock
	owner *models.User
	biz   *models.Business
	tn    models.Tenant
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db := dbtest.Open(t)
	clock := dbtest.NewClock()
	db.Now = clock.Now
	f := &fixture{db: db, clock: clock}
	f.owner, f.biz, f.tn = f.business(t, "Bäckerei Kraus", "anna@kraus.example")
	return f
}

func (f *fixture) business(t *testing.T, name, email string) (*models.User, *models.Business, models.Tenant) {
	t.Helper()
	u, b, err := f.db.SignUp(context.Background(), models.SignUpInput{BusinessName: name,
		NewUserInput: models.NewUserInput{Name: "Owner", Email: email, Password: "correct horse battery"}})
	if err != nil {
		t.Fatalf("sign up: %v", err)
	}
	tn, err := f.db.Tenant(b.ID)
	if err != nil {
		t.Fatal(err)
	}
	return u, b, tn
}

func (f *fixture) admin(t *testing.T, email string) *models.User {
	t.Helper()
	u, err := f.db.CreateAdmin(context.Background(), models.NewUserInput{Name: "Admin", Email: email, Password: "correct horse battery"})
	if errors.Is(err, models.ErrConflict) {
		// Only one administrator may be created through set-up; further
		// ones are promoted directly for the test.
		u, _, _ = f.business(t, "Spare "+email, email)
		err = f.db.Gorm.Exec(`UPDATE users SET is_admin = ? WHERE id = ?`, true, u.ID).Error
		if err == nil {
			err = f.db.Gorm.Exec(`DELETE FROM memberships WHERE user_id = ?`, u.ID).Error
		}
		u.IsAdmin = true
	}
	if err != nil {
		t.Fatalf("admin: %v", err)
	}
	return u
}

func validProfile() profiles.ProfileInput {
	return profiles.ProfileInput{DisplayName: "Bäckerei Kraus", About: "Fresh bread every morning.", Description: "Family bakery since 1962.",
		Vertical: "RESTAURANT", Address: "Hauptstraße 1\n10115 Berlin", Email: "hello@kraus.example",
		Website1: "https://kraus.example", Phone: "+49 30 901820"}
}

func validLegal() profiles.LegalInput {
	return profiles.LegalInput{LegalName: "Kraus Backwaren GmbH", RegisteredAddress: "Hauptstraße 1\n10115 Berlin", Country: "DE",
		VATID: "DE 123 456 789", BillingEmail: "billing@kraus.example", TimeZone: "Europe/Berlin", Currency: "EUR"}
}

// problem returns the catalogue key reported for field, "" when none.
func problem(err error, field string) string {
	v, ok := models.AsValidation(err)
	if !ok {
		return ""
	}
	for _, p := range v.Problems {
		if p.Field == field {
			return p.Key
		}
	}
	return ""
}

func TestProfileDefaults(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p, err := profiles.Get(context.Background(), f.tn)
	if err != nil {
		t.Fatal(err)
	}
	if p.ID != 0 || p.Vertical != "UNDEFINED" || p.TimeZone != "UTC" || p.Currency != "EUR" || p.StaffCanEdit {
		t.Errorf("defaults = %+v", p)
	}
}

func TestProfileFieldRules(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	long := func(n int) string { return strings.Repeat("ä", n) }
	email := func(n int) string { return strings.Repeat("a", n-len("@example.com")) + "@example.com" }
	cases := []struct {
		name  string
		edit  func(*profiles.ProfileInput)
		field string
		key   string // "" means accepted
	}{
		{"about empty", func(in *profiles.ProfileInput) { in.About = "  " }, "about", "profile.about.required"},
		{"about 139", func(in *profiles.ProfileInput) { in.About = long(139) }, "about", ""},
		{"about 140", func(in *profiles.ProfileInput) { in.About = long(140) }, "about", "profile.about.too_long"},
		{"address 256", func(in *profiles.ProfileInput) { in.Address = long(256) }, "address", ""},
		{"address 257", func(in *profiles.ProfileInput) { in.Address = long(257) }, "address", "profile.address.too_long"},
		{"description 512", func(in *profiles.ProfileInput) { in.Description = long(512) }, "description", ""},
		{"description 513", func(in *profiles.ProfileInput) { in.Description = long(513) }, "description", "profile.description.too_long"},
		{"description 100k", func(in *profiles.ProfileInput) { in.Description = long(100000) }, "description", "profile.description.too_long"},
		{"description NUL", func(in *profiles.ProfileInput) { in.Description = "a\x00b" }, "description", "field.control_chars"},
		{"description newline ok", func(in *profiles.ProfileInput) { in.Description = "line one\r\nline two" }, "description", ""},
		{"about invalid utf8", func(in *profiles.ProfileInput) { in.About = "a\xffb" }, "about", "field.invalid_text"},
		{"email 128", func(in *profiles.ProfileInput) { in.Email = email(128) }, "email", ""},
		{"email 129", func(in *profiles.ProfileInput) { in.Email = email(129) }, "email", "profile.email.too_long"},
		{"email invalid", func(in *profiles.ProfileInput) { in.Email = "hello@" }, "email", "email.invalid"},
		{"website javascript", func(in *profiles.ProfileInput) { in.Website1 = "javascript:alert(1)" }, "website1", "profile.website.scheme"},
		{"website ftp", func(in *profiles.ProfileInput) { in.Website1 = "ftp://kraus.example" }, "website1", "profile.website.scheme"},
		{"website no scheme", func(in *profiles.ProfileInput) { in.Website1 = "kraus.example" }, "website1", "profile.website.scheme"},
		{"website no host", func(in *profiles.ProfileInput) { in.Website1 = "https://" }, "website1", "profile.website.invalid"},
		{"website localhost", func(in *profiles.ProfileInput) { in.Website1 = "http://localhost/x" }, "website1", "profile.website.invalid"},
		{"website credentials", func(in *profiles.ProfileInput) { in.Website1 = "https://bank.example@evil.example/" }, "website1", "profile.website.credentials"},
		{"website 256", func(in *profiles.ProfileInput) { in.Website1 = "https://kraus.example/" + strings.Repeat("a", 256-22) }, "website1", ""},
		{"website 257", func(in *profiles.ProfileInput) { in.Website1 = "https://kraus.example/" + strings.Repeat("a", 257-22) }, "website1", "profile.website.too_long"},
		{"website2 javascript", func(in *profiles.ProfileInput) { in.Website2 = "JavaScript:alert(1)" }, "website2", "profile.website.scheme"},
		{"website2 duplicate", func(in *profiles.ProfileInput) { in.Website2 = "https://KRAUS.example" }, "website2", "profile.website.duplicate"},
		{"vertical unknown", func(in *profiles.ProfileInput) { in.Vertical = "CASINO" }, "vertical", "profile.vertical.invalid"},
		{"phone invalid", func(in *profiles.ProfileInput) { in.Phone = "+49 12" }, "phone", "profile.phone.invalid"},
		{"phone letters", func(in *profiles.ProfileInput) { in.Phone = "+49 30 CALLME" }, "phone", "profile.phone.invalid"},
		{"phone national without country", func(in *profiles.ProfileInput) { in.Phone = "030 901820" }, "phone", "profile.phone.need_country"},
		{"display empty", func(in *profiles.ProfileInput) { in.DisplayName = "" }, "display_name", "profile.display_name.required"},
		{"display short", func(in *profiles.ProfileInput) { in.DisplayName = "Kr" }, "display_name", "profile.display_name.length"},
		{"display 64", func(in *profiles.ProfileInput) { in.DisplayName = "Kraus " + long(58) }, "display_name", ""},
		{"display 65", func(in *profiles.ProfileInput) { in.DisplayName = "Kraus " + long(59) }, "display_name", "profile.display_name.length"},
		{"display 2MB", func(in *profiles.ProfileInput) { in.DisplayName = strings.Repeat("x", 2<<20) }, "display_name", "profile.display_name.length"},
		{"display generic", func(in *profiles.ProfileInput) { in.DisplayName = "Shop" }, "display_name", "profile.display_name.generic"},
		{"display generic pair", func(in *profiles.ProfileInput) { in.DisplayName = "Pizza Delivery" }, "display_name", "profile.display_name.generic"},
		{"display official", func(in *profiles.ProfileInput) { in.DisplayName = "Kraus Official" }, "display_name", "profile.display_name.claim"},
		{"display verified", func(in *profiles.ProfileInput) { in.DisplayName = "VERIFIED Kraus" }, "display_name", "profile.display_name.claim"},
		{"display url", func(in *profiles.ProfileInput) { in.DisplayName = "kraus.de" }, "display_name", "profile.display_name.url"},
		{"display www", func(in *profiles.ProfileInput) { in.DisplayName = "www.kraus" }, "display_name", "profile.display_name.url"},
		{"display http", func(in *profiles.ProfileInput) { in.DisplayName = "Kraus https://x" }, "display_name", "profile.display_name.url"},
		{"display RLO", func(in *profiles.ProfileInput) { in.DisplayName = "Kraus \u202egnp.exe" }, "display_name", "field.control_chars"},
		{"display NUL", func(in *profiles.ProfileInput) { in.DisplayName = "Kraus\x00" }, "display_name", "field.control_chars"},
		{"display with abbreviation", func(in *profiles.ProfileInput) { in.DisplayName = "Müller & Co. St.Pauli" }, "display_name", ""},
		{"display script", func(in *profiles.ProfileInput) { in.DisplayName = "<script>alert(1)</script>" }, "display_name", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := validProfile()
			c.edit(&in)
			_, err := profiles.Save(ctx, f.tn, f.owner, models.RoleOwner, in, "")
			if got := problem(err, c.field); got != c.key {
				t.Errorf("%s: problem = %q, want %q (err %v)", c.field, got, c.key, err)
			}
			if c.key == "" && err != nil {
				t.Errorf("rejected: %v", err)
			}
		})
	}
}

func TestProfileReportsAllProblemsAtOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	in := profiles.ProfileInput{DisplayName: "Shop", About: "", Email: "x", Website1: "javascript:alert(1)", Vertical: "NOPE", Phone: "12"}
	_, err := profiles.Save(context.Background(), f.tn, f.owner, models.RoleOwner, in, "")
	v, ok := models.AsValidation(err)
	if !ok {
		t.Fatalf("err = %v", err)
	}
	for _, field := range []string{"display_name", "about", "email", "website1", "vertical", "phone"} {
		if !v.Has(field) {
			t.Errorf("no problem for %s: %v", field, err)
		}
	}
}

func TestSaveProfileStoresNormalisedValuesAndAudits(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	in := validProfile()
	in.DisplayName = "  Kraus   Backstube "
	in.Website1, in.Website2 = "", "https://kraus.example/shop"
	in.Email = "Hello@Kraus.example"
	res, err := profiles.Save(ctx, f.tn, f.owner, models.RoleOwner, in, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if res.Reverify || len(res.Changed) == 0 || res.Changed[0] != "display_name" {
		t.Errorf("result = %+v", res)
	}
	p, _ := profiles.Get(ctx, f.tn)
	b, _ := f.tn.Business(ctx)
	if b.Name != "Kraus Backstube" || p.PhoneE164 != "+4930901820" || p.Website1 != "https://kraus.example/shop" || p.Website2 != "" || p.Email != "hello@kraus.example" {
		t.Errorf("stored name %q, profile %+v", b.Name, p)
	}
	ev, _ := f.db.AuditLog(ctx, models.AuditFilter{BusinessID: f.biz.ID, Action: "profile.updated"})
	if len(ev) != 1 || !strings.Contains(ev[0].Detail, "display_name") || !strings.Contains(ev[0].Detail, "previous: name Bäckerei Kraus") || ev[0].IP != "192.0.2.1" {
		t.Errorf("audit = %+v", ev)
	}
	// Saving the same values again changes nothing and logs nothing.
	if res, err := profiles.Save(ctx, f.tn, f.owner, models.RoleOwner, in, ""); err != nil || len(res.Changed) != 0 {
		t.Errorf("second save = %+v, %v", res, err)
	}
	if ev, _ := f.db.AuditLog(ctx, models.AuditFilter{BusinessID: f.biz.ID, Action: "profile.updated"}); len(ev) != 1 {
		t.Errorf("audit entries after no-op save = %d", len(ev))
	}
}

func TestPhoneUsesBusinessCountry(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	if _, err := profiles.SaveLegal(ctx, f.tn, f.owner, validLegal(), ""); err != nil {
		t.Fatal(err)
	}
	in := validProfile()
	in.Phone = "030 901820"
	if _, err := profiles.Save(ctx, f.tn, f.owner, models.RoleOwner, in, ""); err != nil {
		t.Fatal(err)
	}
	p, _ := profiles.Get(ctx, f.tn)
	if p.PhoneE164 != "+4930901820" {
		t.Errorf("phone = %q", p.PhoneE164)
	}
	if got := profiles.FormatPhone(p.PhoneE164); got != "+49 30 901820" {
		t.Errorf("FormatPhone = %q", got)
	}
}

func TestStaffEditsOnlyWhenAllowed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	if _, err := profiles.Save(ctx, f.tn, f.owner, models.RoleStaff, validProfile(), ""); !errors.Is(err, models.ErrForbidden) {
		t.Fatalf("staff save = %v, want ErrForbidden", err)
	}
	if _, err := profiles.SetPhoto(ctx, f.tn, f.owner, models.RoleStaff, "photos/1/x.png", profiles.PhotoInfo{ContentType: "image/png", Px: 200}, ""); !errors.Is(err, models.ErrForbidden) {
		t.Fatalf("staff photo = %v, want ErrForbidden", err)
	}
	if err := profiles.SetStaffCanEdit(ctx, f.tn, f.owner, true, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := profiles.Save(ctx, f.tn, f.owner, models.RoleStaff, validProfile(), ""); err != nil {
		t.Fatalf("allowed staff save = %v", err)
	}
	ev, _ := f.db.AuditLog(ctx, models.AuditFilter{BusinessID: f.biz.ID, Action: "profile.staff"})
	if len(ev) != 1 || ev[0].Detail != "staff may edit the profile" {
		t.Errorf("audit = %+v", ev)
	}
}

func TestLegalRules(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	cases := []struct {
		name       string
		edit       func(*profiles.LegalInput)
		field, key string
		vat        string
	}{
		{"DE ok with spaces", func(in *profiles.LegalInput) {}, "vat_id", "", "DE123456789"},
		{"DE too short", func(in *profiles.LegalInput) { in.VATID = "DE12345678" }, "vat_id", "vat.invalid.DE", ""},
		{"DE letters", func(in *profiles.LegalInput) { in.VATID = "DE12345678X" }, "vat_id", "vat.invalid.DE", ""},
		{"DE with AT id", func(in *profiles.LegalInput) { in.VATID = "ATU12345678" }, "vat_id", "vat.wrong_country", ""},
		{"AT ok", func(in *profiles.LegalInput) { in.Country, in.VATID = "AT", "atu12345678" }, "vat_id", "", "ATU12345678"},
		{"AT without U", func(in *profiles.LegalInput) { in.Country, in.VATID = "AT", "AT12345678" }, "vat_id", "vat.invalid.AT", ""},
		{"FR ok", func(in *profiles.LegalInput) { in.Country, in.VATID = "FR", "FR 40 303265045" }, "vat_id", "", "FR40303265045"},
		{"NL ok", func(in *profiles.LegalInput) { in.Country, in.VATID = "NL", "NL123456789B01" }, "vat_id", "", "NL123456789B01"},
		{"NL no B", func(in *profiles.LegalInput) { in.Country, in.VATID = "NL", "NL12345678901" }, "vat_id", "vat.invalid.NL", ""},
		{"IT ok", func(in *profiles.LegalInput) { in.Country, in.VATID = "IT", "IT12345678901" }, "vat_id", "", "IT12345678901"},
		{"ES ok", func(in *profiles.LegalInput) { in.Country, in.VATID = "ES", "ESX1234567X" }, "vat_id", "", "ESX1234567X"},
		{"BE ok", func(in *profiles.LegalInput) { in.Country, in.VATID = "BE", "BE0123.456.789" }, "vat_id", "", "BE0123456789"},
		{"BE starts 2", func(in *profiles.LegalInput) { in.Country, in.VATID = "BE", "BE2123456789" }, "vat_id", "vat.invalid.BE", ""},
		{"PL ok", func(in *profiles.LegalInput) { in.Country, in.VATID = "PL", "PL1234567890" }, "vat_id", "", "PL1234567890"},
		{"GR uses EL", func(in *profiles.LegalInput) { in.Country, in.VATID = "GR", "EL123456789" }, "vat_id", "", "EL123456789"},
		{"GR with GR prefix", func(in *profiles.LegalInput) { in.Country, in.VATID = "GR", "GR123456789" }, "vat_id", "vat.invalid.GR", ""},
		{"US free form", func(in *profiles.LegalInput) { in.Country, in.VATID = "US", "12-3456789" }, "vat_id", "", "123456789"},
		{"US junk", func(in *profiles.LegalInput) { in.Country, in.VATID = "US", "<script>" }, "vat_id", "vat.invalid_generic", ""},
		{"VAT optional", func(in *profiles.LegalInput) { in.VATID = "" }, "vat_id", "", ""},
		{"country name", func(in *profiles.LegalInput) { in.Country = "Germany" }, "country", "legal.country.invalid", ""},
		{"country unknown", func(in *profiles.LegalInput) { in.Country = "ZZ" }, "country", "legal.country.invalid", ""},
		{"tz unknown", func(in *profiles.LegalInput) { in.TimeZone = "Mars/Olympus_Mons" }, "time_zone", "legal.time_zone.invalid", ""},
		{"tz Local", func(in *profiles.LegalInput) { in.TimeZone = "Local" }, "time_zone", "legal.time_zone.invalid", ""},
		{"tz path", func(in *profiles.LegalInput) { in.TimeZone = "../../etc/passwd" }, "time_zone", "legal.time_zone.invalid", ""},
		{"tz ok", func(in *profiles.LegalInput) { in.TimeZone = "America/New_York" }, "time_zone", "", ""},
		{"currency unknown", func(in *profiles.LegalInput) { in.Currency = "XXX" }, "currency", "legal.currency.invalid", ""},
		{"currency lower", func(in *profiles.LegalInput) { in.Currency = "chf" }, "currency", "", ""},
		{"legal name empty", func(in *profiles.LegalInput) { in.LegalName = "" }, "legal_name", "legal.legal_name.required", ""},
		{"legal name long", func(in *profiles.LegalInput) { in.LegalName = strings.Repeat("a", 201) }, "legal_name", "legal.legal_name.too_long", ""},
		{"address empty", func(in *profiles.LegalInput) { in.RegisteredAddress = "" }, "registered_address", "legal.registered_address.required", ""},
		{"billing email", func(in *profiles.LegalInput) { in.BillingEmail = "billing" }, "billing_email", "email.invalid", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := validLegal()
			c.edit(&in)
			_, err := profiles.SaveLegal(ctx, f.tn, f.owner, in, "")
			if got := problem(err, c.field); got != c.key {
				t.Fatalf("problem = %q, want %q (err %v)", got, c.key, err)
			}
			if c.key == "" && err != nil {
				t.Fatalf("rejected: %v", err)
			}
			if c.key == "" && c.field == "vat_id" {
				p, _ := profiles.Get(ctx, f.tn)
				if p.VATID != c.vat {
					t.Errorf("stored VAT %q, want %q", p.VATID, c.vat)
				}
			}
		})
	}
}

func pngOf(w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := 0; x < w; x++ {
		img.Set(x, x%h, color.RGBA{200, 80, 20, 255})
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}

func jpegOf(w, h int) []byte {
	var b bytes.Buffer
	_ = jpeg.Encode(&b, image.NewRGBA(image.Rect(0, 0, w, h)), nil)
	return b.Bytes()
}

func TestCheckPhoto(t *testing.T) {
	t.Parallel()
	var gifBuf bytes.Buffer
	_ = gif.Encode(&gifBuf, image.NewPaletted(image.Rect(0, 0, 256, 256), color.Palette{color.Black, color.White}), nil)
	big := append(pngOf(200, 200), make([]byte, profiles.PhotoMaxBytes)...)
	cases := []struct {
		name string
		data []byte
		key  string
		args []any
	}{
		{"png 192", pngOf(192, 192), "", nil},
		{"jpeg 640", jpegOf(640, 640), "", nil},
		{"too small", pngOf(191, 191), "photo.too_small", []any{191, 191, 192}},
		{"not square", pngOf(640, 480), "photo.not_square", []any{640, 480, 480}},
		{"gif", gifBuf.Bytes(), "photo.type", []any{"image/gif"}},
		{"pdf named jpg", []byte("%PDF-1.7\n%âãÏÓ\n1 0 obj\n"), "photo.type", []any{"application/pdf"}},
		{"html", []byte("<html><script>alert(1)</script>"), "photo.type", []any{"text/html"}},
		{"png magic only", []byte("\x89PNG\r\n\x1a\nrest is junk"), "photo.corrupt", []any{"png"}},
		{"empty", nil, "photo.empty", nil},
		{"over 5 MB", big, "photo.too_large", []any{5}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			info, err := profiles.CheckPhoto("photo", c.data)
			if c.key == "" {
				if err != nil || info.Px == 0 {
					t.Fatalf("CheckPhoto = %+v, %v", info, err)
				}
				return
			}
			v, ok := models.AsValidation(err)
			if !ok || v.Problems[0].Key != c.key {
				t.Fatalf("err = %v, want %s", err, c.key)
			}
			if c.args != nil && !equalArgs(v.Problems[0].Args, c.args) {
				t.Errorf("args = %v, want %v", v.Problems[0].Args, c.args)
			}
		})
	}
}

func equalArgs(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSetPhotoReturnsReplacedKey(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	info := profiles.PhotoInfo{ContentType: "image/png", Px: 256, Size: 100}
	if old, err := profiles.SetPhoto(ctx, f.tn, f.owner, models.RoleOwner, "photos/1/a.png", info, ""); err != nil || old != "" {
		t.Fatalf("first SetPhoto = %q, %v", old, err)
	}
	if old, err := profiles.SetPhoto(ctx, f.tn, f.owner, models.RoleOwner, "photos/1/b.png", info, ""); err != nil || old != "photos/1/a.png" {
		t.Fatalf("second SetPhoto = %q, %v", old, err)
	}
	if old, err := profiles.RemovePhoto(ctx, f.tn, f.owner, models.RoleOwner, ""); err != nil || old != "photos/1/b.png" {
		t.Fatalf("RemovePhoto = %q, %v", old, err)
	}
	p, _ := profiles.Get(ctx, f.tn)
	if p.HasPhoto() {
		t.Error("photo still set")
	}
}

func TestChecklist(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	cl, err := profiles.LoadChecklist(ctx, f.tn)
	if err != nil {
		t.Fatal(err)
	}
	if cl.Complete() || cl.DoneCount() != 1 || cl.State != models.VerificationUnverified {
		t.Errorf("new business checklist: done %d of %d, state %s", cl.DoneCount(), len(cl.Items), cl.State)
	}
	completeProfile(t, f, f.tn, f.owner)
	cl, _ = profiles.LoadChecklist(ctx, f.tn)
	if !cl.Complete() {
		t.Errorf("missing after completing: %+v", cl.Missing())
	}
}

// completeProfile fills in everything the checklist asks for.
func completeProfile(t *testing.T, f *fixture, tn models.Tenant, owner *models.User) {
	t.Helper()
	ctx := context.Background()
	b, _ := tn.Business(ctx)
	in := validProfile()
	in.DisplayName = b.Name
	if _, err := profiles.Save(ctx, tn, owner, models.RoleOwner, in, ""); err != nil {
		t.Fatalf("profile: %v", err)
	}
	if _, err := profiles.SaveLegal(ctx, tn, owner, validLegal(), ""); err != nil {
		t.Fatalf("legal: %v", err)
	}
	if _, err := profiles.SetPhoto(ctx, tn, owner, models.RoleOwner, "photos/x/y.png", profiles.PhotoInfo{ContentType: "image/png", Px: 256, Size: 10}, ""); err != nil {
		t.Fatalf("photo: %v", err)
	}
}
