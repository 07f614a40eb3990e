package gateway

import "testing"

func TestConfigFromEnv(t *testing.T) {
	for _, tc := range []struct {
		name       string
		env        map[string]string
		ids, first int
		wantErr    bool
	}{
		{"defaults", nil, 100, 100, false},
		{"set", map[string]string{"PLAZA_MAX_IDS": "1000", "PLAZA_MAX_FIRST": "50"}, 1000, 50, false},
		{"not a number", map[string]string{"PLAZA_MAX_IDS": "lots"}, 0, 0, true},
		{"zero", map[string]string{"PLAZA_MAX_FIRST": "0"}, 0, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ConfigFromEnv(func(k string) string { return tc.env[k] })
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if !tc.wantErr && (c.MaxIDs != tc.ids || c.MaxFirst != tc.first) {
				t.Fatalf("MaxIDs %d MaxFirst %d, want %d %d", c.MaxIDs, c.MaxFirst, tc.ids, tc.first)
			}
		})
	}
}
