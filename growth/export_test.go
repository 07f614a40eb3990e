package growth

import "time"

// SetMarkMargin lets a test read exactly the windows changed since a mark
// (no margin for writes in flight: the test has none).
func SetMarkMargin(p *Postgres, d time.Duration) { p.margin = d }
