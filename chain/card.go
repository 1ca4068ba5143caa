package chain

import (
	"fmt"
	"strings"
	"time"
)

// Card is what a card purchase keeps of the card on the chain: the number
// masked but for its last four digits, and the expiry date. Never the full
// number, the CVV or the holder's name, and no digest of the number: a
// card number has so little entropy (a known issuer prefix, the last four
// digits shown, a Luhn digit) that an unkeyed hash of it is reversed in
// milliseconds.
type Card struct {
	Masked string `json:"masked"` // e.g. "************1111"
	Expiry string `json:"expiry"` // YYYY-MM-DD, last valid day
}

// CardInput is a card as a person types it, before it is checked.
type CardInput struct {
	Number string // digits with any spaces, dashes or stray characters
	Expiry string // YYYY-MM-DD, or YYYY-MM for the month's last day
	CVV    string // 3 or 4 digits; checked, then forgotten
	Holder string // the original's form asks for it; nothing of it is kept
}

// NewCard checks a typed card (Luhn, CVV, expiry format) and returns what
// may be stored. The expiry is checked against time later, by the rules,
// against the time of the block or of admission.
func NewCard(in CardInput) (Card, error) {
	digits := onlyDigits(in.Number)
	if len(digits) < 12 || len(digits) > 19 || !luhn(digits) {
		return Card{}, fmt.Errorf("card number: %w", ErrBadCardNumber)
	}
	cvv := onlyDigits(in.CVV)
	if len(cvv) < 3 || len(cvv) > 4 || cvv != strings.TrimSpace(in.CVV) {
		return Card{}, fmt.Errorf("card CVV must be 3 or 4 digits: %w", ErrBadCardData)
	}
	exp, err := normalizeExpiry(strings.TrimSpace(in.Expiry))
	if err != nil {
		return Card{}, err
	}
	return Card{
		Masked: strings.Repeat("*", len(digits)-4) + digits[len(digits)-4:],
		Expiry: exp,
	}, nil
}

// ExpiresAt returns the first instant (unix ms, UTC) the card is no longer
// valid: the day after its expiry date.
func (c *Card) ExpiresAt() (int64, error) {
	t, err := time.Parse(time.DateOnly, c.Expiry)
	if err != nil {
		return 0, fmt.Errorf("card expiry %q: %w", c.Expiry, ErrBadCardData)
	}
	return t.AddDate(0, 0, 1).UnixMilli(), nil
}

// check validates a stored card's form (the chain cannot re-check the Luhn
// digit: the number is gone; the admitting node checked it).
func (c *Card) check() error {
	n := len(c.Masked)
	if n < 12 || n > 19 || strings.Trim(c.Masked[:n-4], "*") != "" || onlyDigits(c.Masked[n-4:]) != c.Masked[n-4:] {
		return fmt.Errorf("masked card number %q: %w", c.Masked, ErrBadCardData)
	}
	_, err := c.ExpiresAt()
	return err
}

func normalizeExpiry(s string) (string, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.Format(time.DateOnly), nil
	}
	if t, err := time.Parse("2006-01", s); err == nil {
		return t.AddDate(0, 1, -1).Format(time.DateOnly), nil
	}
	return "", fmt.Errorf("card expiry %q: want YYYY-MM-DD or YYYY-MM: %w", s, ErrBadCardData)
}

func onlyDigits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// luhn reports whether a digit string passes the Luhn check.
func luhn(digits string) bool {
	sum := 0
	double := false
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}
