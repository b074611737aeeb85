package cli

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
)

// The flag.Value types below mirror nwaku's (confutils) option types. Each String is
// canonical so that "value differs from its default" is a plain string comparison.

// lister marks repeatable flags: a TOML array is applied element by element.
type lister interface{ isList() }

// stringList is nwaku's seq[string]: every occurrence appends. check, when set, validates
// one element.
type stringList struct {
	vals  *[]string
	check func(string) error
}

func (l stringList) isList() {}

func (l stringList) String() string {
	if l.vals == nil {
		return ""
	}
	return strings.Join(*l.vals, ",")
}

func (l stringList) Set(s string) error {
	if l.check != nil {
		if err := l.check(s); err != nil {
			return err
		}
	}
	*l.vals = append(*l.vals, s)
	return nil
}

// uint16List is nwaku's seq[uint16] (--shard).
type uint16List struct{ vals *[]uint16 }

func (l uint16List) isList() {}

func (l uint16List) String() string {
	if l.vals == nil {
		return ""
	}
	parts := make([]string, len(*l.vals))
	for i, v := range *l.vals {
		parts[i] = strconv.FormatUint(uint64(v), 10)
	}
	return strings.Join(parts, ",")
}

func (l uint16List) Set(s string) error {
	v, err := parseUint(s, 16)
	if err != nil {
		return err
	}
	*l.vals = append(*l.vals, uint16(v))
	return nil
}

// uintValue is an unsigned integer of a fixed width (uint16, Port, uint32, uint), so that
// 70000 for a port is an error instead of a silent wrap.
type uintValue[T uint16 | uint32 | uint] struct{ p *T }

func (u uintValue[T]) String() string {
	if u.p == nil {
		return "0"
	}
	return strconv.FormatUint(uint64(*u.p), 10)
}

func (u uintValue[T]) Set(s string) error {
	var zero T
	bits := 64
	switch any(zero).(type) {
	case uint16:
		bits = 16
	case uint32:
		bits = 32
	}
	v, err := parseUint(s, bits)
	if err != nil {
		return err
	}
	*u.p = T(v)
	return nil
}

func parseUint(s string, bits int) (uint64, error) {
	v, err := strconv.ParseUint(strings.TrimSpace(s), 10, bits)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
			return 0, fmt.Errorf("out of range for uint%d (max %d)", bits, uint64(1)<<bits-1)
		}
		return 0, errors.New("not an unsigned integer")
	}
	return v, nil
}

// optInt is nwaku's Option[int]: unset unless given.
type optInt struct{ p **int }

func (o optInt) String() string {
	if o.p == nil || *o.p == nil {
		return ""
	}
	return strconv.Itoa(**o.p)
}

func (o optInt) Set(s string) error {
	v, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return errors.New("not an integer")
	}
	*o.p = &v
	return nil
}

// optBool is nwaku's Option[bool]: a boolean flag (--x means --x=true) that remembers
// whether it was given at all.
type optBool struct{ p **bool }

func (o optBool) IsBoolFlag() bool { return true }

func (o optBool) String() string {
	if o.p == nil || *o.p == nil {
		return ""
	}
	return strconv.FormatBool(**o.p)
}

func (o optBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return errors.New("not a boolean")
	}
	*o.p = &v
	return nil
}

// ipValue is nwaku's IpAddress: an IPv4 or IPv6 literal, no host names.
type ipValue struct{ p *string }

func (v ipValue) String() string {
	if v.p == nil {
		return ""
	}
	return *v.p
}

func (v ipValue) Set(s string) error {
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil {
		return errors.New("not an IP address")
	}
	*v.p = a.String()
	return nil
}

// sizeValue is --max-msg-size: nwaku's parseMsgSize accepts a decimal number ("," or "."
// as separator) followed by B, KB (1000) or KiB (1024), case-insensitive, spaces allowed.
// We also accept MB and MiB; nwaku does not, so an nwaku command line still parses the same.
// The string form is kept as given (nwaku's option is a string); Bytes holds the value.
type sizeValue struct {
	text  *string
	bytes *int
}

func (v sizeValue) String() string {
	if v.text == nil {
		return ""
	}
	return *v.text
}

func (v sizeValue) Set(s string) error {
	n, err := ParseSize(s)
	if err != nil {
		return err
	}
	*v.text, *v.bytes = s, n
	return nil
}

var sizeUnits = []struct {
	suffix string
	mult   float64
}{ // longest suffix first so "kib" is not read as "b"
	{"kib", 1024}, {"mib", 1024 * 1024}, {"kb", 1000}, {"mb", 1000 * 1000}, {"b", 1},
}

// ParseSize parses a message size such as "150KiB", "1.5 KB" or "1024 B" into bytes.
func ParseSize(s string) (int, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	for _, u := range sizeUnits {
		num, ok := strings.CutSuffix(t, u.suffix)
		if !ok {
			continue
		}
		num = strings.ReplaceAll(strings.TrimSpace(num), ",", ".")
		if num == "" || strings.ContainsAny(num, "+-eEinfINFxX_") {
			break
		}
		f, err := strconv.ParseFloat(num, 64)
		if err != nil {
			break
		}
		b := f * u.mult
		if b < 1 {
			return 0, errors.New("size must be at least 1 B")
		}
		if b > math.MaxInt32 {
			return 0, errors.New("size above 2 GiB")
		}
		return int(b), nil
	}
	return 0, errors.New("not a size (want a number and a unit: B, KB, KiB, MB or MiB, e.g. 150KiB)")
}
