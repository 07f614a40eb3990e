package connectors

// Status is how a provider is doing as the call policy sees it (its circuit
// breaker): the live health the schema shows as Provider.status. It is
// declared here, below both the gateway that reports it and the policy
// that judges it, so neither imports the other.
type Status string

const (
	StatusActive      Status = "ACTIVE"
	StatusDegraded    Status = "DEGRADED"
	StatusUnavailable Status = "UNAVAILABLE"
)
