//go:build race

package framework

// raceEnabled reports whether the tests run with the race detector; the controller is then built
// with it too.
const raceEnabled = true
