package limits

import (
	"testing"
	"time"
)

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		check   func(Config) bool
		wantErr bool
	}{
		{"no variables give the defaults", nil, func(c Config) bool { return c == DefaultConfig() }, false},
		{"a variable overrides its limit", map[string]string{"PLAZA_MAX_DEPTH": "7"}, func(c Config) bool { return c.MaxDepth == 7 && c.MaxAliases == DefaultConfig().MaxAliases }, false},
		{"a negative value disables the check", map[string]string{"PLAZA_MAX_COMPLEXITY": "-1"}, func(c Config) bool { return c.MaxComplexity == -1 }, false},
		{"the body limit takes large values", map[string]string{"PLAZA_MAX_BODY_BYTES": "8388608"}, func(c Config) bool { return c.MaxBodyBytes == 8<<20 }, false},
		{"a non-integer is refused", map[string]string{"PLAZA_MAX_TOKENS": "lots"}, nil, true},
		{"the body read timeout takes a duration", map[string]string{"PLAZA_BODY_READ_TIMEOUT": "3s"}, func(c Config) bool { return c.BodyReadTimeout == 3*time.Second }, false},
		{"a negative body read timeout disables it", map[string]string{"PLAZA_BODY_READ_TIMEOUT": "-1s"}, func(c Config) bool { return c.BodyReadTimeout < 0 }, false},
		{"a body read timeout without a unit is refused", map[string]string{"PLAZA_BODY_READ_TIMEOUT": "10"}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ConfigFromEnv(func(k string) string { return tt.env[k] })
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err == nil && !tt.check(c) {
				t.Fatalf("config %+v", c)
			}
		})
	}
}
