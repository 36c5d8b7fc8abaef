package engine

import "sort"

// storeItems answers store_items: every item of a store, sorted by SKU, so
// that a storefront shows the availability of a store's whole shelf in one
// read instead of a get_item per SKU (docs/adr/0102). A store the shard
// has never seen has no items: the list is empty, not an error, as for a
// SKU in list_items.
func (s *state) storeItems(c *Command) Result {
	if !validID(c.Store) {
		return Result{Code: CodeBadRequest}
	}
	out := []ItemInfo{}
	if st := s.stores.find(string(c.Store)); st != nil {
		out = make([]ItemInfo, 0, len(st.items))
		for _, slot := range st.items {
			out = append(out, s.itemInfo(s.items.at(slot)))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].SKU < out[j].SKU })
	return Result{Items: out}
}
