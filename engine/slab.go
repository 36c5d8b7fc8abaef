package engine

// slab is a growable array of T in fixed-size chunks. Growing never moves
// what is already there, so pointers into it stay valid: the undo journal of
// linked groups keeps such pointers, and the hot path keeps no other
// allocation than the occasional new chunk.
type slab[T any] struct {
	chunks []*[slabChunk]T
	n      uint32 // slots handed out
}

const (
	slabShift = 10
	slabChunk = 1 << slabShift
	slabMask  = slabChunk - 1
)

// at returns the slot i (which must be < n).
func (s *slab[T]) at(i uint32) *T { return &s.chunks[i>>slabShift][i&slabMask] }

// grow hands out the next slot, zeroed.
func (s *slab[T]) grow() uint32 {
	i := s.n
	if int(i>>slabShift) == len(s.chunks) {
		s.chunks = append(s.chunks, new([slabChunk]T))
	}
	s.n++
	var zero T
	*s.at(i) = zero
	return i
}

// len returns the number of slots handed out.
func (s *slab[T]) len() uint32 { return s.n }
