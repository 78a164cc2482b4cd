package api

// Add returns a new list with the sums of l and o, name by name.
func (l ResourceList) Add(o ResourceList) ResourceList {
	out := make(ResourceList, len(l)+len(o))
	for n, q := range l {
		out[n] = q
	}
	for n, q := range o {
		out[n] = out[n].Add(q)
	}
	return out
}
