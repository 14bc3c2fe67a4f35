package contacts

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/optline/optline/models"
)

// demoPeople are the demo café's customers: mostly German mobile numbers,
// some from neighbouring countries and further away.
var demoPeople = []struct {
	first, last, phone, lang string
}{
	{"Anna", "Müller", "+4915112340001", "de"}, {"Lukas", "Schmidt", "+4915112340002", "de"},
	{"Sophie", "Schneider", "+4916012340003", "de"}, {"Leon", "Fischer", "+4917012340004", "de"},
	{"Marie", "Weber", "+4917612340005", "de"}, {"Paul", "Meyer", "+4915212340006", "de"},
	{"Emma", "Wagner", "+4915712340007", "de"}, {"Jonas", "Becker", "+4916212340008", "de"},
	{"Mia", "Schulz", "+4917112340009", "de"}, {"Felix", "Hoffmann", "+4917212340010", "de"},
	{"Hannah", "Schäfer", "+4917312340011", "de"}, {"Elias", "Koch", "+4917412340012", "de"},
	{"Lina", "Bauer", "+4917512340013", "de"}, {"Noah", "Richter", "+4917712340014", "de"},
	{"Lea", "Klein", "+4917812340015", "de"}, {"Ben", "Wolf", "+4917912340016", "de"},
	{"Clara", "Schröder", "+4915112340017", "de"}, {"Finn", "Neumann", "+4915112340018", "de"},
	{"Ida", "Schwarz", "+4916012340019", "de"}, {"Theo", "Zimmermann", "+4917012340020", "de"},
	{"Greta", "Braun", "+4917612340021", "de"}, {"Anton", "Krüger", "+4915212340022", "de"},
	{"Frieda", "Hofmann", "+4915712340023", "de"}, {"Jakob", "Hartmann", "+4916212340024", "de"},
	{"Mila", "Lange", "+4917112340025", "de"}, {"Karl", "Schmitt", "+4917212340026", "de"},
	{"Luisa", "Werner", "+4917312340027", "de"}, {"Oskar", "Schmitz", "+4917412340028", "de"},
	{"Ella", "Krause", "+4917512340029", "de"}, {"Henry", "Meier", "+4917712340030", "de"},
	{"Johanna", "Lehmann", "+4917812340031", "de"}, {"Emil", "Schmid", "+4917912340032", "de"},
	{"Charlotte", "Schulze", "+4915112340033", "de"}, {"Matteo", "Maier", "+4916012340034", "de"},
	{"Lotta", "Köhler", "+4917012340035", "de"}, {"Moritz", "Herrmann", "+4917612340036", "de"},
	{"Helena", "König", "+4915212340037", "de"}, {"Vincent", "Walter", "+4915712340038", "de"},
	{"Paula", "Mayer", "+4916212340039", "de"}, {"Julian", "Huber", "+4917112340040", "de"},
	{"Ayşe", "Yılmaz", "+4917212340041", "tr"}, {"Mehmet", "Kaya", "+905321234042", "tr"},
	{"Zeynep", "Demir", "+4917312340043", "tr"}, {"Katarzyna", "Nowak", "+48601234044", "pl"},
	{"Piotr", "Kowalski", "+4917412340045", "pl"}, {"Olena", "Shevchenko", "+380671234046", "uk"},
	{"Giulia", "Rossi", "+393471234047", "it"}, {"Lucas", "Martin", "+33612340048", "fr"},
	{"Sem", "de Vries", "+31612340049", "nl"}, {"Lena", "Gruber", "+436641234050", "de"},
	{"Luca", "Keller", "+41791234051", "de"}, {"Oliver", "Smith", "+447700900052", "en"},
	{"Emily", "Johnson", "+12025550153", "en"}, {"Yasmin", "Haddad", "+4917512340054", "ar"},
	{"Omar", "Al-Sayed", "+4917712340055", "ar"}, {"Sofía", "García", "+34612340056", "es"},
	{"Ivan", "Petrov", "+4917812340057", "ru"}, {"Eleni", "Papadopoulou", "+306912340058", "el"},
	{"Nora", "Berg", "+4917912340059", "de"}, {"Timo", "Vogel", "+4915112340060", "de"},
}

var demoWording = "Ja, ich möchte Angebote und Neuigkeiten vom Café Sonnenschein per WhatsApp erhalten. Abmelden jederzeit mit STOP."

