package invoicedoc

import (
	"bytes"
	_ "embed"
	"fmt"
	"strings"

	"codeberg.org/go-pdf/fpdf"
)

// DejaVu Sans (Bitstream Vera licence, see fonts/LICENSE): a UTF-8
// TrueType font with umlauts, ß, € and most European scripts.
var (
	//go:embed fonts/DejaVuSans.ttf
	fontRegular []byte
	//go:embed fonts/DejaVuSans-Bold.ttf
	fontBold []byte
)

// A4 portrait, millimetres.
const (
	pageW, pageH = 210.0, 297.0
	marginL      = 20.0
	marginR      = 20.0
	marginT      = 15.0
	contentW     = pageW - marginL - marginR
	footerTop    = pageH - 26.0 // the footer block starts here
	breakMargin  = 30.0         // body text stops above the footer
	bodyBottom   = pageH - breakMargin
	font         = "dejavu"
	lineH        = 4.6
	nbAlias      = "{nb}"
)

// Columns of the lines table.
var colW = [4]float64{contentW - 80, 22, 29, 29}

var grey = [3]int{90, 90, 90}

// PDF renders d as an A4 PDF in the document's language (English or
// German): issuer and customer with addresses and VAT IDs, the title
// (Invoice/Rechnung, Credit note/Stornorechnung), number, issue date,
// period of supply, due date, buyer reference, the lines (quantity, unit
// price with its decimals, amount), net per tax rate, rate, tax, gross,
// the legal VAT note, the corrected invoice of a credit note, payment
// terms and bank details, and "Page n of N" on every page. The
// XRechnung XML of the same document is attached to the PDF
// (xrechnung.xml) when the document has what XRechnung needs.
//
// The output is the same bytes for the same Document (the PDF's dates
// are the issue date), so a stored document can be checked against a
// fresh rendering.
func PDF(d Document) (out []byte, err error) {
	d, err = prepare(d)
	if err != nil {
		return nil, err
	}
	defer func() {
		// fpdf reports most faults through Error(); a panic deep in it
		// must not take down month-end invoicing.
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("invoicedoc: rendering PDF of %s: %v", d.Number, r)
		}
	}()
	r := newRenderer(d)
	r.render()
	if xmlDoc, xerr := XRechnung(d); xerr == nil {
		r.pdf.SetAttachments([]fpdf.Attachment{{
			Content:     xmlDoc,
			Filename:    "xrechnung.xml",
			Description: "XRechnung 3.0 (UBL) " + d.Number,
		}})
	}
	var buf bytes.Buffer
	if err := r.pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("invoicedoc: rendering PDF of %s: %w", d.Number, err)
	}
	return buf.Bytes(), nil
}

type renderer struct {
	d   Document
	l   *labels
	pdf *fpdf.Fpdf
}

func newRenderer(d Document) *renderer {
	p := fpdf.New("P", "mm", "A4", "")
	p.AddUTF8FontFromBytes(font, "", fontRegular)
	p.AddUTF8FontFromBytes(font, "B", fontBold)
	p.SetMargins(marginL, marginT, marginR)
	p.SetAutoPageBreak(true, breakMargin)
	p.AliasNbPages(nbAlias)
	p.SetCatalogSort(true) // fonts in a fixed order: the same bytes every time
	p.SetCreationDate(d.IssuedAt)
	p.SetModificationDate(d.IssuedAt)
	p.SetCreator("Optline", true)
	p.SetProducer("Optline invoicedoc (go-pdf/fpdf)", true)
	p.SetAuthor(d.Issuer.Name, true)
	l := labelsFor(d.Language)
	p.SetLang(l.lang)
	r := &renderer{d: d, l: l, pdf: p}
	p.SetTitle(r.title()+" "+d.Number, true)
	p.SetHeaderFunc(r.header)
	p.SetFooterFunc(r.footer)
	return r
}

func (r *renderer) title() string {
	if r.d.Kind == KindCreditNote {
		return r.l.creditNote
	}
	return r.l.invoice
}

func (r *renderer) setFont(style string, size float64) {
	r.pdf.SetFont(font, style, size)
}

func (r *renderer) textColor(c [3]int) { r.pdf.SetTextColor(c[0], c[1], c[2]) }

// header repeats who and what on every page after the first.
func (r *renderer) header() {
	p := r.pdf
	if p.PageNo() == 1 {
		return
	}
	r.setFont("", 8)
	r.textColor(grey)
	p.SetXY(marginL, 10)
	p.CellFormat(contentW, 4, fit(p, r.d.Issuer.Name+" · "+r.title()+" "+r.d.Number+" ("+r.l.continued+")", contentW), "", 0, "L", false, 0, "")
	p.SetTextColor(0, 0, 0)
	p.SetXY(marginL, 20)
}

