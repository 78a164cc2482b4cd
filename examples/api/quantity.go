package api

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
)

// Format is how a Quantity prints, remembered from the text it was parsed from.
type Format string

// The quantity formats, named as in Kubernetes.
const (
	// DecimalSI prints with the suffixes n u m "" k M G T P E (e.g. "100m", "2k").
	DecimalSI Format = "DecimalSI"
	// BinarySI prints with the suffixes Ki Mi Gi Ti Pi Ei (e.g. "512Mi").
	BinarySI Format = "BinarySI"
	// DecimalExponent prints in exponent notation (e.g. "1e3").
	DecimalExponent Format = "DecimalExponent"
)

// ErrQuantity is wrapped by every error ParseQuantity returns.
var ErrQuantity = errors.New("invalid quantity")

// Quantity is an exact fixed-point number with a unit suffix, the wire form of
// resource amounts ("100m" CPU, "1Gi" memory), like Kubernetes'
// resource.Quantity. Values are exact down to 1n (10^-9); finer fractions
// are rounded away from zero when parsed. The zero value is 0.
//
// Quantity is a comparable value type; two quantities that are equal in
// value and format are == (so "1Gi" == "1024Mi", and "1" == "1000m").
// Use Cmp to compare values regardless of format.
type Quantity struct {
	v      int64 // unscaled value; value = v * 10^scale
	scale  int32 // >= -9; normalized so that v has no trailing decimal zeros
	format Format
}

const (
	minScale  = -9
	maxScale  = 30 // values up to about 9.2e48
	maxDigits = 40
)

var (
	binarySuffixes = []string{"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"}
	// decimalByExp[(e+9)/3] is the suffix of exponent e, -9 <= e <= 18.
	decimalByExp = [10]string{"n", "u", "m", "", "k", "M", "G", "T", "P", "E"}
)

// ParseQuantity parses text such as "100m", "1Gi", "2", "1.5", "500Mi",
// "1e3" or "-0.5". Errors wrap ErrQuantity and say what is wrong.
func ParseQuantity(s string) (Quantity, error) {
	fail := func(why string) (Quantity, error) {
		return Quantity{}, fmt.Errorf("%w %q: %s", ErrQuantity, s, why)
	}
	if s == "" {
		return fail("empty string")
	}
	i := 0
	neg := false
	if s[0] == '+' || s[0] == '-' {
		neg = s[0] == '-'
		i++
	}
	var buf [24]byte
	digits := buf[:0]
	frac := 0
	seenPoint, seenDigit := false, false
	for ; i < len(s); i++ {
		c := s[i]
		if c >= '0' && c <= '9' {
			digits = append(digits, c)
			seenDigit = true
			if seenPoint {
				frac++
			}
			continue
		}
		if c == '.' && !seenPoint {
			seenPoint = true
			continue
		}
		break
	}
	if !seenDigit {
		return fail("expected a number")
	}
	suffix := s[i:]
	format := DecimalSI
	var exp10 int64
	bin := 0
	dec, isDecimal := decimalSuffix(suffix)
	switch {
	case isDecimal:
		exp10 = int64(dec)
	case len(suffix) == 2 && suffix[1] == 'i':
		k := -1
		for j, b := range binarySuffixes[1:] {
			if b == suffix {
				k = j + 1
			}
		}
		if k < 0 {
			return fail(fmt.Sprintf("unknown suffix %q (binary suffixes are Ki, Mi, Gi, Ti, Pi, Ei)", suffix))
		}
		bin = k
		format = BinarySI
	case suffix[0] == 'e' || suffix[0] == 'E':
		e, err := strconv.ParseInt(suffix[1:], 10, 32)
		if err != nil {
			return fail(fmt.Sprintf("bad exponent %q", suffix))
		}
		if e > 1000 || e < -1000 {
			return fail("exponent out of range")
		}
		exp10 = e
		format = DecimalExponent
	default:
		return fail(fmt.Sprintf("unknown suffix %q (use n, u, m, k, M, G, T, P, E, Ki..Ei or an exponent)", suffix))
	}
	// Trim zeros as text first, so that long runs cost nothing, then bound
	// the significant digits.
	for len(digits) > 1 && digits[0] == '0' {
		digits = digits[1:]
	}
	for len(digits) > 1 && digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
		exp10++
	}
	if len(digits) > maxDigits {
		return fail(fmt.Sprintf("more than %d significant digits", maxDigits))
	}
	if q, ok := fastParse(digits, bin, neg, exp10-int64(frac), format); ok {
		return q, nil
	}
	n := new(big.Int)
	n.SetString(string(digits), 10)
	if bin > 0 {
		n.Lsh(n, uint(10*bin))
	}
	if neg {
		n.Neg(n)
	}
	q, err := fromBig(n, exp10-int64(frac), format)
	if err != nil {
		return fail(err.Error())
	}
	return q, nil
}

