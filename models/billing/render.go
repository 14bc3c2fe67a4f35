package billing

import "github.com/optline/optline/invoicedoc"

// The documents stored at issue: invoicedoc's PDF (with the XRechnung
// attached) and its XRechnung 3.0 UBL file.
func init() {
	Documents = Renderer{PDF: invoicedoc.PDF, XML: invoicedoc.XRechnung}
}