// footer: issuer, its tax identifiers and contact, bank, page number.
func (r *renderer) footer() {
	p, d, l := r.pdf, r.d, r.l
	p.SetDrawColor(180, 180, 180)
	p.Line(marginL, footerTop-1.5, pageW-marginR, footerTop-1.5)
	r.setFont("", 6.8)
	r.textColor(grey)
	col := func(x, w float64, lines []string) {
		y := footerTop
		for _, s := range lines {
			if s == "" {
				continue
			}
			p.SetXY(x, y)
			p.CellFormat(w, 3, fit(p, s, w), "", 0, "L", false, 0, "")
			y += 3
		}
	}
	is := d.Issuer
	addr := append([]string{is.Name}, splitLines(is.Street)...)
	addr = append(addr, cityLine(is), l.countryName(is.Country))
	col(marginL, 58, addr)
	var ids []string
	if is.VATID != "" {
		ids = append(ids, l.vatID+": "+is.VATID)
	}
	if is.TaxNumber != "" {
		ids = append(ids, l.taxNumber+": "+is.TaxNumber)
	}
	ids = append(ids, is.Registration)
	if is.ContactPhone != "" {
		ids = append(ids, l.phone+": "+is.ContactPhone)
	}
	if is.ContactEmail != "" {
		ids = append(ids, l.email+": "+is.ContactEmail)
	}
	col(marginL+58, 58, ids)
	b := d.Bank
	var bank []string
	if b.IBAN != "" {
		bank = []string{b.BankName, "IBAN " + formatIBAN(b.IBAN)}
		if b.BIC != "" {
			bank = append(bank, "BIC "+b.BIC)
		}
		if b.AccountName != "" {
			bank = append(bank, l.accountHolder+": "+b.AccountName)
		}
	}
	col(marginL+116, contentW-116, bank)
	// Right-aligned by the width the text has once {nb} becomes the
	// page count (fpdf replaces the alias after layout).
	shown := fmt.Sprintf(l.page, p.PageNo(), strings.Repeat("9", len(fmt.Sprint(p.PageNo()))))
	p.SetXY(pageW-marginR-p.GetStringWidth(shown)-2*p.GetCellMargin(), pageH-10)
	p.CellFormat(contentW, 3, fmt.Sprintf(l.page, p.PageNo(), nbAlias), "", 0, "L", false, 0, "")
	p.SetTextColor(0, 0, 0)
}

// fit shortens s with an ellipsis to width w (footer cells are one line).
func fit(p *fpdf.Fpdf, s string, w float64) string {
	if p.GetStringWidth(s) <= w-1 {
		return s
	}
	rs := []rune(s)
	lo, hi := 0, len(rs) // the longest prefix that fits is in [lo, hi)
	for lo+1 < hi {
		mid := (lo + hi) / 2
		if p.GetStringWidth(string(rs[:mid])+"…") <= w-1 {
			lo = mid
		} else {
			hi = mid
		}
	}
	return string(rs[:lo]) + "…"
}

func (r *renderer) render() {
	p := r.pdf
	p.AddPage()
	r.letterhead()
	y := r.addresses()
	r.titleBlock(y)
	r.table()
	r.totals()
	r.notes()
}

func (r *renderer) letterhead() {
	p, is := r.pdf, r.d.Issuer
	r.setFont("B", 15)
	p.SetXY(marginL, marginT)
	p.MultiCell(110, 6.5, is.Name, "", "L", false)
	r.setFont("", 8)
	r.textColor(grey)
	var right []string
	right = append(right, splitLines(is.Street)...)
	right = append(right, cityLine(is), r.l.countryName(is.Country))
	if is.ContactName != "" {
		right = append(right, r.l.contact+": "+is.ContactName)
	}
	if is.ContactPhone != "" {
		right = append(right, r.l.phone+": "+is.ContactPhone)
	}
	if is.ContactEmail != "" {
		right = append(right, r.l.email+": "+is.ContactEmail)
	}
	y := marginT
	for _, s := range right {
		p.SetXY(135, y)
		p.CellFormat(pageW-marginR-135, 3.6, fit(p, s, pageW-marginR-135), "", 0, "R", false, 0, "")
		y += 3.6
	}
	p.SetTextColor(0, 0, 0)
}