// MustParse is ParseQuantity for constants; it panics on an error.
func MustParse(s string) Quantity {
	q, err := ParseQuantity(s)
	if err != nil {
		panic(err)
	}
	return q
}

// NewQuantity returns the integer value v in the given format.
func NewQuantity(v int64, f Format) Quantity { return normalize(v, 0, f) }

// NewMilliQuantity returns v/1000 in the given format.
func NewMilliQuantity(v int64, f Format) Quantity { return normalize(v, -3, f) }

var bigTen = big.NewInt(10)

// fromBig builds a quantity worth n * 10^scale, rounding away from zero
// below 10^-9, or fails if it does not fit.
func fromBig(n *big.Int, scale int64, f Format) (Quantity, error) {
	if n.Sign() == 0 {
		return Quantity{format: f}, nil
	}
	if scale < minScale-maxDigits-1 && n.BitLen() < 4*maxDigits {
		// |value| < 10^(maxDigits) * 10^(minScale-maxDigits-1) < 1n: rounds to ±1n
		return Quantity{v: int64(n.Sign()), scale: minScale, format: f}, nil
	}
	if scale < minScale {
		div := new(big.Int).Exp(bigTen, big.NewInt(minScale-scale), nil)
		quo, rem := new(big.Int).QuoRem(n, div, new(big.Int))
		if rem.Sign() != 0 {
			quo.Add(quo, big.NewInt(int64(n.Sign())))
		}
		n, scale = quo, minScale
	}
	// strip trailing zeros so the representation is canonical
	r := new(big.Int)
	for n.Sign() != 0 {
		q, m := new(big.Int).QuoRem(n, bigTen, r)
		if m.Sign() != 0 {
			break
		}
		n = q
		scale++
	}
	if !n.IsInt64() || scale > maxScale {
		return Quantity{}, errors.New("value out of range")
	}
	return Quantity{v: n.Int64(), scale: int32(scale), format: f}, nil
}

// decimalSuffix returns the exponent of a decimal SI suffix.
func decimalSuffix(s string) (int32, bool) {
	if len(s) > 1 {
		return 0, false
	}
	if s == "" {
		return 0, true
	}
	for i, d := range decimalByExp {
		if d == s {
			return int32(3*i - 9), true
		}
	}
	return 0, false
}

var pow10 = [19]int64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18}

// fastParse handles the common case without big numbers: at most 18
// significant digits whose binary-scaled value fits in an int64 and needs no
// rounding.
func fastParse(digits []byte, bin int, neg bool, scale int64, f Format) (Quantity, bool) {
	if len(digits) > 18 {
		return Quantity{}, false
	}
	var v int64
	for _, c := range digits {
		v = v*10 + int64(c-'0')
	}
	if bin > 0 {
		shift := uint(10 * bin)
		if v > math.MaxInt64>>shift {
			return Quantity{}, false
		}
		v <<= shift
	}
	if v == 0 {
		return Quantity{format: f}, true
	}
	for v%10 == 0 {
		v /= 10
		scale++
	}
	if scale < minScale || scale > maxScale {
		return Quantity{}, false
	}
	if neg {
		v = -v
	}
	return Quantity{v: v, scale: int32(scale), format: f}, true
}

