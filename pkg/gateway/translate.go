package gateway

// Translate computes the Gateway API fragment of the configuration and the statuses.
func Translate(s State, o Options) Result {
	return Result{}
}
