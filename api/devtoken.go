package api

import (
	"encoding/json"
	"net/http"
	"regexp"
	"time"

	"github.com/plaza-gateway/plaza/auth"
)

// devTokenTTL is how long a development sign-in lasts (as `plaza token`).
const devTokenTTL = 24 * time.Hour

// demoUser is what the development sign-in accepts: the demo users
// (demo-1 … demo-N), never a role such as OPERATOR.
var demoUser = regexp.MustCompile(`^demo-[1-9][0-9]{0,5}$`)

// devToken is the development sign-in (POST /dev/token {"user":"demo-1"}):
// it mints the token `plaza token --user demo-1` prints, for the app's
// sign-in screen. api.New mounts it only outside production, where users
// sign in with a real issuer (PLAZA_JWKS_URL).
func devToken(v *auth.Verifier) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			User string `json:"user"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<10)).Decode(&req); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "want a JSON body {\"user\": \"demo-1\"}"})
			return
		}
		if !demoUser.MatchString(req.User) {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "user must be a demo user, e.g. demo-1"})
			return
		}
		tok, err := v.Issue(req.User, devTokenTTL)
		if err != nil {
			// No HS256 secret (a JWKS-only gateway): it cannot mint tokens.
			writeJSON(w, http.StatusNotImplemented, map[string]string{"error": "this gateway cannot issue development tokens"})
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusOK, map[string]any{"token": tok, "user": req.User, "expiresIn": int(devTokenTTL.Seconds())})
	})
}
