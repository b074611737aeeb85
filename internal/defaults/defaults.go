// Package defaults fills the unset fields of config structs.
package defaults

import "time"

// Positive sets *v to d unless *v is already positive: the zero value (and a nonsensical
// negative one) of a size, count or interval means "the default".
func Positive[T int | int64 | float64 | time.Duration](v *T, d T) {
	if *v <= 0 {
		*v = d
	}
}