// addresses prints the customer's address window (with the sender line
// above it) and the document facts beside it; it returns the y below
// both.
func (r *renderer) addresses() float64 {
	p, d, l := r.pdf, r.d, r.l
	is, cu := d.Issuer, d.Customer
	// Sender line over the window of a DIN 5008 envelope.
	sender := []string{is.Name}
	if st := splitLines(is.Street); len(st) > 0 {
		sender = append(sender, st[0])
	}
	sender = append(sender, cityLine(is))
	r.setFont("", 6.5)
	r.textColor(grey)
	p.SetXY(marginL, 47)
	p.CellFormat(85, 3, fit(p, strings.Join(sender, " · "), 85), "B", 0, "L", false, 0, "")
	p.SetTextColor(0, 0, 0)

	p.SetXY(marginL, 52)
	r.setFont("B", 10)
	p.MultiCell(78, 5, cu.Name, "", "L", false)
	r.setFont("", 10)
	for _, s := range splitLines(cu.Street) {
		p.SetX(marginL)
		p.MultiCell(78, 5, s, "", "L", false)
	}
	p.SetX(marginL)
	p.MultiCell(78, 5, cityLine(cu), "", "L", false)
	p.SetX(marginL)
	p.MultiCell(78, 5, l.countryName(cu.Country), "", "L", false)
	if cu.VATID != "" {
		p.SetX(marginL)
		r.setFont("", 9)
		p.MultiCell(78, 5, l.vatID+": "+cu.VATID, "", "L", false)
	}
	leftEnd := p.GetY()

	// Facts of the document.
	type fact struct{ label, value string }
	number := l.number
	if d.Kind == KindCreditNote {
		number = l.creditNumber
	}
	facts := []fact{{number, d.Number}, {l.issueDate, l.date(d.IssuedAt)}}
	if !d.PeriodStart.IsZero() || !d.PeriodEnd.IsZero() {
		facts = append(facts, fact{l.period, strings.Trim(l.date(d.PeriodStart)+" – "+l.date(d.PeriodEnd), " –")})
	}
	if d.Kind == KindInvoice && !d.DueAt.IsZero() {
		facts = append(facts, fact{l.dueDate, l.date(d.DueAt)})
	}
	if d.BuyerReference != "" {
		facts = append(facts, fact{l.buyerRef, d.BuyerReference})
	}
	if is.VATID != "" {
		facts = append(facts, fact{l.ourVATID, is.VATID})
	}
	if is.TaxNumber != "" {
		facts = append(facts, fact{l.ourTaxNumber, is.TaxNumber})
	}
	x, y := 100.0, 52.0
	for _, f := range facts {
		r.setFont("", 8.5)
		r.textColor(grey)
		p.SetXY(x, y)
		p.CellFormat(38, 4.6, f.label, "", 0, "L", false, 0, "")
		p.SetTextColor(0, 0, 0)
		r.setFont("", 9)
		p.SetXY(x+38, y)
		p.MultiCell(pageW-marginR-x-38, 4.6, f.value, "", "L", false)
		y = p.GetY()
	}
	return max(leftEnd, y)
}

func (r *renderer) titleBlock(y float64) {
	p, d := r.pdf, r.d
	p.SetXY(marginL, max(y+8, 100))
	r.setFont("B", 16)
	p.MultiCell(contentW, 7, r.title()+" "+d.Number, "", "L", false)
	if d.Kind == KindCreditNote && d.Corrects != "" {
		r.setFont("", 10)
		p.SetX(marginL)
		p.MultiCell(contentW, 5, r.l.corrected(d), "", "L", false)
	}
	p.Ln(4)
}

func (r *renderer) tableHeader() {
	p, l := r.pdf, r.l
	r.setFont("B", 9)
	p.SetFillColor(235, 235, 235)
	p.SetX(marginL)
	heads := []string{l.description, l.quantity, l.unitPrice, l.amount}
	for i, h := range heads {
		align := "R"
		if i == 0 {
			align = "L"
		}
		p.CellFormat(colW[i], 6.5, h, "", 0, align, true, 0, "")
	}
	p.Ln(6.5)
}