// SeedDemo adds the demo book to the demo business inside tx (the
// demo loader's transaction; demo.Load forgets the cached tags after it).
func SeedDemo(ctx context.Context, db *models.DB, tx *gorm.DB, biz *models.Business, owner *models.User) error {
	now := db.Now()
	sources := []string{"in_store", "web_form", "checkout", "paper", "chat"}
	by := "user:" + models.Itoa(owner.ID)
	for i, p := range demoPeople {
		created := now.Add(-time.Duration(85-i) * 24 * time.Hour).Add(time.Duration(i*37) * time.Minute)
		c := &Contact{BusinessID: biz.ID, Phone: p.phone, Name: p.first + " " + p.last, FirstName: p.first, LastName: p.last,
			Language: p.lang, ConsentState: ConsentOptedIn, Attrs: Attrs{}, CreatedAt: created, UpdatedAt: created}
		if i%3 == 0 {
			c.Email = strings.ToLower(asciiFold(p.first)+"."+asciiFold(strings.ReplaceAll(p.last, " ", ""))) + "@example.com"
		}
		if i%4 == 1 {
			c.Attrs["kundennummer"] = fmt.Sprintf("K-%04d", 1000+i)
		}
		if i%7 == 2 {
			c.Attrs["lieblingskuchen"] = []string{"Käsekuchen", "Apfelstrudel", "Schwarzwälder Kirsch"}[i%3]
		}
		src := sources[i%len(sources)]
		optedIn := created.Add(-time.Hour)
		switch {
		case i == 11 || i == 29 || i == 47: // no consent on record
			c.ConsentState = ConsentNone
		default:
			c.OptedInAt, c.OptInSource = &optedIn, src
		}
		c.derive()
		if err := tx.Create(c).Error; err != nil {
			return models.Wrap("contacts.SeedDemo", err)
		}
		if c.ConsentState == ConsentOptedIn {
			if err := tx.Create(&ConsentEvent{BusinessID: biz.ID, ContactID: &c.ID, PhoneHash: c.PhoneHash, Kind: consentKindIn, At: optedIn,
				Source: src, Wording: demoWording, RecordedBy: by, CreatedAt: created}).Error; err != nil {
				return models.Wrap("contacts.SeedDemo", err)
			}
		}
		if i == 5 { // said stop
			out := now.Add(-3 * 24 * time.Hour)
			if err := tx.Model(c).Updates(map[string]any{"consent_state": ConsentOptedOut, "opted_out_at": out}).Error; err != nil {
				return models.Wrap("contacts.SeedDemo", err)
			}
			if err := tx.Create(&Suppression{BusinessID: biz.ID, PhoneHash: c.PhoneHash, OptedOutAt: out, Source: OptOutReply, CreatedAt: out}).Error; err != nil {
				return models.Wrap("contacts.SeedDemo", err)
			}
			if err := tx.Create(&ConsentEvent{BusinessID: biz.ID, ContactID: &c.ID, PhoneHash: c.PhoneHash, Kind: consentKindOut, At: out,
				Source: OptOutReply, RecordedBy: "webhook", CreatedAt: out}).Error; err != nil {
				return models.Wrap("contacts.SeedDemo", err)
			}
		}
		var tags []string
		if i%2 == 0 {
			tags = append(tags, "newsletter")
		}
		if i%3 == 0 {
			tags = append(tags, "stammkunde")
		}
		if i%8 == 3 {
			tags = append(tags, "vip")
		}
		if i%5 == 4 {
			tags = append(tags, "catering")
		}
		if i%6 == 1 {
			tags = append(tags, "frühstück")
		}
		if err := insertTags(tx, biz.ID, c.ID, tags); err != nil {
			return models.Wrap("contacts.SeedDemo", err)
		}
	}
	for _, s := range []Segment{
		{Name: "Stammkunden mit Newsletter", SegmentRule: SegmentRule{All: TagList{"stammkunde", "newsletter"}}},
		{Name: "VIP ohne Catering", SegmentRule: SegmentRule{Any: TagList{"vip"}, None: TagList{"catering"}}},
	} {
		s.BusinessID, s.CreatedAt, s.UpdatedAt = biz.ID, now, now
		if err := tx.Create(&s).Error; err != nil {
			return models.Wrap("contacts.SeedDemo", err)
		}
	}
	return nil
}

// asciiFold turns German and Turkish letters into ASCII for e-mail
// addresses.
func asciiFold(s string) string {
	return strings.NewReplacer("ä", "ae", "ö", "oe", "ü", "ue", "ß", "ss", "Ä", "Ae", "Ö", "Oe", "Ü", "Ue",
		"ş", "s", "ı", "i", "í", "i", "é", "e", "ñ", "n", "-", "").Replace(s)
}

// DemoPhones are the demo book's numbers, in the demo's order (the demo
// import names the contacts it added and updated by them).
func DemoPhones() []string {
	out := make([]string, len(demoPeople))
	for i, p := range demoPeople {
		out[i] = p.phone
	}
	return out
}