// mulPow10 returns v * 10^d (0 <= d), or false on overflow.
func mulPow10(v int64, d int32) (int64, bool) {
	if d < 0 || d > 18 {
		return 0, v == 0 && d >= 0
	}
	p := pow10[d]
	r := v * p
	if v != 0 && (r/p != v || (v > 0) != (r > 0)) {
		return 0, false
	}
	return r, true
}

// aligned returns q and y as integers at their common (smaller) scale, or
// false if that overflows an int64.
func aligned(q, y Quantity) (a, b int64, scale int32, ok bool) {
	scale = min(q.scale, y.scale)
	a, ok1 := mulPow10(q.v, q.scale-scale)
	b, ok2 := mulPow10(y.v, y.scale-scale)
	return a, b, scale, ok1 && ok2
}

func normalize(v int64, scale int32, f Format) Quantity {
	q, err := fromBig(big.NewInt(v), int64(scale), f)
	if err != nil { // cannot happen for an int64 input
		panic(err)
	}
	return q
}

// big returns the value as n * 10^scale.
func (q Quantity) bigAt(scale int32) *big.Int {
	n := big.NewInt(q.v)
	if d := q.scale - scale; d > 0 {
		n.Mul(n, new(big.Int).Exp(bigTen, big.NewInt(int64(d)), nil))
	}
	return n
}

// Format returns the format the quantity prints in.
func (q Quantity) Format() Format {
	if q.format == "" {
		return DecimalSI
	}
	return q.format
}

// Sign returns -1, 0 or +1.
func (q Quantity) Sign() int {
	switch {
	case q.v < 0:
		return -1
	case q.v > 0:
		return 1
	}
	return 0
}

// IsZero reports whether the value is 0.
func (q Quantity) IsZero() bool { return q.v == 0 }

// Cmp compares values exactly: -1 if q < y, 0 if equal, +1 if q > y.
func (q Quantity) Cmp(y Quantity) int {
	if a, b, _, ok := aligned(q, y); ok {
		switch {
		case a < b:
			return -1
		case a > b:
			return 1
		}
		return 0
	}
	s := min(q.scale, y.scale)
	return q.bigAt(s).Cmp(y.bigAt(s))
}

// Equal reports whether q and y have the same value (formats may differ).
func (q Quantity) Equal(y Quantity) bool { return q.Cmp(y) == 0 }

// Add returns q + y, exact, in q's format (y's if q is the zero value). A
// sum beyond the int64 range of 1n units is rounded to fewer significant
// digits; beyond about 9.2e18 * 10^k it saturates.
func (q Quantity) Add(y Quantity) Quantity {
	return q.combine(y, false)
}

// Sub returns q - y, like Add.
func (q Quantity) Sub(y Quantity) Quantity {
	return q.combine(y, true)
}

func (q Quantity) combine(y Quantity, sub bool) Quantity {
	f := q.format
	if f == "" {
		f = y.format
	}
	if a, b, scale, ok := aligned(q, y); ok {
		if sub {
			b = -b
		}
		if r := a + b; (b >= 0) == (r >= a) && b != math.MinInt64 {
			return normalize(r, scale, f)
		}
	}
	s := min(q.scale, y.scale)
	a, b := q.bigAt(s), y.bigAt(s)
	if sub {
		a.Sub(a, b)
	} else {
		a.Add(a, b)
	}
	scale := int64(s)
	for !a.IsInt64() && scale < maxScale {
		// too many digits: drop one, rounding away from zero
		quo, rem := new(big.Int).QuoRem(a, bigTen, new(big.Int))
		if rem.Sign() != 0 {
			quo.Add(quo, big.NewInt(int64(a.Sign())))
		}
		a = quo
		scale++
	}
	r, err := fromBig(a, scale, f)
	if err != nil {
		return Quantity{v: math.MaxInt64, scale: 0, format: f}
	}
	return r
}