// table prints the lines; a line that does not fit continues on the next
// page under a repeated header, however long its description.
func (r *renderer) table() {
	p, d, l := r.pdf, r.d, r.l
	r.tableHeader()
	p.SetDrawColor(215, 215, 215)
	for _, ln := range d.Lines {
		r.setFont("", 9)
		var text []string
		for _, para := range strings.Split(ln.Description, "\n") {
			text = append(text, p.SplitText(para, colW[0])...)
		}
		if len(text) == 0 {
			text = []string{""}
		}
		// Keep a short line together: start it on a new page when it
		// does not fit where it is.
		if need := float64(min(len(text), 6))*lineH + 2; p.GetY()+need > bodyBottom {
			p.AddPage()
			r.tableHeader()
			r.setFont("", 9)
		}
		p.Ln(1)
		for i, s := range text {
			if p.GetY()+lineH > bodyBottom {
				p.AddPage()
				r.tableHeader()
				r.setFont("", 9)
			}
			p.SetX(marginL)
			p.CellFormat(colW[0], lineH, s, "", 0, "L", false, 0, "")
			if i == 0 {
				p.CellFormat(colW[1], lineH, l.qty(ln.Quantity), "", 0, "R", false, 0, "")
				p.CellFormat(colW[2], lineH, l.price(ln.UnitPrice, d.Currency), "", 0, "R", false, 0, "")
				p.CellFormat(colW[3], lineH, l.amt(ln.Amount, d.Currency), "", 0, "R", false, 0, "")
			}
			p.Ln(lineH)
		}
		p.Ln(1)
		p.Line(marginL, p.GetY(), pageW-marginR, p.GetY())
	}
	p.Ln(3)
}

// totals: net per rate, the rate and its tax, gross; kept together.
func (r *renderer) totals() {
	p, d, l := r.pdf, r.d, r.l
	if p.GetY()+22 > bodyBottom {
		p.AddPage()
	}
	rate := l.rate(d.VATRate)
	rows := [][2]string{
		{sprintf(l.netAt, rate), l.amt(d.Net, d.Currency)},
		{sprintf(l.vatAt, rate), l.amt(d.Tax, d.Currency)},
	}
	x := marginL + contentW - 100
	r.setFont("", 9.5)
	for _, row := range rows {
		p.SetX(x)
		p.CellFormat(70, 5.5, row[0], "", 0, "L", false, 0, "")
		p.CellFormat(30, 5.5, row[1], "", 1, "R", false, 0, "")
	}
	p.SetDrawColor(0, 0, 0)
	p.Line(x, p.GetY()+0.5, pageW-marginR, p.GetY()+0.5)
	p.Ln(1.5)
	gross := l.gross
	if d.Kind == KindCreditNote {
		gross = l.grossCredit
	}
	r.setFont("B", 10.5)
	p.SetX(x)
	p.CellFormat(70, 6.5, gross, "", 0, "L", false, 0, "")
	p.CellFormat(30, 6.5, l.amt(d.Gross, d.Currency), "", 1, "R", false, 0, "")
	p.Ln(5)
}

// notes: the legal VAT note, what to pay and how, the bank.
func (r *renderer) notes() {
	p, d, l := r.pdf, r.d, r.l
	para := func(style string, size float64, s string) {
		if s == "" {
			return
		}
		r.setFont(style, size)
		p.SetX(marginL)
		p.MultiCell(contentW, size*0.5, s, "", "L", false)
		p.Ln(2)
	}
	para("B", 9.5, l.legalNote(d))
	gross := l.amt(d.Gross, d.Currency)
	switch {
	case d.Kind == KindCreditNote:
		para("", 9.5, sprintf(l.creditPay, gross))
	case d.Bank.IBAN != "" && d.Gross.IsPositive() && !d.DueAt.IsZero():
		para("", 9.5, sprintf(l.payBy, gross, l.date(d.DueAt), d.Number))
	case d.Bank.IBAN != "" && d.Gross.IsPositive():
		para("", 9.5, sprintf(l.payNow, gross, d.Number))
	}
	para("", 9.5, d.PaymentTerms)
	if b := d.Bank; b.IBAN != "" && d.Kind == KindInvoice {
		parts := []string{}
		if b.AccountName != "" {
			parts = append(parts, l.accountHolder+": "+b.AccountName)
		}
		parts = append(parts, "IBAN: "+formatIBAN(b.IBAN))
		if b.BIC != "" {
			parts = append(parts, "BIC: "+b.BIC)
		}
		if b.BankName != "" {
			parts = append(parts, l.bankName+": "+b.BankName)
		}
		para("", 9.5, l.bank+": "+strings.Join(parts, " · "))
	}
}

// cityLine is the postcode and city in the order of the party's country:
// "80331 München", but "New York, NY 10118" and "London SW1A 1AA".
func cityLine(p Party) string {
	switch p.Country {
	case "US", "CA", "GB", "AU", "NZ", "IE", "IN", "SG", "ZA":
		return strings.TrimSpace(p.City + " " + p.Postcode)
	}
	return strings.TrimSpace(p.Postcode + " " + p.City)
}
