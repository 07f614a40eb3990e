package gateway

import (
	"fmt"
	"strconv"
)

// ConfigFromEnv starts from DefaultConfig and applies the size bounds set in
// the environment: PLAZA_MAX_IDS (ids in `nodes(ids:)` and items per order)
// and PLAZA_MAX_FIRST (`first` on any connection). Each must be a positive
// integer. The request-level limits (complexity and the rest) are
// limits.ConfigFromEnv's.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := DefaultConfig()
	for _, v := range []struct {
		name string
		dst  *int
	}{{"PLAZA_MAX_IDS", &c.MaxIDs}, {"PLAZA_MAX_FIRST", &c.MaxFirst}} {
		s := getenv(v.name)
		if s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			return c, fmt.Errorf("%s=%q: want a positive integer", v.name, s)
		}
		*v.dst = n
	}
	return c, nil
}
