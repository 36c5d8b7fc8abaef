//go:build invariants

package engine

// With the invariants build tag, every batch ends with a full check: a
// broken invariant stops the process at the batch that broke it.
const invariantsOn = true