// Neg returns -q.
func (q Quantity) Neg() Quantity {
	if q.v == math.MinInt64 {
		return Quantity{v: math.MaxInt64, scale: q.scale, format: q.format}
	}
	return Quantity{v: -q.v, scale: q.scale, format: q.format}
}

// Value returns the value as an integer, rounded away from zero (as
// Kubernetes does), saturating at the int64 limits.
func (q Quantity) Value() int64 { return q.scaledValue(0) }

// MilliValue returns the value times 1000, rounded away from zero
// (saturating).
func (q Quantity) MilliValue() int64 { return q.scaledValue(-3) }

func (q Quantity) scaledValue(scale int32) int64 {
	if q.scale >= scale {
		n := q.bigAt(scale)
		if !n.IsInt64() {
			if n.Sign() < 0 {
				return math.MinInt64
			}
			return math.MaxInt64
		}
		return n.Int64()
	}
	div := new(big.Int).Exp(bigTen, big.NewInt(int64(scale-q.scale)), nil)
	quo, rem := new(big.Int).QuoRem(big.NewInt(q.v), div, new(big.Int))
	if rem.Sign() != 0 { // away from zero, as Kubernetes rounds
		quo.Add(quo, big.NewInt(int64(rem.Sign())))
	}
	return quo.Int64()
}

// String returns the canonical text: for BinarySI an integer that is a
// multiple of 1024 prints with the largest exact binary suffix ("1536Mi");
// otherwise the value prints with the largest decimal suffix (or exponent)
// that keeps the number an integer ("1500m", "2k", "1e3").
func (q Quantity) String() string {
	if q.v == 0 {
		return "0"
	}
	if q.format == BinarySI && q.scale >= 0 {
		if v, ok := mulPow10(q.v, q.scale); ok && (v >= 1024 || v <= -1024) {
			k := 0
			for k < len(binarySuffixes)-1 && v%1024 == 0 {
				v /= 1024
				k++
			}
			return strconv.FormatInt(v, 10) + binarySuffixes[k]
		}
	}
	e := q.scale
	if e%3 != 0 { // floor to a multiple of 3
		e -= ((e % 3) + 3) % 3
	}
	exponent := q.format == DecimalExponent
	if !exponent && e > 18 {
		e = 18
	}
	var mant string
	if m, ok := mulPow10(q.v, q.scale-e); ok {
		mant = strconv.FormatInt(m, 10)
	} else {
		mant = new(big.Int).Mul(big.NewInt(q.v), new(big.Int).Exp(bigTen, big.NewInt(int64(q.scale-e)), nil)).String()
	}
	if exponent {
		if e != 0 {
			return mant + "e" + strconv.Itoa(int(e))
		}
		return mant
	}
	return mant + decimalByExp[(e+9)/3]
}

// MarshalJSON encodes the canonical string.
func (q Quantity) MarshalJSON() ([]byte, error) {
	return strconv.AppendQuote(nil, q.String()), nil
}

// UnmarshalJSON accepts a quoted quantity, a bare JSON number, or null (0).
func (q *Quantity) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		*q = Quantity{}
		return nil
	}
	if len(s) >= 2 && s[0] == '"' {
		u, err := strconv.Unquote(s)
		if err != nil {
			return fmt.Errorf("%w: %s", ErrQuantity, err)
		}
		s = u
	}
	v, err := ParseQuantity(s)
	if err != nil {
		return err
	}
	*q = v
	return nil
}

// RoundUpMilli returns q rounded away from zero to a whole number of
// thousandths ("0.1m" becomes "1m"), as Kubernetes rounds resource lists
// when it stores them; a quantity that is already exact to 1m comes back
// unchanged, format included.
func (q Quantity) RoundUpMilli() Quantity {
	if q.scale >= -3 {
		return q
	}
	return normalize(q.scaledValue(-3), -3, q.format)
}
