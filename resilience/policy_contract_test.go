package resilience_test

import (
	"github.com/plaza-gateway/plaza/gateway"
	"github.com/plaza-gateway/plaza/resilience"
)

// The policy is the gateway's Policy and its source of provider status; the
// guard lives in a test so that the package itself does not import the
// gateway (TestNoGatewayImport).
var (
	_ gateway.Policy = (*resilience.Policy)(nil)
	_ gateway.Option = gateway.WithStatus((*resilience.Policy)(nil).Status)
)
