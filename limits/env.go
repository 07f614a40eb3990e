package limits

import (
	"fmt"
	"strconv"
	"time"
)

// EnvVars names the environment variable of each limit, for ConfigFromEnv
// and the README's table.
var EnvVars = []struct {
	Name string
	set  func(*Config, int64)
}{
	{"PLAZA_MAX_BODY_BYTES", func(c *Config, v int64) { c.MaxBodyBytes = v }},
	{"PLAZA_MAX_VARIABLES_BYTES", func(c *Config, v int64) { c.MaxVariablesBytes = int(v) }},
	{"PLAZA_MAX_TOKENS", func(c *Config, v int64) { c.MaxTokens = int(v) }},
	{"PLAZA_MAX_DEPTH", func(c *Config, v int64) { c.MaxDepth = int(v) }},
	{"PLAZA_MAX_ALIASES", func(c *Config, v int64) { c.MaxAliases = int(v) }},
	{"PLAZA_MAX_ROOT_FIELDS", func(c *Config, v int64) { c.MaxRootFields = int(v) }},
	{"PLAZA_MAX_OPERATIONS", func(c *Config, v int64) { c.MaxOperations = int(v) }},
	{"PLAZA_MAX_FIELD_REPEATS", func(c *Config, v int64) { c.MaxFieldRepeats = int(v) }},
	{"PLAZA_MAX_COMPLEXITY", func(c *Config, v int64) { c.MaxComplexity = int(v) }},
	{"PLAZA_MAX_INFLIGHT", func(c *Config, v int64) { c.MaxInFlight = int(v) }},
	{"PLAZA_MAX_BATCH", func(c *Config, v int64) { c.MaxBatch = int(v) }},
	{"PLAZA_MAX_BATCH_COMPLEXITY", func(c *Config, v int64) { c.MaxBatchComplexity = int(v) }},
}

// DurationEnvVars names the environment variable of each time limit, for
// ConfigFromEnv and the README's table.
var DurationEnvVars = []struct {
	Name string
	set  func(*Config, time.Duration)
}{
	{"PLAZA_BODY_READ_TIMEOUT", func(c *Config, v time.Duration) { c.BodyReadTimeout = v }},
}

// ConfigFromEnv starts from DefaultConfig and applies the variables in
// EnvVars and DurationEnvVars that are set. A value must be an integer (a
// duration such as 10s for DurationEnvVars); a negative one turns that check
// off.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := DefaultConfig()
	for _, e := range DurationEnvVars {
		s := getenv(e.Name)
		if s == "" {
			continue
		}
		v, err := time.ParseDuration(s)
		if err != nil || v == 0 {
			return c, fmt.Errorf("%s=%q: want a duration such as 10s (negative disables the check)", e.Name, s)
		}
		e.set(&c, v)
	}
	for _, e := range EnvVars {
		s := getenv(e.Name)
		if s == "" {
			continue
		}
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return c, fmt.Errorf("%s=%q: want an integer (negative disables the check)", e.Name, s)
		}
		e.set(&c, v)
	}
	return c, nil
}
