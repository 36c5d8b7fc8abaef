//go:build !failpoints

package failpoint

import "log/slog"

// Enabled reports whether this build has failpoints (the failpoints tag).
const Enabled = false

// Hit runs the action armed at the point name. Without the failpoints tag
// it does nothing.
func Hit(name string) {}

// Err runs the action armed at the point name and returns the error of an
// error action. Without the failpoints tag it returns nil.
func Err(name string) error { return nil }

// Setup arms the points of INV_FAILPOINTS and serves INV_FAILPOINTS_HTTP.
// Without the failpoints tag it does nothing.
func Setup(log *slog.Logger) error { return nil }
